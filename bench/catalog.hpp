// Every scenario `synack bench` runs, in the order of issue 9's list, each with its peer.
#pragma once

#include <vector>

#include "bench/runner.hpp"

namespace synack::bench {

std::vector<Scenario> catalog();

}  // namespace synack::bench
