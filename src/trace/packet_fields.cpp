#include "trace/packet_fields.hpp"

#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"
#include "wire/udp.hpp"

namespace synack::trace {

std::uint32_t PacketFields::seq_length() const {
  return static_cast<std::uint32_t>(payload.size()) + (flags.has(wire::TcpFlags::syn) ? 1u : 0u) +
         (flags.has(wire::TcpFlags::fin) ? 1u : 0u);
}

std::optional<PacketFields> parse_packet(wire::Bytes bytes) {
  auto ip = wire::Ipv4View::parse(bytes);
  if (!ip) {
    // A flipped bit in the header checksum still leaves a packet worth drawing.
    if (ip.error() != wire::ParseError::bad_checksum) return std::nullopt;
    ip = wire::Ipv4View::parse_quoted(bytes);
    if (!ip) return std::nullopt;
  }
  // A fragment holds part of a transport message: only the first starts with its header,
  // and even that is not whole (nor is its checksum over what is here). Nothing to draw.
  if (ip->is_fragment()) return std::nullopt;
  PacketFields f;
  f.protocol = ip->protocol();
  f.src.address = ip->src();
  f.dst.address = ip->dst();
  f.ip_id = ip->identification();
  f.ip_length = ip->packet().size();
  if (f.is_tcp()) {
    auto tcp = wire::TcpView::parse(ip->payload());
    if (!tcp) return std::nullopt;
    f.src.port = tcp->src_port();
    f.dst.port = tcp->dst_port();
    f.flags = tcp->flags();
    f.seq = tcp->seq();
    f.ack = tcp->ack();
    f.window = tcp->window();
    f.options = tcp->options();
    f.payload = tcp->payload();
  } else if (f.is_udp()) {
    auto udp = wire::UdpView::parse(ip->payload());
    if (!udp) return std::nullopt;
    f.src.port = udp->src_port();
    f.dst.port = udp->dst_port();
    f.payload = udp->payload();
  } else if (f.is_icmp()) {
    auto icmp = wire::IcmpView::parse(ip->payload());
    if (!icmp) return std::nullopt;
    f.icmp_type = icmp->type();
    f.icmp_code = icmp->code();
  }
  return f;
}

std::string payload_preview(wire::Bytes payload, std::size_t max) {
  std::string s;
  for (std::size_t i = 0; i < payload.size() && i < max; ++i) {
    const auto c = static_cast<char>(payload[i]);
    s += (payload[i] >= 0x20 && payload[i] < 0x7f) ? c : '.';
  }
  if (payload.size() > max) s += "...";
  return s;
}

}  // namespace synack::trace
