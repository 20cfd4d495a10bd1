#include "wire/ipv4.hpp"

#include <algorithm>
#include <ostream>

#include "wire/checksum.hpp"

namespace synack::wire {

std::optional<Ipv4Address> Ipv4Address::parse(std::string_view dotted) {
  std::uint32_t value = 0;
  std::size_t i = 0;
  for (int octet = 0; octet < 4; ++octet) {
    if (octet > 0) {
      if (i >= dotted.size() || dotted[i] != '.') return std::nullopt;
      ++i;
    }
    const std::size_t start = i;
    std::uint32_t n = 0;
    while (i < dotted.size() && i - start < 3 && dotted[i] >= '0' && dotted[i] <= '9') {
      n = n * 10 + static_cast<std::uint32_t>(dotted[i] - '0');
      ++i;
    }
    const std::size_t digits = i - start;
    if (digits == 0 || n > 255) return std::nullopt;
    if (digits > 1 && dotted[start] == '0') return std::nullopt;  // "01" is octal to inet_aton
    value = (value << 8) | n;
  }
  if (i != dotted.size()) return std::nullopt;  // a fourth digit, a fifth part, junk
  return Ipv4Address(value);
}

std::string Ipv4Address::to_string() const {
  std::string s;
  s.reserve(15);
  for (std::size_t k = 0; k < 4; ++k) {
    if (k > 0) s += '.';
    s += std::to_string(octets()[k]);
  }
  return s;
}

std::ostream& operator<<(std::ostream& os, Ipv4Address a) {
  return os << a.to_string();
}

namespace {

std::size_t header_length_of(Bytes b) {
  return std::size_t{static_cast<std::uint8_t>(b[0] & 0x0f)} * 4;
}

// The checks shared by parse() and parse_quoted(): fixed header present, version, IHL.
std::optional<ParseError> check_fixed_header(Bytes b) {
  if (b.size() < Ipv4View::kMinHeaderLength) return ParseError::truncated;
  if ((b[0] >> 4) != 4) return ParseError::bad_version;
  const std::size_t header_length = header_length_of(b);
  if (header_length < Ipv4View::kMinHeaderLength || header_length > b.size())
    return ParseError::bad_ihl;
  return std::nullopt;
}

}  // namespace

Result<Ipv4View, ParseError> Ipv4View::parse(Bytes packet) {
  if (auto e = check_fixed_header(packet)) return Unexpected{*e};
  const std::size_t header_length = header_length_of(packet);
  const std::size_t total_length = load_be16(&packet[2]);
  if (total_length < header_length || total_length > packet.size())
    return Unexpected{ParseError::bad_total_length};
  // A correct header sums to -0 (0xFFFF), so its checksum over itself is 0.
  if (internet_checksum(packet.first(header_length)) != 0)
    return Unexpected{ParseError::bad_checksum};
  return Ipv4View(packet.first(total_length));
}

Result<Ipv4View, ParseError> Ipv4View::parse_quoted(Bytes quoted) {
  if (auto e = check_fixed_header(quoted)) return Unexpected{*e};
  const std::size_t header_length = header_length_of(quoted);
  const std::size_t total_length = load_be16(&quoted[2]);
  if (total_length < header_length) return Unexpected{ParseError::bad_total_length};
  // RFC 792: the quote holds the first 64 bits of the original payload (all of a shorter one).
  const std::size_t wanted = std::min<std::size_t>(8, total_length - header_length);
  if (quoted.size() - header_length < wanted) return Unexpected{ParseError::truncated};
  return Ipv4View(quoted.first(std::min(total_length, quoted.size())));
}

std::optional<std::size_t> ipv4_bad_option(Bytes options) {
  constexpr std::uint8_t kEndOfOptionList = 0;
  constexpr std::uint8_t kNoOperation = 1;
  constexpr std::size_t kFixed = Ipv4View::kMinHeaderLength;
  // Each step moves forward by at least one octet: at most 40 steps.
  for (std::size_t i = 0; i < options.size();) {
    const std::uint8_t type = options[i];
    if (type == kEndOfOptionList) break;
    if (type == kNoOperation) {
      ++i;
      continue;
    }
    if (i + 1 >= options.size()) return kFixed + i;  // no room for the length octet
    const std::size_t length = options[i + 1];
    if (length < 2 || length > options.size() - i) return kFixed + i + 1;
    i += length;
  }
  return std::nullopt;
}

std::size_t write_ipv4_header(MutableBytes out, const Ipv4Header& header,
                              std::size_t payload_length) {
  constexpr std::size_t kHeaderLength = Ipv4View::kMinHeaderLength;
  if (out.size() < kHeaderLength || payload_length > 0xffff - kHeaderLength) return 0;
  std::uint8_t* p = out.data();
  p[0] = 0x45;  // version 4, IHL 5
  p[1] = header.tos;
  store_be16(p + 2, static_cast<std::uint16_t>(kHeaderLength + payload_length));
  store_be16(p + 4, header.id);
  store_be16(p + 6, header.df ? 0x4000 : 0x0000);  // flags and fragment offset 0
  p[8] = header.ttl;
  p[9] = header.protocol;
  store_be16(p + 10, 0);
  header.src.store(p + 12);
  header.dst.store(p + 16);
  store_be16(p + 10, internet_checksum(Bytes(p, kHeaderLength)));
  return kHeaderLength;
}

bool ipv4_decrement_ttl(MutableBytes header) {
  if (header.size() < Ipv4View::kMinHeaderLength || header[8] == 0) return false;
  // TTL shares its 16-bit word with the protocol field.
  const std::uint16_t old_word = load_be16(&header[8]);
  header[8] = static_cast<std::uint8_t>(header[8] - 1);
  const std::uint16_t new_word = load_be16(&header[8]);
  store_be16(&header[10], checksum_update16(load_be16(&header[10]), old_word, new_word));
  return true;
}

Ipv4Header Ipv4View::to_header() const {
  return Ipv4Header{.src = src(),
                    .dst = dst(),
                    .protocol = protocol(),
                    .ttl = ttl(),
                    .id = identification(),
                    .df = dont_fragment(),
                    .tos = tos()};
}

}  // namespace synack::wire
