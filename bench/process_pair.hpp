// Two forked processes, each running one side of a benchmark, pinned to a CPU of its own:
// the shape of issue 10's figures, which compare two processes over synack's shared-memory
// link with two processes over the kernel's loopback. Each side returns a number (a time
// stamp, a count) or why it failed; the parent collects both through pipes, and kills and
// reaps both children when the run outlasts its limit, so a stuck side fails the run
// instead of hanging it.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "base/result.hpp"

namespace synack::bench {

// One side's outcome: its figure, or why it has none.
using SideResult = synack::Result<double, std::string>;

struct PairPlan {
  std::function<SideResult()> first, second;  // run in the children, after pinning
  std::optional<int> first_cpu, second_cpu;   // nullopt: not pinned
  std::chrono::milliseconds limit{60000};
};

struct PairResult {
  double first = 0, second = 0;
};

// Forks both sides and waits for their figures. Anything set up before the call (a
// listening socket, a shared-memory region) is inherited by both children.
synack::Result<PairResult, std::string> run_process_pair(const PairPlan& plan);

// The monotonic clock in nanoseconds, comparable between the processes of one machine.
double monotonic_ns();

}  // namespace synack::bench
