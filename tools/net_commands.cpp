#include "tools/net_commands.hpp"

#include <string_view>

namespace synack::tools {

std::optional<int> run_net_command(int argc, const char* const* argv) {
  if (argc < 2) return std::nullopt;
  const std::string_view command = argv[1];
  if (command == "netns") return netns(argc - 1, argv + 1);
  if (command == "serve") return serve(argc - 1, argv + 1);
  if (command == "connect") return connect(argc - 1, argv + 1);
  if (command == "get") return get(argc - 1, argv + 1);
  return std::nullopt;
}

}  // namespace synack::tools
