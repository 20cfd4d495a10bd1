// `synack bench`: runs the benchmark scenarios (bench/catalog) with their peers and prints
// the results table.
#pragma once

#include <iosfwd>

#include "bench/runner.hpp"

namespace synack::tools {

struct BenchOptions {
  bench::RunnerOptions runner;
  bool list = false;
};

// Exit status: 0, or 1 when a run failed (as opposed to being skipped) or --only named
// an unknown scenario.
int run_bench_command(const BenchOptions& options, std::ostream& out, std::ostream& progress,
                      bool progress_is_terminal);

}  // namespace synack::tools
