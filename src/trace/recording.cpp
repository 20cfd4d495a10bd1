#include "trace/recording.hpp"

namespace synack::trace {

void Recording::name_host(Ipv4Address address, std::string name) {
  for (HostName& h : names_) {
    if (h.address == address) {
      h.name = std::move(name);
      return;
    }
  }
  names_.push_back({address, std::move(name)});
}

std::string_view Recording::host_name(Ipv4Address address) const {
  for (const HostName& h : names_) {
    if (h.address == address) return h.name;
  }
  return {};
}

void Recording::on_api(Instant at, Ipv4Address host, const ApiCall& call) {
  Event& e = events_.emplace_back();
  e.kind = Event::Kind::api;
  e.at = at;
  e.host = host;
  e.socket = call.socket;
  e.name = call.name;
  e.detail = call.detail;
  e.result = call.result;
  e.local = call.local;
}

void Recording::on_state(Instant at, const FourTuple& tuple, tcp::State from, tcp::State to,
                         std::string_view cause) {
  Event& e = events_.emplace_back();
  e.kind = Event::Kind::state;
  e.at = at;
  e.host = tuple.local.address;
  e.tuple = tuple;
  e.from = from;
  e.to = to;
  e.cause = cause;
}

void Recording::on_packet(Instant at, Ipv4Address host, Direction dir, wire::Bytes packet,
                          std::string_view cause) {
  Event& e = events_.emplace_back();
  e.kind = Event::Kind::packet;
  e.at = at;
  e.host = host;
  e.dir = dir;
  e.packet.assign(packet.begin(), packet.end());
  e.cause = cause;
}

void Recording::on_drop(Instant at, Ipv4Address host, wire::Bytes packet, std::string_view layer,
                        std::string_view reason) {
  Event& e = events_.emplace_back();
  e.kind = Event::Kind::drop;
  e.at = at;
  e.host = host;
  e.packet.assign(packet.begin(), packet.end());
  e.layer = layer;
  e.cause = reason;
}

void Recording::on_timer(Instant at, const FourTuple& tuple, std::string_view timer) {
  Event& e = events_.emplace_back();
  e.kind = Event::Kind::timer;
  e.at = at;
  e.host = tuple.local.address;
  e.tuple = tuple;
  e.name = timer;
}

}  // namespace synack::trace
