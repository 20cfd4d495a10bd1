// The TCP header (RFC 9293 §3.1): a checked view over received bytes, and a builder that
// writes a header, its options and its checksum in front of a payload.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |          Source Port          |       Destination Port        |
//   |                        Sequence Number                        |
//   |                    Acknowledgment Number                      |
//   |  Data |       |C|E|U|A|P|R|S|F|                               |
//   | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
//   |           Checksum            |         Urgent Pointer        |
//   |                   [Options]  ... padded to 4 bytes            |
//   |                             Data                              |
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <ranges>
#include <string>

#include "base/result.hpp"
#include "wire/bytes.hpp"
#include "wire/parse_error.hpp"
#include "wire/tcp_options.hpp"

namespace synack::wire {

inline constexpr std::uint8_t ip_protocol_tcp = 6;
inline constexpr std::size_t tcp_min_header_length = 20;
inline constexpr std::size_t tcp_max_header_length = 60;

// The eight control bits of byte 13. A small value: `f.has(TcpFlags::syn | TcpFlags::ack)`.
class TcpFlags {
 public:
  static const TcpFlags fin, syn, rst, psh, ack, urg, ece, cwr;

  constexpr TcpFlags() = default;
  constexpr explicit TcpFlags(std::uint8_t bits) : bits_(bits) {}

  constexpr std::uint8_t bits() const { return bits_; }
  constexpr bool empty() const { return bits_ == 0; }
  // True when every bit of `f` is set.
  constexpr bool has(TcpFlags f) const { return (bits_ & f.bits_) == f.bits_; }
  // True when at least one bit of `f` is set.
  constexpr bool has_any(TcpFlags f) const { return (bits_ & f.bits_) != 0; }

  constexpr TcpFlags operator|(TcpFlags o) const { return make(bits_ | o.bits_); }
  constexpr TcpFlags operator&(TcpFlags o) const { return make(bits_ & o.bits_); }
  constexpr TcpFlags without(TcpFlags o) const { return make(bits_ & ~o.bits_); }
  friend constexpr bool operator==(TcpFlags, TcpFlags) = default;

 private:
  static constexpr TcpFlags make(int bits) { return TcpFlags(static_cast<std::uint8_t>(bits)); }
  std::uint8_t bits_ = 0;
};

inline constexpr TcpFlags TcpFlags::fin{std::uint8_t{0x01}};
inline constexpr TcpFlags TcpFlags::syn{std::uint8_t{0x02}};
inline constexpr TcpFlags TcpFlags::rst{std::uint8_t{0x04}};
inline constexpr TcpFlags TcpFlags::psh{std::uint8_t{0x08}};
inline constexpr TcpFlags TcpFlags::ack{std::uint8_t{0x10}};
inline constexpr TcpFlags TcpFlags::urg{std::uint8_t{0x20}};
inline constexpr TcpFlags TcpFlags::ece{std::uint8_t{0x40}};
inline constexpr TcpFlags TcpFlags::cwr{std::uint8_t{0x80}};

// The set bits joined by '+', low bit first: "SYN", "SYN+ACK", "FIN+PSH+ACK"; "none" when
// no bit is set. For traces and test messages, not the packet path.
std::string to_string(TcpFlags flags);
std::ostream& operator<<(std::ostream& os, TcpFlags flags);

// Everything needed to write a header. Options are emitted as options_length/write_options
// describe for a SYN or a non-SYN, chosen by flags.has(TcpFlags::syn).
struct TcpHeader {
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  TcpFlags flags;
  std::uint16_t window = 0;  // raw, before any window scaling
  std::uint16_t urgent_pointer = 0;
  TcpOptions options;
  friend bool operator==(const TcpHeader&, const TcpHeader&) = default;
};

namespace detail {
// A range whose view would outlive it: an rvalue container (not a span, not an lvalue).
template <class R>
concept DanglesWhenViewed = std::ranges::range<R> && !std::ranges::borrowed_range<R>;
}  // namespace detail

// A TCP segment whose header and option lengths have been checked. Accessors read the
// fields in place (big-endian) and cannot fail.
class TcpView {
 public:
  // Checks, in this order: at least 20 bytes (truncated); 5 <= data offset and the header
  // within the segment (bad_data_offset); the options well formed (bad_option_length: a
  // length below 2, a missing length byte, or an option running past the header).
  // The checksum is not checked here: see tcp_checksum_ok.
  static Result<TcpView, ParseError> parse(Bytes segment);
  // A view of a temporary container would dangle at the end of the statement: refused at
  // compile time. Spans and lvalues are fine.
  template <detail::DanglesWhenViewed Container>
  static Result<TcpView, ParseError> parse(Container&& segment) = delete;

