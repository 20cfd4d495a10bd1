// UDP (RFC 768): a checked view over a received datagram, its checksum under the IPv4
// pseudo-header, and a builder for the 8-byte header.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/result.hpp"
#include "wire/bytes.hpp"
#include "wire/ipv4.hpp"
#include "wire/parse_error.hpp"

namespace synack::wire {

class UdpView {
 public:
  static constexpr std::size_t kHeaderLength = 8;

  // `datagram` is the IPv4 payload. Checks: 8 bytes present (truncated); 8 <= length field
  // <= datagram size (bad_length). Bytes past the length field are ignored. The checksum
  // needs the addresses: see udp_checksum_ok().
  static Result<UdpView, ParseError> parse(Bytes datagram);

  std::uint16_t src_port() const { return load_be16(&bytes_[0]); }
  std::uint16_t dst_port() const { return load_be16(&bytes_[2]); }
  std::uint16_t length() const { return load_be16(&bytes_[4]); }
  std::uint16_t checksum() const { return load_be16(&bytes_[6]); }  // 0: none was sent

  Bytes header() const { return bytes_.first(kHeaderLength); }
  Bytes payload() const { return bytes_.subspan(kHeaderLength); }  // cut at length()
  Bytes datagram() const { return bytes_; }                        // header and payload

 private:
  explicit UdpView(Bytes bytes) : bytes_(bytes) {}
  Bytes bytes_;
};

// True when the checksum is right under the pseudo-header of src and dst, or is 0: over
// IPv4 a zero checksum means the sender computed none, and the datagram is accepted
// (RFC 768; RFC 1122 §4.1.3.4 lets a host discard it instead, this function does not).
bool udp_checksum_ok(const UdpView& udp, Ipv4Address src, Ipv4Address dst);

struct UdpHeader {
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
};

// `datagram` is the whole datagram with its payload already in place after the first 8
// bytes. Writes the header (length = datagram.size()) and its checksum under the
// pseudo-header of src and dst; a checksum that comes out 0 is sent as 0xFFFF (RFC 768).
// Returns 8, or 0 if datagram is shorter than 8 bytes or longer than 65535.
std::size_t write_udp_header(MutableBytes datagram, const UdpHeader& header, Ipv4Address src,
                             Ipv4Address dst);

}  // namespace synack::wire
