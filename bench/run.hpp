// One measurement of a benchmark scenario: the figure of one run, or why there is none.
// Every scenario (ours and each peer's) is a function returning a Run, so the runner
// (bench/runner.hpp) can repeat it, take the median and put it beside its peer.
#pragma once

#include <string>
#include <utility>

namespace synack::bench {

struct Run {
  double value = 0;     // the figure, in the scenario's unit
  std::string skipped;  // non-empty: no figure, and why (a package missing, not root)
  bool failed = false;  // the run went wrong (data corrupted, a call failed): `skipped` says how

  bool ok() const { return skipped.empty(); }
  static Run of(double value) { return Run{value, {}, false}; }
  static Run skip(std::string why) { return Run{0, std::move(why), false}; }
  static Run fail(std::string why) { return Run{0, std::move(why), true}; }
};

// Which way the bulk data flows across a TUN device or veth pair.
enum class Direction { ToKernel, FromKernel };

}  // namespace synack::bench
