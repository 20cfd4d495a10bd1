#include "tools/bench.hpp"

#include <algorithm>
#include <ostream>

#include "bench/catalog.hpp"

namespace synack::tools {

int run_bench_command(const BenchOptions& options, std::ostream& out, std::ostream& progress,
                      bool progress_is_terminal) {
  const auto scenarios = bench::catalog();
  if (options.list) {
    for (const auto& s : scenarios) {
      out << s.id << "  " << s.title << (s.peer ? " (peer: " + s.peer_name + ")" : "") << "\n";
    }
    return 0;
  }
  for (const auto& id : options.runner.only) {
    if (std::none_of(scenarios.begin(), scenarios.end(),
                     [&](const auto& s) { return s.id == id; })) {
      out << "synack bench: no scenario named '" << id << "' (--list names them)\n";
      return 1;
    }
  }
  const auto results =
      bench::run_scenarios(scenarios, options.runner, progress, progress_is_terminal);
  bench::print_table(results, options.runner.repetitions, out);
  const bool failed = std::any_of(results.begin(), results.end(), [](const bench::Result& r) {
    return r.ours.failed || r.peer.failed;
  });
  return failed ? 1 : 0;
}

}  // namespace synack::tools
