// Real time for a stack on a real link: the monotonic clock, counted from when this clock
// was made (so a trace or pcap starts near zero). Only src/runtime reads it.
#pragma once

#include <chrono>

#include "synack/time.hpp"

namespace synack::runtime {

class SteadyClock final : public Clock {
 public:
  using Steady = std::chrono::steady_clock;

  SteadyClock() : start_(Steady::now()) {}

  Instant now() const override {
    return kEpoch + std::chrono::duration_cast<Duration>(Steady::now() - start_);
  }
  // The steady-clock time point of an Instant, for condition_variable::wait_until.
  Steady::time_point to_steady(Instant t) const {
    return start_ + std::chrono::duration_cast<Steady::duration>(t - kEpoch);
  }
  // The wall-clock time of the epoch, for pcap timestamps a person can read.
  std::chrono::system_clock::time_point wall_epoch() const { return wall_start_; }

 private:
  Steady::time_point start_;
  std::chrono::system_clock::time_point wall_start_ = std::chrono::system_clock::now();
};

}  // namespace synack::runtime
