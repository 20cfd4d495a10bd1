#include "link/tcp_segmentation.hpp"

#include <cstring>

#include "link/link.hpp"
#include "wire/checksum.hpp"

namespace synack::link {
namespace {
constexpr std::uint8_t kTcpProtocol = 6;
constexpr std::uint8_t kFin = 0x01, kPsh = 0x08, kCwr = 0x80;
}  // namespace

TcpFrameLayout tcp_frame_layout(wire::Bytes frame) {
  TcpFrameLayout l;
  if (frame.size() < 20 || (frame[0] >> 4) != 4 || frame[9] != kTcpProtocol) return l;
  const std::size_t ihl = std::size_t{frame[0] & 0x0fu} * 4;
  const std::size_t total = wire::load_be16(&frame[2]);
  if (ihl < 20 || total > frame.size() || total < ihl + 20) return l;
  const std::size_t thl = std::size_t{frame[ihl + 12]} / 16 * 4;
  if (thl < 20 || ihl + thl > total) return l;
  l.ip_header = ihl;
  l.tcp_header = thl;
  l.payload = total - ihl - thl;
  return l;
}

std::size_t write_tcp_piece(wire::Bytes frame, const TcpFrameLayout& layout, std::size_t index,
                            std::size_t offset, std::size_t length, bool last,
                            wire::MutableBytes out) {
  const std::size_t headers = layout.ip_header + layout.tcp_header;
  const std::size_t total = headers + length;
  std::uint8_t* p = out.data();
  std::memcpy(p, frame.data(), headers);
  std::memcpy(p + headers, frame.data() + headers + offset, length);
  // IPv4: the length, an id of its own per piece (as Linux's GSO numbers them), a new sum.
  wire::store_be16(p + 2, static_cast<std::uint16_t>(total));
  wire::store_be16(p + 4, static_cast<std::uint16_t>(wire::load_be16(p + 4) + index));
  wire::store_be16(p + 10, 0);
  wire::store_be16(p + 10, wire::internet_checksum(wire::Bytes(p, layout.ip_header)));
  // TCP: the piece's sequence number; FIN and PSH end the whole, CWR starts it.
  std::uint8_t* t = p + layout.ip_header;
  wire::store_be32(t + 4, static_cast<std::uint32_t>(wire::load_be32(t + 4) + offset));
  std::uint8_t flags = t[13];
  if (!last) flags = static_cast<std::uint8_t>(flags & ~(kFin | kPsh));
  if (index > 0) flags = static_cast<std::uint8_t>(flags & ~kCwr);
  t[13] = flags;
  wire::store_be16(t + 16, 0);
  wire::store_be16(
      t + 16, wire::transport_checksum(wire::load_be32(p + 12), wire::load_be32(p + 16),
                                       kTcpProtocol, wire::Bytes(t, layout.tcp_header + length)));
  return total;
}

void Link::send_segmented(wire::Bytes frame, Instant now, std::size_t segment_size) {
  segment_tcp_frame(frame, segment_size, [&](wire::Bytes piece) { send(piece, now); });
}

}  // namespace synack::link
