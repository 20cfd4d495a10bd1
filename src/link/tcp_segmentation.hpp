// Software TCP segmentation (GSO) and checksum completion: what a NIC or the kernel does
// with a frame sent through Link::send_segmented, done by hand for media that cannot, and
// by tests as the reference for what the kernel will put on the wire.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "wire/bytes.hpp"

namespace synack::link {

// Cuts `frame` (IPv4 without options or with them, then TCP whose checksum field holds
// the pseudo-header sum for the whole segment) into pieces of at most `segment_size`
// payload octets, each a complete frame with correct IPv4 and TCP checksums, handed to
// `emit(wire::Bytes)` in order. A frame whose payload fits one piece is emitted once,
// checksum completed. Returns the number of pieces, 0 for a frame that is not TCP over
// IPv4 or is shorter than its headers say (nothing is emitted then).
template <typename Emit>
std::size_t segment_tcp_frame(wire::Bytes frame, std::size_t segment_size, Emit&& emit);

// The building blocks, for the template above.
struct TcpFrameLayout {
  std::size_t ip_header = 0;   // IHL * 4
  std::size_t tcp_header = 0;  // data offset * 4
  std::size_t payload = 0;     // octets after both headers
};
// The layout of a TCP/IPv4 frame, or a layout with tcp_header 0 when it is not one.
TcpFrameLayout tcp_frame_layout(wire::Bytes frame);
// Writes piece `index` (payload [offset, offset + length)) of `frame` into `out`, which
// must hold the headers and `length`; returns its size. `last` keeps FIN and PSH.
std::size_t write_tcp_piece(wire::Bytes frame, const TcpFrameLayout& layout, std::size_t index,
                            std::size_t offset, std::size_t length, bool last,
                            wire::MutableBytes out);

template <typename Emit>
std::size_t segment_tcp_frame(wire::Bytes frame, std::size_t segment_size, Emit&& emit) {
  const TcpFrameLayout layout = tcp_frame_layout(frame);
  if (layout.tcp_header == 0 || segment_size == 0) return 0;
  std::vector<std::uint8_t> piece(layout.ip_header + layout.tcp_header +
                                  std::min(segment_size, layout.payload));
  std::size_t count = 0;
  std::size_t offset = 0;
  do {
    const std::size_t length = std::min(segment_size, layout.payload - offset);
    const bool last = offset + length == layout.payload;
    const std::size_t n = write_tcp_piece(frame, layout, count, offset, length, last,
                                          wire::MutableBytes(piece.data(), piece.size()));
    emit(wire::Bytes(piece.data(), n));
    ++count;
    offset += length;
  } while (offset < layout.payload);
  return count;
}

}  // namespace synack::link
