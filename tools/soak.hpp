// `synack soak`: the randomized soak over many seeds (see src/sim/soak.hpp).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

namespace synack::tools {

struct SoakOptions {
  std::uint64_t first = 1;   // the first seed
  std::uint64_t seeds = 20;  // how many
  bool verbose = false;      // a line for every seed, not only the failures
  std::string trace_file;    // the event log of the run(s), if set
};

// Runs the seeds; prints failures (each with the command that replays it) and a closing
// "N passed, N failed" line. Returns the process exit code.
int run_soak_command(const SoakOptions& options, std::ostream& out);

}  // namespace synack::tools
