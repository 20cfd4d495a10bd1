// synack_host_new's flags: "local=192.0.2.1 mtu=1500 wscale=0", separated by spaces or
// commas. Every key is known and every value parses, or the whole string is refused.
#include <charconv>
#include <string_view>

#include "capi/host.hpp"

namespace synack::capi {
namespace {

// A decimal number with nothing before or after it.
template <class Int>
std::optional<Int> parse_number(std::string_view text) {
  Int value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::optional<bool> parse_bool(std::string_view text) {
  if (text == "0") return false;
  if (text == "1") return true;
  return std::nullopt;
}

// Up to 32 hex digits, one 128-bit number: secret[0] its high half, secret[1] its low.
bool parse_secret(std::string_view text, std::uint64_t (&secret)[2]) {
  if (text.starts_with("0x") || text.starts_with("0X")) text.remove_prefix(2);
  if (text.empty() || text.size() > 32) return false;
  std::uint64_t high = 0;
  std::uint64_t low = 0;
  for (const char c : text) {
    std::uint64_t digit = 0;
    if (c >= '0' && c <= '9') {
      digit = static_cast<std::uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<std::uint64_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      digit = static_cast<std::uint64_t>(c - 'A' + 10);
    } else {
      return false;
    }
    high = (high << 4) | (low >> 60);
    low = (low << 4) | digit;
  }
  secret[0] = high;
  secret[1] = low;
  return true;
}

// IPv4's smallest MTU (RFC 791: 68) up to the largest packet an IPv4 header can describe.
constexpr std::size_t kMinMtu = 68;
constexpr std::size_t kMaxMtu = 65535;

bool apply(HostFlags& flags, std::string_view key, std::string_view value) {
  if (key == "local") {
    const auto address = Ipv4Address::parse(value);
    if (!address || address->is_unspecified() || address->is_multicast() ||
        address->is_broadcast()) {
      return false;
    }
    flags.local = *address;
    return true;
  }
  if (key == "mtu") {
    const auto mtu = parse_number<std::size_t>(value);
    if (!mtu || *mtu < kMinMtu || *mtu > kMaxMtu) return false;
    flags.mtu = *mtu;
    return true;
  }
  if (key == "secret") return parse_secret(value, flags.secret);
  if (key == "max_sockets" || key == "max_buffer_memory") {
    const auto limit = parse_number<std::size_t>(value);
    if (!limit) return false;
    (key == "max_sockets" ? flags.max_sockets : flags.max_buffer_memory) = *limit;
    return true;
  }
  bool* toggle = key == "wscale"       ? &flags.window_scaling
                 : key == "sack"       ? &flags.sack
                 : key == "timestamps" ? &flags.timestamps
                                       : nullptr;
  if (!toggle) return false;
  const auto on = parse_bool(value);
  if (!on) return false;
  *toggle = *on;
  return true;
}

}  // namespace

std::optional<HostFlags> parse_host_flags(const char* text) {
  HostFlags flags;
  if (!text) return flags;
  std::string_view rest(text);
  while (!rest.empty()) {
    const auto start = rest.find_first_not_of(" ,\t\n");
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    const auto end = rest.find_first_of(" ,\t\n");
    const std::string_view item = rest.substr(0, end);
    rest.remove_prefix(item.size());
    const auto equals = item.find('=');
    if (equals == std::string_view::npos) return std::nullopt;
    if (!apply(flags, item.substr(0, equals), item.substr(equals + 1))) return std::nullopt;
  }
  return flags;
}

}  // namespace synack::capi
