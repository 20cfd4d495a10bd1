// The trace sink: every layer reports what it did and why through this one interface
// (DESIGN.md principle 9). Renderers (ladder, SVG, JSON, pcap) implement it. With no sink
// attached the stack skips building events, so tracing costs nothing when off.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include "synack/endpoint.hpp"
#include "synack/time.hpp"
#include "tcp/state.hpp"
#include "wire/bytes.hpp"

namespace synack::trace {

enum class Direction : std::uint8_t { in, out };

// A socket call as the application made it, with what it returned.
struct ApiCall {
  int socket = -1;
  std::string_view name;  // "connect", "accept", "read", ...
  std::string detail;     // arguments, e.g. "198.18.0.2:80" or "18 bytes"
  std::string result;     // "= 0", "= 4", "EAGAIN", "in progress"
  Endpoint local;         // the socket's own address, to place the call in a ladder column
};

class Sink {
 public:
  virtual ~Sink() = default;
  // `host` is the stack's own address: one sink may watch several stacks.
  virtual void on_api(Instant, Ipv4Address /*host*/, const ApiCall&) {}
  virtual void on_state(Instant, const FourTuple&, tcp::State /*from*/, tcp::State /*to*/,
                        std::string_view /*cause*/) {}
  // One IPv4 packet in or out of the stack, with why it was sent ("retransmit: RTO").
  virtual void on_packet(Instant, Ipv4Address /*host*/, Direction, wire::Bytes /*packet*/,
                         std::string_view /*cause*/) {}
  // A packet the stack dropped, with the layer and reason it was counted under.
  virtual void on_drop(Instant, Ipv4Address /*host*/, wire::Bytes /*packet*/,
                       std::string_view /*layer*/, std::string_view /*reason*/) {}
  virtual void on_timer(Instant, const FourTuple&, std::string_view /*timer*/) {}
};

}  // namespace synack::trace
