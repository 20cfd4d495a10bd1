// The subcommands of the `synack` tool.
#pragma once

#include <string>
#include <vector>

namespace synack::tools {

int demo(const std::vector<std::string>& args);
int soak(const std::vector<std::string>& args);

}  // namespace synack::tools
