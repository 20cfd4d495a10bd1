// IPv4 input (RFC 791, RFC 1122 §3.2.1): validate, check it is for us, hand it to TCP,
// UDP or ICMP, fragments through reassembly (src/ip/reassembly.hpp) first. Every drop is
// counted with its reason and shown to the trace.
#include "stack/stack_impl.hpp"
#include "wire/icmp.hpp"

namespace synack {

void Stack::Impl::drop(wire::Bytes packet, std::string_view layer, std::string_view reason) {
  if (trace) trace->on_drop(now, config.address, packet, layer, reason);
}

void Stack::Impl::on_trusted_frame(wire::Bytes frame, Instant arrived) {
  rx_checksum_trusted = true;
  on_frame(frame, arrived);
  rx_checksum_trusted = false;
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
  // RFC 1122 §3.2.1.3: a source that is broadcast (limited, or our subnet's directed
  // broadcast), multicast, unspecified, loopback (127/8 "MUST NOT appear outside a host"),
  // our subnet's network address (host number 0 is no host's) or our own address (a LAND
  // attack) is never a real peer, and such a datagram MUST be silently discarded
  // [RFC9293 MUST-63].
  if (src.is_broadcast() || src.is_multicast() || src.is_unspecified() || src.is_loopback() ||
      src == config.address || is_subnet_broadcast_or_network(src)) {
    ++counters.ip.in_bad_source;
    drop(frame, "ip", "bad source address");
    return;
  }
  // RFC 791 §3.1: options are EOL, NOP or type-length-value within the header. The values
  // are not interpreted (TCP ignores them [RFC9293 MUST-50]), but a list that cannot be
  // walked means a broken header: dropped with a parameter problem pointing at the octet
  // (RFC 1122 §3.2.2.5 SHOULD; as Linux does).
  if (const auto bad = wire::ipv4_bad_option(ip.options())) {
    ++counters.ip.in_hdr_errors;
    drop(frame, "ip", "bad IP option length");
    if (may_send_icmp_error_about(ip)) {
      send_parameter_problem(ip, static_cast<std::uint8_t>(*bad));
    }
    return;
  }
  if (ip.is_fragment()) {
    reassemble(ip);
    return;
  }
  if (trace) trace->on_packet(now, config.address, trace::Direction::in, frame, "");
  deliver(ip);
}

bool Stack::Impl::is_subnet_broadcast_or_network(Ipv4Address a) const {
  // A /31 (RFC 3021) or /32 has neither address; a /0 has only the limited broadcast.
  const unsigned prefix = config.prefix_length;
  if (prefix == 0 || prefix >= 31) return false;
  const std::uint32_t host_mask = ~std::uint32_t{0} >> prefix;
  if ((a.to_u32() & ~host_mask) != (config.address.to_u32() & ~host_mask)) return false;
  const std::uint32_t host = a.to_u32() & host_mask;
  return host == 0 || host == host_mask;
}

void Stack::Impl::reassemble(const wire::Ipv4View& fragment) {
  ++counters.ip.reasm_reqds;
  const ip::FragmentOutcome outcome = reasm.add(fragment, now);
  switch (outcome) {
    case ip::FragmentOutcome::held:
      if (trace) {
        trace->on_packet(now, config.address, trace::Direction::in, fragment.packet(),
                         ip::to_string(outcome));
      }
      return;
    case ip::FragmentOutcome::duplicate:
      ++counters.ip.reasm_duplicates;
      drop(fragment.packet(), "ip", ip::to_string(outcome));
      return;
    case ip::FragmentOutcome::complete:
      break;
    default:
      ++counters.ip.reasm_fails;
      if (outcome == ip::FragmentOutcome::overlap) ++counters.ip.reasm_overlaps;
      drop(fragment.packet(), "ip", ip::to_string(outcome));
      return;
  }
  ++counters.ip.reasm_oks;
  if (trace) {
    trace->on_packet(now, config.address, trace::Direction::in, fragment.packet(),
                     ip::to_string(outcome));
  }
  // Rebuilt from checked fragments with a fresh checksum, it parses; if it did not, that
  // would be a bug to see in the trace rather than a crash.
  const auto whole = wire::Ipv4View::parse(reasm.datagram());
  if (!whole) {
    drop(reasm.datagram(), "ip", wire::to_string(whole.error()));
    return;
  }
  if (trace) {
    trace->on_packet(now, config.address, trace::Direction::in, whole->packet(),
                     "reassembled from " + std::to_string(reasm.fragments_joined()) + " fragments");
  }
  deliver(*whole);
}

void Stack::Impl::expire_fragments() {
  reasm.expire(now, [&](wire::Bytes first_fragment) {
    ++counters.ip.reasm_fails;
    ++counters.ip.reasm_timeouts;
    if (first_fragment.empty()) return;
    if (trace) trace->on_drop(now, config.address, first_fragment, "ip", "reassembly timeout");
    // RFC 1122 §3.3.2 (MAY) and RFC 792: time exceeded, code 1, when the first fragment
    // came, quoting it.
    const auto first = wire::Ipv4View::parse_quoted(first_fragment);
    if (!first || !may_send_icmp_error_about(*first)) return;
    const std::size_t len =
        wire::write_icmp_time_exceeded(wire::MutableBytes(tx.data() + 20, tx.size() - 20),
                                       wire::kIcmpReassemblyTimeExceeded, first_fragment);
    if (len == 0) return;
    ++counters.icmp.out_time_excds;
    send_ip(first->src(), wire::kIcmp, len, "reassembly time exceeded");
  });
}

// The datagram, whole and checked, to its transport, exactly as every datagram goes.
void Stack::Impl::deliver(const wire::Ipv4View& ip) {
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
      drop(ip.packet(), "ip", "unknown protocol");
      send_destination_unreachable(ip, wire::kIcmpProtocolUnreachable);
      break;
  }
}

void Stack::Impl::send_ip(Ipv4Address dst, std::uint8_t protocol, std::size_t length,
                          std::string_view cause, std::size_t segment_size, std::size_t pieces,
                          std::uint8_t* at) {
  if (at == nullptr) at = tx.data();
  wire::Ipv4Header h;
  h.src = config.address;
  h.dst = dst;
  h.protocol = protocol;
  h.id = ip_id;
  ip_id = static_cast<std::uint16_t>(ip_id + pieces);
  const std::size_t header = wire::write_ipv4_header(wire::MutableBytes(at, 20), h, length);
  const wire::Bytes frame(at, header + length);
  ++counters.ip.out_requests;
  if (trace) trace->on_packet(now, config.address, trace::Direction::out, frame, cause);
  if (segment_size != 0) {
    link.send_segmented(frame, now, segment_size);
  } else {
    link.send(frame, now);
  }
}

}  // namespace synack
