// IPv4 input (RFC 791, RFC 1122 §3.2.1): validate, check it is for us, hand it to TCP,
// UDP or ICMP. Every drop is counted with its reason and shown to the trace.
#include "stack/stack_impl.hpp"
#include "wire/icmp.hpp"

namespace synack {

void Stack::Impl::drop(wire::Bytes packet, std::string_view layer, std::string_view reason) {
  if (trace) trace->on_drop(now, config.address, packet, layer, reason);
}

void Stack::Impl::on_frame(wire::Bytes frame, Instant /*arrived*/) {
  ++counters.ip.in_receives;
  auto parsed = wire::Ipv4View::parse(frame);
  if (!parsed) {
    const wire::ParseError e = parsed.error();
    if (e == wire::ParseError::bad_checksum) {
      ++counters.ip.in_bad_checksum;
    } else {
      ++counters.ip.in_hdr_errors;
    }
    drop(frame, "ip", wire::to_string(e));
    return;
  }
  const wire::Ipv4View& ip = *parsed;
  // Broadcast and multicast destinations land here too [RFC9293 MUST-57].
  if (ip.dst() != config.address) {
    ++counters.ip.in_addr_errors;
    drop(frame, "ip", "not our address");
    return;
  }
  const Ipv4Address src = ip.src();
  // RFC 1122 §3.2.1.3: a source that is broadcast, multicast, unspecified, loopback (127/8
  // "MUST NOT appear outside a host") or our own address (a LAND attack) is never a real
  // peer, and such a datagram MUST be silently discarded [RFC9293 MUST-63].
  if (src.is_broadcast() || src.is_multicast() || src.is_unspecified() || src.is_loopback() ||
      src == config.address) {
    ++counters.ip.in_bad_source;
    drop(frame, "ip", "bad source address");
    return;
  }
  if (ip.is_fragment()) {
    ++counters.ip.in_fragments;
    drop(frame, "ip", "fragment (no reassembly)");
    return;
  }
  // IP options were skipped by the parser; TCP ignores them [RFC9293 MUST-50].
  if (trace) trace->on_packet(now, config.address, trace::Direction::in, frame, "");
  switch (ip.protocol()) {
    case wire::kTcp:
      ++counters.ip.in_delivers;
      tcp_input(ip);
      break;
    case wire::kUdp:
      ++counters.ip.in_delivers;
      udp_input(ip);
      break;
    case wire::kIcmp:
      ++counters.ip.in_delivers;
      icmp_input(ip);
      break;
    default:
      // RFC 1122 §3.2.2.1: a host SHOULD answer a transport it lacks with protocol
      // unreachable (as Linux does). Sources that may not be answered were dropped above.
      ++counters.ip.in_unknown_protos;
      drop(frame, "ip", "unknown protocol");
      send_destination_unreachable(ip, wire::kIcmpProtocolUnreachable);
      break;
  }
}

void Stack::Impl::send_ip(Ipv4Address dst, std::uint8_t protocol, std::size_t length,
                          std::string_view cause) {
  wire::Ipv4Header h;
  h.src = config.address;
  h.dst = dst;
  h.protocol = protocol;
  h.id = ip_id++;
  const std::size_t header = wire::write_ipv4_header(wire::MutableBytes(tx.data(), 20), h, length);
  const wire::Bytes frame(tx.data(), header + length);
  ++counters.ip.out_requests;
  if (trace) trace->on_packet(now, config.address, trace::Direction::out, frame, cause);
  link.send(frame, now);
}

}  // namespace synack
