// Something the simulator drives in virtual time: a Stack, a raw test peer, an attacker.
#pragma once

#include <optional>

#include "synack/time.hpp"

namespace synack::sim {

class Node {
 public:
  virtual ~Node() = default;
  // Does all work due at `now`: drains received frames, fires timers, sends.
  virtual void poll(Instant now) = 0;
  // When the node next needs poll() with no frame arriving; nullopt when idle.
  virtual std::optional<Instant> next_deadline() const = 0;
};

}  // namespace synack::sim
