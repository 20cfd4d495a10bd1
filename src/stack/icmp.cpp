// ICMP (RFC 792): echo requests answered; destination unreachable sent for closed UDP
// ports (port) and for transports we do not have (protocol), parameter problem for broken IP
// options, time exceeded for a datagram not reassembled in time; a port unreachable received
// is delivered as connection_refused to a connected UDP socket (RFC 1122 §4.1.3.3).
#include <algorithm>

#include "stack/stack_impl.hpp"
#include "wire/icmp.hpp"
#include "wire/udp.hpp"

namespace synack {
namespace {
constexpr std::size_t kIp = 20;
}

void Stack::Impl::send_port_unreachable(const wire::Ipv4View& ip) {
  send_destination_unreachable(ip, wire::kIcmpPortUnreachable);
}

void Stack::Impl::send_destination_unreachable(const wire::Ipv4View& ip, std::uint8_t code) {
  const std::size_t len = wire::write_icmp_destination_unreachable(
      wire::MutableBytes(tx.data() + kIp, tx.size() - kIp), code, ip.packet());
  if (len == 0) return;
  ++counters.icmp.out_dest_unreachs;
  send_ip(ip.src(), wire::kIcmp, len,
          code == wire::kIcmpPortUnreachable ? "port unreachable" : "protocol unreachable");
}

void Stack::Impl::send_parameter_problem(const wire::Ipv4View& ip, std::uint8_t pointer) {
  const std::size_t len = wire::write_icmp_parameter_problem(
      wire::MutableBytes(tx.data() + kIp, tx.size() - kIp), pointer, ip.packet());
  if (len == 0) return;
  ++counters.icmp.out_parm_probs;
  send_ip(ip.src(), wire::kIcmp, len, "parameter problem");
}

bool Stack::Impl::may_send_icmp_error_about(const wire::Ipv4View& ip) {
  if (ip.fragment_offset() != 0) return false;
  if (ip.protocol() != wire::kIcmp) return true;
  // Only a query (echo, timestamp ...) may be answered with an error; an unknown type
  // might be an error too, and a message too short to say gets nothing either.
  if (ip.payload().empty()) return false;
  const std::uint8_t type = ip.payload()[0];
  return type == wire::kIcmpEchoRequest || type == wire::kIcmpEchoReply || type == 13 ||
         type == 14;  // timestamp request and reply
}

void Stack::Impl::icmp_input(const wire::Ipv4View& ip) {
  auto parsed = wire::IcmpView::parse(ip.payload());
  if (!parsed) {
    ++counters.icmp.in_errors;
    drop(ip.packet(), "icmp", wire::to_string(parsed.error()));
    return;
  }
  ++counters.icmp.in_msgs;
  const wire::IcmpView& icmp = *parsed;
  if (icmp.type() == wire::kIcmpEchoRequest) {
    ++counters.icmp.in_echos;
    const std::size_t len =
        wire::write_icmp_echo_reply(wire::MutableBytes(tx.data() + kIp, tx.size() - kIp), icmp);
    if (len == 0) return;
    ++counters.icmp.out_echo_reps;
    send_ip(ip.src(), wire::kIcmp, len, "echo reply");
    return;
  }
  // Source quench is dropped silently [RFC9293 MUST-55]; no ICMP error aborts a TCP
  // connection [RFC9293 MUST-56].
  if (icmp.type() != wire::kIcmpDestinationUnreachable) return;
  ++counters.icmp.in_dest_unreachs;
  // The quoted datagram names the socket: our source port, their address and port.
  auto quoted = icmp.quoted_ipv4();
  if (!quoted || quoted->protocol() != wire::kUdp || quoted->payload().size() < 8) return;
  const wire::Bytes udp = quoted->payload();
  const std::uint16_t src_port = wire::load_be16(udp.data());
  const std::uint16_t dst_port = wire::load_be16(udp.data() + 2);
  const auto it = udp_ports.find(src_port);
  if (it == udp_ports.end()) return;
  SocketSlot& s = sockets[static_cast<std::size_t>(it->second)];
  // Only a connected socket hears of it (as on Linux, unless IP_RECVERR is set).
  if (s.udp->remote && s.udp->remote->address == quoted->dst() && s.udp->remote->port == dst_port &&
      icmp.code() == wire::kIcmpPortUnreachable) {
    s.udp->error = std::make_error_code(std::errc::connection_refused);
  }
}

}  // namespace synack
