// ICMP for IPv4 (RFC 792): a checked view over a received message, with accessors for echo
// (ping) and for the errors that quote an original datagram, and builders for the messages
// a host sends: echo request and reply, destination unreachable, time exceeded.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/result.hpp"
#include "wire/bytes.hpp"
#include "wire/ipv4.hpp"
#include "wire/parse_error.hpp"

namespace synack::wire {

// Types (RFC 792).
inline constexpr std::uint8_t kIcmpEchoReply = 0;
inline constexpr std::uint8_t kIcmpDestinationUnreachable = 3;
inline constexpr std::uint8_t kIcmpSourceQuench = 4;  // deprecated (RFC 6633), still quotes
inline constexpr std::uint8_t kIcmpRedirect = 5;
inline constexpr std::uint8_t kIcmpEchoRequest = 8;
inline constexpr std::uint8_t kIcmpTimeExceeded = 11;
inline constexpr std::uint8_t kIcmpParameterProblem = 12;

// Destination unreachable codes (RFC 792; 4 carries the next-hop MTU, RFC 1191).
inline constexpr std::uint8_t kIcmpNetUnreachable = 0;
inline constexpr std::uint8_t kIcmpHostUnreachable = 1;
inline constexpr std::uint8_t kIcmpProtocolUnreachable = 2;
inline constexpr std::uint8_t kIcmpPortUnreachable = 3;
inline constexpr std::uint8_t kIcmpFragmentationNeeded = 4;
inline constexpr std::uint8_t kIcmpSourceRouteFailed = 5;

// Time exceeded codes.
inline constexpr std::uint8_t kIcmpTtlExceeded = 0;
inline constexpr std::uint8_t kIcmpReassemblyTimeExceeded = 1;

// How much of the original datagram an error we send quotes at most: as Linux does, as much
// as keeps the whole error within the 576 bytes every host accepts (RFC 1812 §4.3.2.3),
// 576 - 20 (IPv4 header) - 8 (ICMP header) = 548.
inline constexpr std::size_t kIcmpMaxErrorQuote = 576 - 20 - 8;

class IcmpView {
 public:
  static constexpr std::size_t kHeaderLength = 8;

  // `message` is the IPv4 payload. Checks: 8 bytes present (truncated); the checksum over
  // the whole message (bad_checksum). The body is not interpreted here: for errors, the
  // quote is checked by quoted_ipv4().
  static Result<IcmpView, ParseError> parse(Bytes message);

  std::uint8_t type() const { return bytes_[0]; }
  std::uint8_t code() const { return bytes_[1]; }
  std::uint16_t checksum() const { return load_be16(&bytes_[2]); }
  std::uint32_t rest_of_header() const { return load_be32(&bytes_[4]); }

  Bytes message() const { return bytes_; }                      // header and body
  Bytes body() const { return bytes_.subspan(kHeaderLength); }  // after the 8-byte header

  // Echo request and reply: identifier and sequence number in the rest of the header, the
  // data echoed back unchanged.
  bool is_echo() const { return type() == kIcmpEchoRequest || type() == kIcmpEchoReply; }
  std::uint16_t identifier() const { return load_be16(&bytes_[4]); }
  std::uint16_t sequence() const { return load_be16(&bytes_[6]); }
  Bytes echo_data() const { return body(); }

  // The messages that quote the datagram that caused them: destination unreachable, source
  // quench, redirect, time exceeded, parameter problem.
  bool is_error() const;
  // The quote: the original IPv4 header and at least the first 8 bytes of its payload.
  Bytes quoted() const { return body(); }
  // The quote's IPv4 header, parsed leniently (Ipv4View::parse_quoted): its payload() is
  // the quoted start of the original transport header (ports, for TCP the sequence number).
  Result<Ipv4View, ParseError> quoted_ipv4() const { return Ipv4View::parse_quoted(quoted()); }
  // Destination unreachable, fragmentation needed: the MTU of the next hop (RFC 1191), in
  // the low half of the rest of the header. 0 from routers older than RFC 1191.
  std::uint16_t next_hop_mtu() const { return load_be16(&bytes_[6]); }

 private:
  explicit IcmpView(Bytes bytes) : bytes_(bytes) {}
  Bytes bytes_;
};

// Each builder writes a whole ICMP message with its checksum at the start of `out` and
// returns its length, or 0 when it does not fit (or, as said below, cannot be built).

// An echo request carrying `data`.
std::size_t write_icmp_echo_request(MutableBytes out, std::uint16_t identifier,
                                    std::uint16_t sequence, Bytes data);

// The echo reply to `request`: same identifier, sequence number and data (RFC 792). 0 if
// `request` is not an echo request. `out` may be the request's own bytes (reply in place).
std::size_t write_icmp_echo_reply(MutableBytes out, const IcmpView& request);

// Destination unreachable about `original` (the offending IPv4 datagram, from its header
// on, cut at its total length). Quotes as much of it as fits in kIcmpMaxErrorQuote and in
// `out`, but never less than its header and first 8 payload bytes (RFC 1122 §3.2.2; all
// of it if shorter): 0 if `out` cannot hold that much, or `original` is shorter than an
// IPv4 header. next_hop_mtu is for code kIcmpFragmentationNeeded (RFC 1191); else 0.
// `out` must not overlap `original`. Whether an error may be sent at all (not about an
// ICMP error, a broadcast, a non-initial fragment: RFC 1122 §3.2.2) is the caller's call.
std::size_t write_icmp_destination_unreachable(MutableBytes out, std::uint8_t code, Bytes original,
                                               std::uint16_t next_hop_mtu = 0);

// Time exceeded about `original`, quoting as write_icmp_destination_unreachable does.
std::size_t write_icmp_time_exceeded(MutableBytes out, std::uint8_t code, Bytes original);

// Parameter problem (code 0) about `original`, `pointer` naming the octet of its header
// where the fault was found (RFC 792), quoting as write_icmp_destination_unreachable does.
std::size_t write_icmp_parameter_problem(MutableBytes out, std::uint8_t pointer, Bytes original);

}  // namespace synack::wire
