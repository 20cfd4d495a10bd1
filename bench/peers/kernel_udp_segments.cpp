#include "bench/peers/kernel_udp_segments.hpp"

#include <cstring>

namespace synack::bench {
namespace {

constexpr std::size_t kTail = 16;

std::uint8_t pattern_byte(std::size_t j) {
  return static_cast<std::uint8_t>(j % 251);
}

void put16(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}

void put32(std::uint8_t* p, std::uint32_t v) {
  put16(p, v >> 16);
  put16(p + 2, v & 0xffff);
}

std::uint16_t get16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}

std::uint32_t fold(std::uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return sum;
}

}  // namespace

void fill_segments(std::uint8_t* data, std::size_t count) {
  for (std::size_t j = 0; j < kUdpSegment; ++j) data[j] = pattern_byte(j);
  for (std::size_t s = 1; s < count; ++s) std::memcpy(data + s * kUdpSegment, data, kUdpSegment);
}

void set_sequence(std::uint8_t* data, std::size_t count, std::uint64_t first_seq) {
  for (std::size_t s = 0; s < count; ++s) {
    const std::uint64_t seq = first_seq + s;
    std::memcpy(data + s * kUdpSegment, &seq, sizeof seq);
  }
}

std::optional<std::string> check_segments(const std::uint8_t* data, std::size_t size,
                                          std::uint64_t& last_seq, bool& seen_any) {
  for (std::size_t offset = 0; offset < size; offset += kUdpSegment) {
    const std::size_t n = std::min(kUdpSegment, size - offset);
    if (n < sizeof(std::uint64_t) + kTail) return "a segment of only " + std::to_string(n) + " B";
    std::uint64_t seq;
    std::memcpy(&seq, data + offset, sizeof seq);
    if (seen_any && seq <= last_seq) {
      return "segment " + std::to_string(seq) + " after " + std::to_string(last_seq);
    }
    for (std::size_t j = n - kTail; j < n; ++j) {
      if (data[offset + j] != pattern_byte(j))
        return "segment " + std::to_string(seq) + " corrupted";
    }
    last_seq = seq;
    seen_any = true;
  }
  return std::nullopt;
}

void write_ip_udp_header(std::uint8_t* at, std::uint32_t source, std::uint32_t destination,
                         std::uint16_t source_port, std::uint16_t destination_port,
                         std::size_t payload, bool partial) {
  const auto udp_length = static_cast<std::uint32_t>(8 + payload);
  std::memset(at, 0, kIpUdpHeaders);
  at[0] = 0x45;
  put16(at + 2, 20 + udp_length);
  put16(at + 6, 0x4000);  // DF
  at[8] = 64;
  at[9] = 17;
  put32(at + 12, source);
  put32(at + 16, destination);
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < 20; i += 2) sum += get16(at + i);
  put16(at + 10, ~fold(sum) & 0xffff);
  std::uint8_t* udp = at + 20;
  put16(udp, source_port);
  put16(udp + 2, destination_port);
  put16(udp + 4, udp_length);
  if (partial) {
    const std::uint32_t pseudo = (source >> 16) + (source & 0xffff) + (destination >> 16) +
                                 (destination & 0xffff) + 17 + udp_length;
    put16(udp + 6, fold(pseudo));
  }
}

std::optional<UdpPacket> parse_ip_udp(const std::uint8_t* packet, std::size_t size) {
  if (size < kIpUdpHeaders || packet[0] != 0x45 || packet[9] != 17) return std::nullopt;
  const std::size_t total = get16(packet + 2);
  if (total != size) return std::nullopt;
  const std::uint8_t* udp = packet + 20;
  if (get16(udp + 4) != size - 20) return std::nullopt;
  return UdpPacket{get16(udp + 2), udp + 8, size - kIpUdpHeaders};
}

}  // namespace synack::bench
