// The Internet checksum (RFC 1071), its TCP/UDP pseudo-header, and incremental update
// (RFC 1624). It runs over every byte of every packet, so the sum is computed eight bytes
// at a time into a 64-bit accumulator and folded once at the end.
#pragma once

#include <cstdint>

#include "wire/bytes.hpp"

namespace synack::wire {

// A running one's-complement sum. Data may be added in pieces of any length, odd lengths
// included: the accumulator tracks whether the next byte is the high or low half of a word.
class ChecksumAccumulator {
 public:
  void add(Bytes data);
  // Adds `data` and copies it to `to` (data.size() bytes, not overlapping it) in the same
  // pass: a segment's payload is summed as it is copied into the frame, read once.
  void add_copying(std::uint8_t* to, Bytes data);
  void add_u16(std::uint16_t v) { sum_ += odd_ ? swap16(v) : v; }
  void add_u32(std::uint32_t v) {
    add_u16(static_cast<std::uint16_t>(v >> 16)), add_u16(static_cast<std::uint16_t>(v));
  }
  // The folded 16-bit one's-complement sum (not yet complemented).
  std::uint16_t sum() const;
  // The value to store in a checksum field: the complement of the sum.
  std::uint16_t finish() const { return static_cast<std::uint16_t>(~sum()); }

 private:
  static std::uint16_t swap16(std::uint16_t v) {
    return static_cast<std::uint16_t>((v << 8) | (v >> 8));
  }
  std::uint64_t sum_ = 0;
  bool odd_ = false;  // an odd number of bytes has been added so far
};

// Checksum of a contiguous buffer, ready to store (complemented).
std::uint16_t internet_checksum(Bytes data);

// The byte-at-a-time reference (RFC 1071 §4.1, as written): for tests and the benchmark.
std::uint16_t internet_checksum_reference(Bytes data);

// Adds the IPv4 pseudo-header (RFC 9293 §3.1, RFC 768) to an accumulator.
void add_ipv4_pseudo_header(ChecksumAccumulator& acc, std::uint32_t src, std::uint32_t dst,
                            std::uint8_t protocol, std::uint16_t length);

// Checksum of a TCP or UDP segment (header with its checksum field zeroed, plus payload)
// under the IPv4 pseudo-header. For UDP, a result of 0 must be sent as 0xFFFF (RFC 768).
std::uint16_t transport_checksum(std::uint32_t src, std::uint32_t dst, std::uint8_t protocol,
                                 Bytes segment);

// True when a received segment (checksum field as received) sums to zero under the
// pseudo-header.
bool transport_checksum_ok(std::uint32_t src, std::uint32_t dst, std::uint8_t protocol,
                           Bytes segment);

// RFC 1624 eqn. 3: the new checksum after a 16-bit field changes from old_field to
// new_field, without touching the rest of the packet: HC' = ~(~HC + ~m + m').
std::uint16_t checksum_update16(std::uint16_t checksum, std::uint16_t old_field,
                                std::uint16_t new_field);
std::uint16_t checksum_update32(std::uint16_t checksum, std::uint32_t old_field,
                                std::uint32_t new_field);

}  // namespace synack::wire
