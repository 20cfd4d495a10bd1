#include "wire/tcp.hpp"

#include <algorithm>
#include <cstring>
#include <ostream>

#include "wire/checksum.hpp"

namespace synack::wire {

std::string to_string(TcpFlags flags) {
  static constexpr const char* names[8] = {"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"};
  if (flags.empty()) return "none";
  const unsigned bits = flags.bits();
  std::string out;
  for (unsigned bit = 0; bit < 8; ++bit) {
    if ((bits >> bit) & 1u) {
      if (!out.empty()) out += '+';
      out += names[bit];
    }
  }
  return out;
}

std::ostream& operator<<(std::ostream& os, TcpFlags flags) {
  return os << to_string(flags);
}

Result<TcpView, ParseError> TcpView::parse(Bytes segment) {
  if (segment.size() < tcp_min_header_length) return Unexpected{ParseError::truncated};
  const std::size_t header_length = (std::size_t{segment[12]} >> 4) * 4;
  if (header_length < tcp_min_header_length || header_length > segment.size()) {
    return Unexpected{ParseError::bad_data_offset};
  }
  // [RFC9293 MUST-7] an illegal option length is a typed error, never a read past the header.
  if (!tcp_options_well_formed(
          segment.subspan(tcp_min_header_length, header_length - tcp_min_header_length))) {
    return Unexpected{ParseError::bad_option_length};
  }
  return TcpView(segment, header_length);
}

TcpHeader TcpView::to_header() const {
  TcpHeader h;
  h.src_port = src_port();
  h.dst_port = dst_port();
  h.seq = seq();
  h.ack = ack();
  h.flags = flags();
  h.window = window();
  h.urgent_pointer = urgent_pointer();
  h.options = options();
  return h;
}

bool tcp_checksum_ok(std::uint32_t src, std::uint32_t dst, Bytes segment) {
  if (segment.size() > 0xffff) return false;
  return transport_checksum_ok(src, dst, ip_protocol_tcp, segment);
}

std::size_t tcp_header_length(const TcpHeader& header) {
  return tcp_min_header_length + options_length(header.options, header.flags.has(TcpFlags::syn));
}

namespace {
// The header and options, checksum field zero; the segment's length, or 0 when it does
// not fit.
std::size_t write_tcp_header(MutableBytes out, const TcpHeader& header,
                             std::size_t payload_length) {
  const bool syn = header.flags.has(TcpFlags::syn);
  const std::size_t header_length = tcp_header_length(header);
  const std::size_t total = header_length + payload_length;
  if (payload_length > 0xffff || total > 0xffff || total > out.size()) return 0;

  std::uint8_t* p = out.data();
  store_be16(p + 0, header.src_port);
  store_be16(p + 2, header.dst_port);
  store_be32(p + 4, header.seq);
  store_be32(p + 8, header.ack);
  p[12] = static_cast<std::uint8_t>((header_length / 4) << 4);  // reserved bits zero
  p[13] = header.flags.bits();
  store_be16(p + 14, header.window);
  store_be16(p + 16, 0);
  store_be16(p + 18, header.urgent_pointer);
  write_options(out.subspan(tcp_min_header_length, header_length - tcp_min_header_length),
                header.options, syn);
  return total;
}
}  // namespace

std::size_t write_tcp_in_place_for_offload(MutableBytes out, const TcpHeader& header,
                                           std::size_t payload_length, std::uint32_t src,
                                           std::uint32_t dst) {
  const std::size_t total = write_tcp_header(out, header, payload_length);
  if (total == 0) return 0;
  ChecksumAccumulator acc;
  add_ipv4_pseudo_header(acc, src, dst, ip_protocol_tcp, static_cast<std::uint16_t>(total));
  store_be16(out.data() + 16, acc.sum());
  return total;
}

std::size_t write_tcp_in_place(MutableBytes out, const TcpHeader& header,
                               std::size_t payload_length, std::uint32_t src, std::uint32_t dst) {
  const std::size_t total = write_tcp_header(out, header, payload_length);
  if (total == 0) return 0;
  store_be16(out.data() + 16, transport_checksum(src, dst, ip_protocol_tcp, out.first(total)));
  return total;
}

std::size_t write_tcp_gathering(MutableBytes out, const TcpHeader& header,
                                std::span<const Bytes> payload, std::uint32_t src,
                                std::uint32_t dst) {
  std::size_t payload_length = 0;
  for (const Bytes piece : payload) payload_length += piece.size();
  // Below this the pieces are copied and the segment summed whole: a few bytes are summed
  // with the header faster than summing piece by piece saves (a 1-byte round trip).
  constexpr std::size_t kSumWhileCopyingFrom = 256;
  const std::size_t total = write_tcp_header(out, header, payload_length);
  if (total == 0) return 0;
  const std::size_t header_length = total - payload_length;
  std::uint8_t* to = out.data() + header_length;
  if (payload_length < kSumWhileCopyingFrom) {
    for (const Bytes piece : payload) to = std::copy(piece.begin(), piece.end(), to);
    store_be16(out.data() + 16, transport_checksum(src, dst, ip_protocol_tcp, out.first(total)));
    return total;
  }
  ChecksumAccumulator acc;
  add_ipv4_pseudo_header(acc, src, dst, ip_protocol_tcp, static_cast<std::uint16_t>(total));
  acc.add(out.first(header_length));
  for (const Bytes piece : payload) {
    acc.add_copying(to, piece);
    to += piece.size();
  }
  store_be16(out.data() + 16, acc.finish());
  return total;
}

std::size_t write_tcp(MutableBytes out, const TcpHeader& header, Bytes payload, std::uint32_t src,
                      std::uint32_t dst) {
  const std::size_t header_length = tcp_header_length(header);
  if (payload.size() > 0xffff || header_length + payload.size() > out.size()) return 0;
  if (!payload.empty()) std::memmove(out.data() + header_length, payload.data(), payload.size());
  return write_tcp_in_place(out, header, payload.size(), src, dst);
}

}  // namespace synack::wire
