// A sink that keeps every event, with a copy of each packet, so that a renderer can draw
// the whole run at the end: the ladder needs to know a segment's fate (arrived, dropped)
// when it draws the arrow. Hosts can be given names ("client", "server") for the picture.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "trace/trace.hpp"

namespace synack::trace {

// One trace event, flattened: `kind` says which fields mean something.
struct Event {
  enum class Kind : std::uint8_t { api, state, packet, drop, timer };
  Kind kind = Kind::api;
  Instant at{};
  Ipv4Address host;  // the stack that reported it (for state and timer: tuple.local)

  // api
  int socket = -1;
  std::string name;    // "connect"; for a timer, the timer's name ("retransmit")
  std::string detail;  // the call's arguments
  std::string result;  // "= 0", "Connection refused"
  Endpoint local;      // the socket's own address when the call returned

  // state and timer
  FourTuple tuple;
  tcp::State from{};
  tcp::State to{};

  // state, packet: why. drop: the reason it was dropped.
  std::string cause;
  // packet, drop
  Direction dir = Direction::out;
  std::vector<std::uint8_t> packet;
  std::string layer;  // drop: "ip", "tcp", "udp"; "link" for the network itself
};

// The layer name a drop by the network (not by a stack) is reported under.
inline constexpr std::string_view kLinkLayer = "link";

struct HostName {
  Ipv4Address address;
  std::string name;
};

class Recording final : public Sink {
 public:
  // Names a host for the ladder's column headings; hosts named first stand leftmost.
  void name_host(Ipv4Address address, std::string name);
  const std::vector<HostName>& host_names() const { return names_; }
  // The name given to `address`, or "" if none.
  std::string_view host_name(Ipv4Address address) const;

  const std::vector<Event>& events() const { return events_; }
  void clear() { events_.clear(); }

  void on_api(Instant at, Ipv4Address host, const ApiCall& call) override;
  void on_state(Instant at, const FourTuple& tuple, tcp::State from, tcp::State to,
                std::string_view cause) override;
  void on_packet(Instant at, Ipv4Address host, Direction dir, wire::Bytes packet,
                 std::string_view cause) override;
  void on_drop(Instant at, Ipv4Address host, wire::Bytes packet, std::string_view layer,
               std::string_view reason) override;
  void on_timer(Instant at, const FourTuple& tuple, std::string_view timer) override;

 private:
  std::vector<Event> events_;
  std::vector<HostName> names_;
};

}  // namespace synack::trace
