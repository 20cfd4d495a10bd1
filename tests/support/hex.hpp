// Hex for tests: bytes written the way a capture tool prints them, and back.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace synack::testing {

// "3039 0050 0102" -> {0x30, 0x39, 0x00, 0x50, 0x01, 0x02}; spaces are ignored.
inline std::vector<std::uint8_t> from_hex(std::string_view hex) {
  std::vector<std::uint8_t> out;
  auto nibble = [](char c) {
    return static_cast<std::uint8_t>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
  };
  for (std::size_t i = 0; i + 1 < hex.size();) {
    if (hex[i] == ' ') {
      ++i;
      continue;
    }
    out.push_back(static_cast<std::uint8_t>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
    i += 2;
  }
  return out;
}

// Lower-case hex; with `group` > 0, a space after every `group` bytes ("020405b4 01030307").
inline std::string to_hex(std::span<const std::uint8_t> bytes, std::size_t group = 0) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (group > 0 && i > 0 && i % group == 0) out += ' ';
    out += digits[bytes[i] >> 4];
    out += digits[bytes[i] & 15];
  }
  return out;
}

}  // namespace synack::testing
