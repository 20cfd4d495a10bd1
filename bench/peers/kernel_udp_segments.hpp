// The UDP datagrams of the raw TUN ceiling and how each side checks them. Every segment
// carries 1472 bytes (a 1500-byte IPv4 packet): an 8-byte sequence number, then byte j of
// the segment is j mod 251. Sequence numbers only grow (the TUN queue and the socket may
// drop when full, never reorder), and each segment's last 16 bytes must be the pattern:
// a misframed or corrupted segment fails the run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace synack::bench {

constexpr std::size_t kUdpSegment = 1472;     // payload of one 1500-byte packet
constexpr std::size_t kSegmentsPerSend = 44;  // 64,768 bytes: the most under 64 KiB
constexpr std::size_t kIpUdpHeaders = 28;

// Fills `count` consecutive segments with the pattern once; then set_sequence numbers
// them before each send (8 bytes per segment: the pattern is written only once).
void fill_segments(std::uint8_t* data, std::size_t count);
void set_sequence(std::uint8_t* data, std::size_t count, std::uint64_t first_seq);

// Checks `size` bytes of consecutive segments of kUdpSegment (the last may be shorter);
// `last_seq` is the highest sequence seen so far, updated.
std::optional<std::string> check_segments(const std::uint8_t* data, std::size_t size,
                                          std::uint64_t& last_seq, bool& seen_any);

// Writes an IPv4 + UDP header for `payload` bytes (IP checksum filled, DF set). The UDP
// checksum is 0 (none) unless `partial`, when it holds the pseudo-header sum a
// CHECKSUM_PARTIAL packet carries for the kernel to finish.
void write_ip_udp_header(std::uint8_t* at, std::uint32_t source, std::uint32_t destination,
                         std::uint16_t source_port, std::uint16_t destination_port,
                         std::size_t payload, bool partial);

struct UdpPacket {
  std::uint16_t destination_port = 0;
  const std::uint8_t* payload = nullptr;
  std::size_t size = 0;
};
// The UDP datagram in an IPv4 packet, or nullopt when it is something else.
std::optional<UdpPacket> parse_ip_udp(const std::uint8_t* packet, std::size_t size);

}  // namespace synack::bench
