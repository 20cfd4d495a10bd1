// JSON lines: one object per trace event, written as it happens, for scripts and notebooks.
//
//   {"t_ns":5000000,"host":"198.18.0.2","event":"state","local":"198.18.0.2:80",
//    "remote":"198.18.0.1:40723","from":"CLOSED","to":"SYN_RECEIVED","cause":"SYN received"}
//   {"t_ns":5000000,"host":"198.18.0.2","event":"packet","dir":"out","cause":"SYN received",
//    "proto":"tcp","src":"198.18.0.2:80","dst":"198.18.0.1:40723","flags":"SYN+ACK",
//    "seq":3115300804,"ack":3886175779,"win":65535,"len":0,"summary":"...","hex":"4500..."}
//
// Events: api (call, detail, result, socket, local), state, packet (dir, cause and the
// packet's fields), drop (layer, reason and the packet's fields), timer (timer, local,
// remote). Sequence numbers are raw; "hex" is the whole IPv4 packet.
#pragma once

#include <ostream>
#include <string>
#include <string_view>

#include "trace/trace.hpp"

namespace synack::trace {

class JsonLines final : public Sink {
 public:
  explicit JsonLines(std::ostream& out) : out_(out) {}

  void on_api(Instant at, Ipv4Address host, const ApiCall& call) override;
  void on_state(Instant at, const FourTuple& tuple, tcp::State from, tcp::State to,
                std::string_view cause) override;
  void on_packet(Instant at, Ipv4Address host, Direction dir, wire::Bytes packet,
                 std::string_view cause) override;
  void on_drop(Instant at, Ipv4Address host, wire::Bytes packet, std::string_view layer,
               std::string_view reason) override;
  void on_timer(Instant at, const FourTuple& tuple, std::string_view timer) override;

 private:
  std::ostream& out_;
};

// `text` as a JSON string, quotes included.
std::string json_string(std::string_view text);

}  // namespace synack::trace
