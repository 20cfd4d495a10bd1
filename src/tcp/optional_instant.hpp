// An Instant or none, in 8 bytes where std::optional<Instant> takes 16: Instant::max(),
// which no clock reaches, stands for none. For the TCB's time stamps that may be unset
// (when retransmissions or window probes began); it reads as the optional it replaces.
#pragma once

#include <optional>

#include "synack/time.hpp"

namespace synack::tcp {

class OptionalInstant {
 public:
  constexpr OptionalInstant() = default;
  OptionalInstant& operator=(Instant t) {
    t_ = t;
    return *this;
  }
  void reset() { t_ = kNone; }
  explicit operator bool() const { return t_ != kNone; }
  Instant operator*() const { return t_; }
  operator std::optional<Instant>() const {  // NOLINT: reads as the optional it replaces
    return t_ == kNone ? std::nullopt : std::optional<Instant>(t_);
  }

 private:
  static constexpr Instant kNone = Instant::max();
  Instant t_ = kNone;
};

}  // namespace synack::tcp
