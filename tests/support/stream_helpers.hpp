// Small helpers shared by the raw-peer tests of the reliable byte stream: the options a
// peer puts in its SYN, timestamp options, recognisable payloads.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <ostream>
#include <string>

#include "wire/tcp_options.hpp"

namespace synack::wire {
// SACK blocks print as [left, right) in test failures.
inline void PrintTo(const SackBlock& b, std::ostream* os) {
  *os << "[" << b.left << ", " << b.right << ")";
}
}  // namespace synack::wire

namespace synack::testing {

// A peer SYN offering what the test names (MSS 1460 always).
inline wire::TcpOptions syn_options(bool sack, bool timestamps, std::optional<int> wscale,
                                    std::uint32_t tsval = 100) {
  wire::TcpOptions o;
  o.mss = 1460;
  o.sack_permitted = sack;
  if (timestamps) o.timestamps = wire::TcpTimestamps{tsval, 0};
  if (wscale) o.window_scale = static_cast<std::uint8_t>(*wscale);
  return o;
}

// The options of a non-SYN segment carrying timestamps (and SACK blocks, if given).
inline wire::TcpOptions ts_options(std::uint32_t tsval, std::uint32_t tsecr) {
  wire::TcpOptions o;
  o.timestamps = wire::TcpTimestamps{tsval, tsecr};
  return o;
}

inline wire::TcpOptions sack_options(std::initializer_list<wire::SackBlock> blocks) {
  wire::TcpOptions o;
  for (const auto& b : blocks) o.add_sack(b);
  return o;
}

// `n` bytes of the stream starting at offset `from`: every offset has its own letter, so
// a byte delivered to the wrong place shows in the comparison.
inline std::string stream_bytes(std::size_t from, std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t k = from + i;
    s[i] = static_cast<char>('a' + (k * 7 + k / 26) % 26);
  }
  return s;
}

}  // namespace synack::testing
