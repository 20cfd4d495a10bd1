#include "link/tun/vnet_header.hpp"

#include "link/tcp_segmentation.hpp"

namespace synack::link {
namespace {
void put_le16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
}
std::uint16_t get_le16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
}  // namespace

std::array<std::uint8_t, kVnetHeaderSize> encode_vnet_header(const VnetHeader& h) {
  std::array<std::uint8_t, kVnetHeaderSize> out{};
  out[0] = h.flags;
  out[1] = h.gso_type;
  put_le16(&out[2], h.hdr_len);
  put_le16(&out[4], h.gso_size);
  put_le16(&out[6], h.csum_start);
  put_le16(&out[8], h.csum_offset);
  return out;
}

VnetHeader decode_vnet_header(wire::Bytes b) {
  VnetHeader h;
  h.flags = b[0];
  h.gso_type = b[1];
  h.hdr_len = get_le16(&b[2]);
  h.gso_size = get_le16(&b[4]);
  h.csum_start = get_le16(&b[6]);
  h.csum_offset = get_le16(&b[8]);
  return h;
}

VnetHeader vnet_header_for_tcp(wire::Bytes frame, std::size_t segment_size) {
  const TcpFrameLayout l = tcp_frame_layout(frame);
  VnetHeader h;
  if (l.tcp_header == 0) return h;
  h.flags = kVnetNeedsCsum;
  h.csum_start = static_cast<std::uint16_t>(l.ip_header);
  h.csum_offset = 16;  // the TCP checksum field
  h.hdr_len = static_cast<std::uint16_t>(l.ip_header + l.tcp_header);
  if (segment_size > 0 && l.payload > segment_size) {
    h.gso_type = kVnetGsoTcpv4;
    h.gso_size = static_cast<std::uint16_t>(segment_size);
  }
  return h;
}

}  // namespace synack::link
