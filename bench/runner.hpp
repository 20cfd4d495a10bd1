// The runner of `synack bench`: each scenario pairs synack's figure with its peer's (the
// Linux kernel, lwIP), runs both in turn at least five times, and prints the median, min,
// max and the ratio, with a progress line while it works.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "bench/run.hpp"

namespace synack::bench {

// How hard each scenario works: Quick only proves it still runs (CI), Full is the real
// measurement BENCHMARKS.md records.
enum class Effort { Quick, Full };

struct Scenario {
  std::string id;     // short and stable, for --only: "bulk-1460"
  std::string title;  // what is measured, for the table
  std::string unit;   // "Gbit/s", "conn/s", "µs", "B/conn"
  bool higher_is_better = true;
  std::function<Run(Effort)> ours;
  std::string peer_name;            // "lwIP 2.1.3", "kernel loopback (cubic)"; empty: no peer
  std::function<Run(Effort)> peer;  // empty when the scenario has no peer
  std::string target;               // the target, as text: "≥ 25 Gbit/s, ≥ 3× lwIP"
};

struct Summary {
  int runs = 0;  // runs that gave a figure
  double median = 0, min = 0, max = 0;
  std::string skipped;  // why there is no figure, when runs == 0
  bool failed = false;  // some run failed (not merely skipped): `synack bench` exits non-zero
};

struct Result {
  const Scenario* scenario = nullptr;
  Summary ours, peer;
  // How many times better synack is than the peer: ours/peer when higher is better,
  // peer/ours when lower is; 0 when either has no figure.
  double advantage = 0;
};

struct RunnerOptions {
  int repetitions = 5;
  Effort effort = Effort::Full;
  std::vector<std::string> only;  // scenario ids; empty: all
};

Summary summarize(const std::vector<Run>& runs);

// Runs the scenarios in order, ours and the peer's alternately, writing a progress line to
// `progress` (rewritten in place when it is a terminal).
std::vector<Result> run_scenarios(const std::vector<Scenario>& scenarios,
                                  const RunnerOptions& options, std::ostream& progress,
                                  bool progress_is_terminal);

// The results as a Markdown table (the form BENCHMARKS.md keeps).
void print_table(const std::vector<Result>& results, int repetitions, std::ostream& out);

}  // namespace synack::bench
