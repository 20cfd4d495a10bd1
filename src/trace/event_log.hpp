// A trace sink that writes one plain line per event: time, host, what happened. The
// simplest view of a run; the ladder renderer draws the same events as a picture.
#pragma once

#include <ostream>

#include "trace/trace.hpp"

namespace synack::trace {

class EventLog final : public Sink {
 public:
  explicit EventLog(std::ostream& out) : out_(out) {}

  void on_api(Instant at, Ipv4Address host, const ApiCall& call) override;
  void on_state(Instant at, const FourTuple& tuple, tcp::State from, tcp::State to,
                std::string_view cause) override;
  void on_packet(Instant at, Ipv4Address host, Direction dir, wire::Bytes packet,
                 std::string_view cause) override;
  void on_drop(Instant at, Ipv4Address host, wire::Bytes packet, std::string_view layer,
               std::string_view reason) override;
  void on_timer(Instant at, const FourTuple& tuple, std::string_view timer) override;

 private:
  void stamp(Instant at, Ipv4Address host);
  std::ostream& out_;
};

// "SYN+ACK seq=1 ack=2 win=65535 len=0 <mss 1460,ws 7>" for a TCP packet, or a short
// description of a UDP or ICMP one.
std::string describe_packet(wire::Bytes ipv4_packet);

}  // namespace synack::trace
