// IPv4 (RFC 791): the address type, a checked view over a received packet, and a builder for
// the 20-byte header we send (no options).
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "wire/bytes.hpp"
#include "wire/parse_error.hpp"

namespace synack::wire {

// Protocol numbers of the IPv4 protocol field (IANA "Assigned Internet Protocol Numbers").
inline constexpr std::uint8_t kIcmp = 1;
inline constexpr std::uint8_t kTcp = 6;
inline constexpr std::uint8_t kUdp = 17;

// An IPv4 address held as a host-order integer: 198.18.0.1 is 0xC6120001.
class Ipv4Address {
 public:
  constexpr Ipv4Address() = default;
  constexpr explicit Ipv4Address(std::uint32_t host_order) : value_(host_order) {}
  constexpr Ipv4Address(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d)
      : value_((std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) |
               std::uint32_t{d}) {}

  // Strict dotted-quad: exactly four decimal octets 0..255, no leading zeros (which
  // inet_aton would read as octal), no spaces, signs or trailing characters.
  static std::optional<Ipv4Address> parse(std::string_view dotted);

  // Reads or writes the four network-order bytes at p.
  static Ipv4Address load(const std::uint8_t* p) { return Ipv4Address(load_be32(p)); }
  void store(std::uint8_t* p) const { store_be32(p, value_); }

  constexpr std::uint32_t to_u32() const { return value_; }
  constexpr std::array<std::uint8_t, 4> octets() const {
    return {static_cast<std::uint8_t>(value_ >> 24), static_cast<std::uint8_t>(value_ >> 16),
            static_cast<std::uint8_t>(value_ >> 8), static_cast<std::uint8_t>(value_)};
  }

  constexpr bool is_unspecified() const { return value_ == 0; }          // 0.0.0.0
  constexpr bool is_broadcast() const { return value_ == 0xffffffffu; }  // limited broadcast
  constexpr bool is_loopback() const { return (value_ >> 24) == 127; }   // 127/8
  constexpr bool is_multicast() const { return (value_ >> 28) == 0xe; }  // 224/4

  // Dotted-quad text. Allocates: for diagnostics, logs and tests, not the packet path.
  std::string to_string() const;

  constexpr auto operator<=>(const Ipv4Address&) const = default;

 private:
  std::uint32_t value_ = 0;
};

std::ostream& operator<<(std::ostream& os, Ipv4Address a);

// A received IPv4 packet, validated by parse(). The view covers the packet up to its total
// length; accessors read the big-endian fields in place.
struct Ipv4Header;

class Ipv4View {
 public:
  static constexpr std::size_t kMinHeaderLength = 20;
  static constexpr std::size_t kMaxHeaderLength = 60;

  // Checks, in this order: the buffer holds 20 bytes (truncated); version is 4
  // (bad_version); IHL >= 5 and the header fits in the buffer (bad_ihl); header length <=
  // total length <= buffer size (bad_total_length); the header checksum (bad_checksum).
  // Bytes past the total length (Ethernet padding) are ignored. Fragments are accepted:
  // callers that cannot reassemble test is_fragment().
  static Result<Ipv4View, ParseError> parse(Bytes packet);

  // For the original datagram quoted inside an ICMP error (RFC 792): the quote is cut short
  // on purpose, so the total length may exceed the bytes at hand (payload() is what was
  // quoted), and the header checksum is not verified (routers may have changed the TTL).
  // Still checks: 20 bytes (truncated), version (bad_version), IHL >= 5 and the header
  // within the quote (bad_ihl), total length >= header length (bad_total_length), and the
  // first 8 payload bytes (or all of a shorter payload) quoted, as RFC 792 asks (truncated).
  static Result<Ipv4View, ParseError> parse_quoted(Bytes quoted);

  std::uint8_t version() const { return static_cast<std::uint8_t>(bytes_[0] >> 4); }
  std::uint8_t ihl() const { return static_cast<std::uint8_t>(bytes_[0] & 0x0f); }  // words
  std::size_t header_length() const { return std::size_t{ihl()} * 4; }
  std::uint8_t tos() const { return bytes_[1]; }  // DSCP and ECN together (RFC 2474, 3168)
  std::uint8_t dscp() const { return static_cast<std::uint8_t>(bytes_[1] >> 2); }
  std::uint8_t ecn() const { return static_cast<std::uint8_t>(bytes_[1] & 0x03); }
  std::uint16_t total_length() const { return load_be16(&bytes_[2]); }
  std::uint16_t identification() const { return load_be16(&bytes_[4]); }
  bool dont_fragment() const { return (bytes_[6] & 0x40) != 0; }
  bool more_fragments() const { return (bytes_[6] & 0x20) != 0; }
  // In bytes (the field counts 8-byte units).
  std::uint16_t fragment_offset() const {
    return static_cast<std::uint16_t>((load_be16(&bytes_[6]) & 0x1fff) * 8);
  }
  bool is_fragment() const { return more_fragments() || fragment_offset() != 0; }
  std::uint8_t ttl() const { return bytes_[8]; }
  // The fields write_ipv4_header takes (options and fragment offset are not among them).
  Ipv4Header to_header() const;
  std::uint8_t protocol() const { return bytes_[9]; }
  std::uint16_t header_checksum() const { return load_be16(&bytes_[10]); }
  Ipv4Address src() const { return Ipv4Address::load(&bytes_[12]); }
  Ipv4Address dst() const { return Ipv4Address::load(&bytes_[16]); }

  // Raw option bytes between the fixed header and header_length(); empty without options.
  Bytes options() const {
    return bytes_.subspan(kMinHeaderLength, header_length() - kMinHeaderLength);
  }
  Bytes header() const { return bytes_.first(header_length()); }
  // Cut at the total length (for a quoted packet: at the end of the quote).
  Bytes payload() const { return bytes_.subspan(header_length()); }
  // Header and payload.
  Bytes packet() const { return bytes_; }

 private:
  explicit Ipv4View(Bytes bytes) : bytes_(bytes) {}
  Bytes bytes_;
};

// Walks the options of a header (RFC 791 §3.1): End of Option List ends them, No Operation
// is one octet, every other option is type, length (counting both, so >= 2) and value, and
// must end within the header. Returns the offset in the header (20 + the offset in
// `options`) of the first octet found wrong (an option's length, or its type when the
// length octet is missing), or nullopt when the list is well formed. The options'
// contents are not interpreted.
std::optional<std::size_t> ipv4_bad_option(Bytes options);

// The fields of a header we send. No options, so the header is always 20 bytes.
struct Ipv4Header {
  Ipv4Address src;
  Ipv4Address dst;
  std::uint8_t protocol = 0;
  std::uint8_t ttl = 64;
  std::uint16_t id = 0;
  bool df = true;  // Don't Fragment: we do path MTU discovery (RFC 1191), never fragment
  std::uint8_t tos = 0;
};

// Writes a 20-byte header with its checksum at the start of `out`, for a payload of
// payload_length bytes. Returns 20, or 0 if `out` is shorter than 20 bytes or the total
// length would not fit in 16 bits.
std::size_t write_ipv4_header(MutableBytes out, const Ipv4Header& header,
                              std::size_t payload_length);

// Decrements the TTL of the header at the start of `header` and patches the checksum
// incrementally (RFC 1624 eqn. 3) instead of summing the header again, as a router does.
// Returns false, changing nothing, if fewer than 20 bytes are given or the TTL is already 0.
bool ipv4_decrement_ttl(MutableBytes header);

}  // namespace synack::wire