  std::uint16_t src_port() const { return load_be16(at(0)); }
  std::uint16_t dst_port() const { return load_be16(at(2)); }
  std::uint32_t seq() const { return load_be32(at(4)); }
  std::uint32_t ack() const { return load_be32(at(8)); }
  // In 32-bit words, 5..15.
  std::uint8_t data_offset() const { return static_cast<std::uint8_t>(*at(12) >> 4); }
  std::size_t header_length() const { return header_length_; }
  // The four bits between data offset and the flags; RFC 9293 says to ignore them.
  std::uint8_t reserved_bits() const { return static_cast<std::uint8_t>(*at(12) & 0x0f); }
  TcpFlags flags() const { return TcpFlags(*at(13)); }
  std::uint16_t window() const { return load_be16(at(14)); }
  std::uint16_t checksum() const { return load_be16(at(16)); }
  std::uint16_t urgent_pointer() const { return load_be16(at(18)); }

  Bytes bytes() const { return segment_; }
  Bytes options_bytes() const {
    return segment_.subspan(tcp_min_header_length, header_length_ - tcp_min_header_length);
  }
  Bytes payload() const { return segment_.subspan(header_length_); }
  // The options, decoded (see decode_options); never fails on a parsed view.
  TcpOptions options() const { return decode_options(options_bytes()); }

  // The decoded fields, ready for write_tcp: rebuilding a segment whose options are in
  // Linux's layout gives back the identical bytes.
  TcpHeader to_header() const;

 private:
  TcpView(Bytes segment, std::size_t header_length)
      : segment_(segment), header_length_(header_length) {}
  const std::uint8_t* at(std::size_t offset) const { return segment_.data() + offset; }

  Bytes segment_;
  std::size_t header_length_;
};

// True when `segment` (header and payload, checksum as received) sums to zero under the
// IPv4 pseudo-header of src and dst (host order). Segments over 65535 bytes are refused.
bool tcp_checksum_ok(std::uint32_t src, std::uint32_t dst, Bytes segment);

// 20 plus options_length(header.options, header.flags.has(TcpFlags::syn)).
std::size_t tcp_header_length(const TcpHeader& header);

// Builders. `out` starts where the TCP header goes, typically after headroom left in the
// frame for the IP and link headers. Each writes the header and options, fills in the
// checksum over the pseudo-header of src and dst (host order) and the payload, and returns
// the segment length (header + payload). They return 0 and write nothing when `out` is
// too short or the segment would exceed 65535 bytes.
//
// In place (no copy): the caller has already put `payload_length` bytes of payload at
// out[tcp_header_length(header)], e.g. read straight from the send buffer.
[[nodiscard]] std::size_t write_tcp_in_place(MutableBytes out, const TcpHeader& header,
                                             std::size_t payload_length, std::uint32_t src,
                                             std::uint32_t dst);
// Checksum offload: the same, but the checksum field gets only the folded, uncomplemented
// sum of the pseudo-header (for the full length), as Linux leaves it for a device that
// completes the checksum (virtio's VIRTIO_NET_HDR_F_NEEDS_CSUM): the device sums from the
// TCP header to the end, field included, and stores the complement. The payload is not read.
[[nodiscard]] std::size_t write_tcp_in_place_for_offload(MutableBytes out, const TcpHeader& header,
                                                         std::size_t payload_length,
                                                         std::uint32_t src, std::uint32_t dst);
// Gathering: the payload, in pieces (a ring's two, say), is copied to follow the header and
// summed as it is copied, one pass over the data rather than a copy and then a sum.
[[nodiscard]] std::size_t write_tcp_gathering(MutableBytes out, const TcpHeader& header,
                                              std::span<const Bytes> payload, std::uint32_t src,
                                              std::uint32_t dst);
// Copying: `payload` is copied to follow the header (memmove, so it may overlap `out`).
[[nodiscard]] std::size_t write_tcp(MutableBytes out, const TcpHeader& header, Bytes payload,
                                    std::uint32_t src, std::uint32_t dst);

}  // namespace synack::wire
