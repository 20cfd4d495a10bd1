// The Link interface: one medium that carries IPv4 packets (no link-layer header).
// Every medium implements it: the simulator, a TUN device, shared memory. Decorators
// (capture, fault injection) are Links around a Link, so they compose in any order.
#pragma once

#include <cstddef>
#include <optional>

#include "synack/time.hpp"
#include "wire/bytes.hpp"

namespace synack::link {

// Receives frames from a Link. The bytes are valid only during the call.
class FrameSink {
 public:
  virtual void on_frame(wire::Bytes frame, Instant arrived) = 0;

 protected:
  ~FrameSink() = default;
};

class Link {
 public:
  virtual ~Link() = default;

  // Hands one frame to the medium. The medium copies what it keeps: the caller's buffer
  // is free again when send returns. A medium that cannot take the frame drops and counts it.
  virtual void send(wire::Bytes frame, Instant now) = 0;

  // Delivers, in arrival order, up to `budget` frames that have arrived by `now`.
  // Returns how many were delivered.
  virtual std::size_t receive(Instant now, FrameSink& sink, std::size_t budget) = 0;

  // The largest frame the medium carries, in bytes (the IP MTU).
  virtual std::size_t mtu() const = 0;

  // For a real-time driver (src/runtime), which sleeps until one of these says there is
  // work. A file descriptor that polls readable when frames may be waiting, -1 for none.
  virtual int poll_fd() const { return -1; }
  // When frames the medium holds back (a fault injector's delayed frames) are next due,
  // nullopt when none are: no file descriptor announces them. Decorators forward both.
  virtual std::optional<Instant> next_arrival() const { return std::nullopt; }
};

}  // namespace synack::link
