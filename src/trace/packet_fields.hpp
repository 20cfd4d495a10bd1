// The fields of one traced IPv4 packet that the renderers show: addresses and ports, the
// IP identification (which pairs a packet sent with the same packet received), and the
// TCP header. Decoding is lenient about checksums: a corrupted packet is still drawn.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "synack/endpoint.hpp"
#include "wire/bytes.hpp"
#include "wire/tcp.hpp"

namespace synack::trace {

struct PacketFields {
  std::uint8_t protocol = 0;  // 6 TCP, 17 UDP, 1 ICMP, or another protocol number
  Endpoint src;               // ports are 0 for ICMP and other protocols
  Endpoint dst;
  std::uint16_t ip_id = 0;
  std::size_t ip_length = 0;  // the whole packet

  // TCP only.
  wire::TcpFlags flags;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint16_t window = 0;  // raw, before scaling
  wire::TcpOptions options;

  // ICMP only.
  std::uint8_t icmp_type = 0;
  std::uint8_t icmp_code = 0;

  wire::Bytes payload;  // TCP or UDP data (a view into the packet)

  bool is_tcp() const { return protocol == 6; }
  bool is_udp() const { return protocol == 17; }
  bool is_icmp() const { return protocol == 1; }
  // Sequence space the segment takes: data, plus one for SYN and for FIN.
  std::uint32_t seq_length() const;
};

// nullopt when the bytes are not a well-formed IPv4 packet or its TCP/UDP/ICMP header.
std::optional<PacketFields> parse_packet(wire::Bytes ipv4_packet);

// Up to `max` characters of the payload as text, non-printable bytes as '.', with "..."
// when cut: "GET / HTTP/1.1.." for a request.
std::string payload_preview(wire::Bytes payload, std::size_t max);

}  // namespace synack::trace
