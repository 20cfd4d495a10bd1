#include "trace/event_log.hpp"

#include <cstdio>
#include <string>

#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"
#include "wire/udp.hpp"

namespace synack::trace {

std::string describe_packet(wire::Bytes bytes) {
  auto ip = wire::Ipv4View::parse(bytes);
  if (!ip) return "malformed IPv4 (" + std::string(wire::to_string(ip.error())) + ")";
  if (ip->protocol() == wire::kTcp) {
    auto tcp = wire::TcpView::parse(ip->payload());
    if (!tcp) return "malformed TCP";
    std::string s = wire::to_string(tcp->flags()) + " " + std::to_string(tcp->src_port()) + ">" +
                    std::to_string(tcp->dst_port()) + " seq=" + std::to_string(tcp->seq());
    if (tcp->flags().has(wire::TcpFlags::ack)) s += " ack=" + std::to_string(tcp->ack());
    s += " win=" + std::to_string(tcp->window()) + " len=" + std::to_string(tcp->payload().size());
    const wire::TcpOptions o = tcp->options();
    std::string opts;
    auto add = [&](const std::string& x) { opts += (opts.empty() ? "" : ",") + x; };
    if (o.mss) add("mss " + std::to_string(*o.mss));
    if (o.sack_permitted) add("sackOK");
    if (o.timestamps) add("ts " + std::to_string(o.timestamps->tsval));
    if (o.window_scale) add("ws " + std::to_string(*o.window_scale));
    for (const auto& b : o.sacks())
      add("sack " + std::to_string(b.left) + ":" + std::to_string(b.right));
    if (!opts.empty()) s += " <" + opts + ">";
    return s;
  }
  if (ip->protocol() == wire::kUdp) {
    auto udp = wire::UdpView::parse(ip->payload());
    if (!udp) return "malformed UDP";
    return "UDP " + std::to_string(udp->src_port()) + ">" + std::to_string(udp->dst_port()) +
           " len=" + std::to_string(udp->payload().size());
  }
  if (ip->protocol() == wire::kIcmp) {
    auto icmp = wire::IcmpView::parse(ip->payload());
    if (!icmp) return "malformed ICMP";
    return "ICMP type=" + std::to_string(icmp->type()) + " code=" + std::to_string(icmp->code());
  }
  return "IP protocol " + std::to_string(ip->protocol());
}

void EventLog::stamp(Instant at, Ipv4Address host) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%12.3f ms  ", static_cast<double>(to_nanos(at)) / 1e6);
  out_ << buf << host.to_string() << "  ";
}

void EventLog::on_api(Instant at, Ipv4Address host, const ApiCall& call) {
  stamp(at, host);
  out_ << call.name << "(" << call.detail << ") " << call.result << "\n";
}

void EventLog::on_state(Instant at, const FourTuple& t, tcp::State from, tcp::State to,
                        std::string_view cause) {
  stamp(at, t.local.address);
  out_ << t.local.port << "<>" << t.remote.to_string() << "  " << tcp::to_string(from) << " -> "
       << tcp::to_string(to) << "  [" << cause << "]\n";
}

void EventLog::on_packet(Instant at, Ipv4Address host, Direction dir, wire::Bytes packet,
                         std::string_view cause) {
  stamp(at, host);
  out_ << (dir == Direction::out ? "send " : "recv ") << describe_packet(packet);
  if (!cause.empty()) out_ << "  [" << cause << "]";
  out_ << "\n";
}

void EventLog::on_drop(Instant at, Ipv4Address host, wire::Bytes packet, std::string_view layer,
                       std::string_view reason) {
  stamp(at, host);
  out_ << "drop " << describe_packet(packet) << "  [" << layer << ": " << reason << "]\n";
}

void EventLog::on_timer(Instant at, const FourTuple& t, std::string_view timer) {
  stamp(at, t.local.address);
  out_ << "timer " << timer << " fired (" << t.local.port << "<>" << t.remote.to_string() << ")\n";
}

}  // namespace synack::trace
