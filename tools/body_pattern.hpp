// The body `synack serve --http-bytes` sends: byte i depends on i alone (byte i % 8 of a
// 64-bit mix of i / 8), so a receiver can check every byte at any offset without a copy of
// the file, and no shorter period hides a misplaced segment.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace synack::tools {

inline std::uint64_t body_word(std::uint64_t index) {
  std::uint64_t x = index + 0x9e3779b97f4a7c15ull;  // SplitMix64's finalizer
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

inline std::uint8_t body_byte(std::uint64_t offset) {
  return static_cast<std::uint8_t>(body_word(offset / 8) >> (8 * (offset % 8)));
}

// Fills `out` with the body's bytes from `offset` on.
inline void fill_body(std::uint64_t offset, std::span<std::uint8_t> out) {
  std::size_t i = 0;
  while (i < out.size()) {
    const std::uint64_t at = offset + i;
    const std::uint64_t word = body_word(at / 8);
    for (unsigned b = static_cast<unsigned>(at % 8); b < 8 && i < out.size(); ++b, ++i) {
      out[i] = static_cast<std::uint8_t>(word >> (8 * b));
    }
  }
}

}  // namespace synack::tools
