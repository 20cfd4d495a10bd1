// Time as a value (DESIGN.md principle 2): the stack never reads a clock; every entry
// point takes `Instant now`. A simulator passes virtual time, the runtime passes real time.
#pragma once

#include <chrono>
#include <cstdint>

namespace synack {

// A clock tag with no now(): an Instant can only come from whoever drives the stack.
struct StackClock {
  using rep = std::int64_t;
  using period = std::nano;
  using duration = std::chrono::duration<rep, period>;
  using time_point = std::chrono::time_point<StackClock, duration>;
  static constexpr bool is_steady = true;
};

using Duration = StackClock::duration;   // nanoseconds
using Instant = StackClock::time_point;  // nanoseconds since the driver's epoch

constexpr Instant kEpoch{};

constexpr Duration nanoseconds(std::int64_t n) {
  return Duration{n};
}
constexpr Duration microseconds(std::int64_t n) {
  return std::chrono::microseconds{n};
}
constexpr Duration milliseconds(std::int64_t n) {
  return std::chrono::milliseconds{n};
}
constexpr Duration seconds(std::int64_t n) {
  return std::chrono::seconds{n};
}

// Nanoseconds since the epoch, for traces and pcap timestamps.
constexpr std::int64_t to_nanos(Instant t) {
  return t.time_since_epoch().count();
}
constexpr Instant from_nanos(std::int64_t n) {
  return Instant{Duration{n}};
}

}  // namespace synack

namespace synack {

// Where a stack learns the time for calls that come from the application (the trace needs
// to place `connect()` on the timeline). The simulator's network is one, the runtime's
// real-time driver another. The protocol core never reads a clock of its own.
class Clock {
 public:
  virtual Instant now() const = 0;

 protected:
  ~Clock() = default;
};

// A clock that moves only when told: tests, fuzz targets and the C ABI's virtual host.
class ManualClock final : public Clock {
 public:
  Instant now() const override { return now_; }
  void set(Instant t) { now_ = t; }

 private:
  Instant now_{};
};

}  // namespace synack
