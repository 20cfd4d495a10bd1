// The virtio-net header (struct virtio_net_hdr, virtio 1.x §5.1.6) that a TUN device with
// IFF_VNET_HDR puts before every packet in both directions: whether the checksum is left
// to complete (NEEDS_CSUM, with where it starts and where it goes) and whether the packet
// is a GSO super-segment (its type and the payload size of each segment it stands for).
// Encoded and decoded here over bytes, little-endian as the kernel uses it on this
// (little-endian) host; the TUN link adds and strips it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "wire/bytes.hpp"

namespace synack::link {

inline constexpr std::size_t kVnetHeaderSize = 10;  // without num_buffers (TUNSETVNETHDRSZ)

// flags
inline constexpr std::uint8_t kVnetNeedsCsum = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM
inline constexpr std::uint8_t kVnetDataValid = 2;  // VIRTIO_NET_HDR_F_DATA_VALID
// gso_type
inline constexpr std::uint8_t kVnetGsoNone = 0;    // VIRTIO_NET_HDR_GSO_NONE
inline constexpr std::uint8_t kVnetGsoTcpv4 = 1;   // VIRTIO_NET_HDR_GSO_TCPV4
inline constexpr std::uint8_t kVnetGsoEcn = 0x80;  // VIRTIO_NET_HDR_GSO_ECN

struct VnetHeader {
  std::uint8_t flags = 0;
  std::uint8_t gso_type = kVnetGsoNone;
  std::uint16_t hdr_len = 0;      // bytes of headers before the payload (a hint)
  std::uint16_t gso_size = 0;     // payload octets per segment
  std::uint16_t csum_start = 0;   // where the checksummed bytes start (the TCP header)
  std::uint16_t csum_offset = 0;  // where, from csum_start, the checksum is stored

  friend bool operator==(const VnetHeader&, const VnetHeader&) = default;
};

std::array<std::uint8_t, kVnetHeaderSize> encode_vnet_header(const VnetHeader& h);
// Reads the first kVnetHeaderSize bytes (the caller checks there are that many).
VnetHeader decode_vnet_header(wire::Bytes bytes);

// The header for sending `frame` (TCP over IPv4, its checksum field holding the pseudo-
// header sum) through Link::send_segmented with `segment_size`: the checksum to complete
// from the TCP header, and GSO TCPV4 when the payload exceeds one segment. A frame that
// is not TCP over IPv4 gets no offload at all (all zero).
VnetHeader vnet_header_for_tcp(wire::Bytes frame, std::size_t segment_size);

// Whether a received frame's transport checksum is vouched for by the kernel that sent it:
// left to complete (NEEDS_CSUM: only the pseudo-header sum is in it) or already checked.
inline bool vnet_checksum_trusted(const VnetHeader& h) {
  return (h.flags & (kVnetNeedsCsum | kVnetDataValid)) != 0;
}

}  // namespace synack::link
