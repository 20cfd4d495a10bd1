// What write_options can reproduce of decoded options: on a SYN, MSS, window scale,
// SACK-permitted and timestamps; on other segments, timestamps and as many SACK blocks
// as fit beside them. Decoding diagnostics (malformed, unknown) are not written at all.
#pragma once

#include <algorithm>
#include <cstddef>

#include "wire/tcp_options.hpp"

namespace synack::fuzz {

inline wire::TcpOptions writable_options(const wire::TcpOptions& o, bool syn) {
  wire::TcpOptions r;
  r.timestamps = o.timestamps;
  if (syn) {
    r.mss = o.mss;
    r.window_scale = o.window_scale;
    r.sack_permitted = o.sack_permitted;
    return r;
  }
  const std::size_t room = o.timestamps ? 3 : 4;
  const auto sacks = o.sacks();
  for (std::size_t i = 0; i < std::min(room, sacks.size()); ++i) r.add_sack(sacks[i]);
  return r;
}

}  // namespace synack::fuzz
