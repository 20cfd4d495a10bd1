// The randomized soak: each seed draws a fault mix for the network and a behaviour for the
// applications (write sizes, read pauses, half-closes, aborts), runs connections through
// it, and checks the invariants every run must keep: bytes arrive exact and in order, every
// connection ends cleanly or with the right error, and nothing is left behind (no
// connection, no armed timer). A failure names its seed, and the same seed replays it.
#pragma once

#include <cstdint>
#include <string>

#include "synack/time.hpp"
#include "trace/trace.hpp"

namespace synack::sim {

struct SoakResult {
  bool ok = false;
  std::string failure;      // why not, when !ok
  std::string description;  // the fault mix and behaviour the seed drew
  std::uint64_t bytes = 0;  // bytes delivered and verified
  Duration virtual_time{};  // simulated time the run took
};

// `sink`, if given, sees every event of both hosts.
SoakResult run_soak(std::uint64_t seed, trace::Sink* sink = nullptr);

}  // namespace synack::sim
