#include "support/bulk.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace synack::testing {

std::uint8_t stream_byte(std::uint32_t stream, std::uint64_t offset) {
  std::uint64_t x = offset * 0x9e3779b97f4a7c15ull + stream;
  x ^= x >> 29;
  return static_cast<std::uint8_t>(x ^ (x >> 8) ^ (x >> 16));
}

namespace {

struct Side {
  sim::Host& host;
  SocketId s;
  std::uint32_t out_stream;
  std::uint32_t in_stream;
  std::uint64_t to_send;
  std::uint64_t sent = 0;
  std::uint64_t received = 0;
  bool shut = false;
  bool eof = false;
  std::uint64_t mismatches = 0;

  void pump(std::vector<std::uint8_t>& buf) {
    // Generate only while the stack can take more: a full send buffer costs nothing.
    while (sent < to_send && host.stack.readiness(s).writable) {
      const std::size_t chunk =
          static_cast<std::size_t>(std::min<std::uint64_t>(16 * 1024, to_send - sent));
      for (std::size_t i = 0; i < chunk; ++i) buf[i] = stream_byte(out_stream, sent + i);
      std::size_t n = 0;
      const auto ec = host.stack.write(s, std::span(buf.data(), chunk), n);
      sent += n;
      if (ec || n < chunk) break;
    }
    if (sent == to_send && !shut) {
      host.stack.shutdown(s, Shutdown::write);
      shut = true;
    }
    while (!eof) {
      std::size_t n = 0;
      const auto ec = host.stack.read(s, buf, n);
      if (ec) break;
      if (n == 0) {
        eof = true;
        break;
      }
      for (std::size_t i = 0; i < n; ++i) {
        if (buf[i] != stream_byte(in_stream, received + i)) ++mismatches;
      }
      received += n;
    }
  }
};

}  // namespace

BulkResult bulk_exchange(sim::World& world, sim::Host& a, SocketId sa, sim::Host& b, SocketId sb,
                         std::uint64_t a_bytes, std::uint64_t b_bytes, Duration limit) {
  Side sa_side{a, sa, 1, 2, a_bytes};
  Side sb_side{b, sb, 2, 1, b_bytes};
  std::vector<std::uint8_t> buf(64 * 1024);
  const Instant start = world.now();
  const auto r = world.run_until(
      [&] {
        sa_side.pump(buf);
        sb_side.pump(buf);
        return sa_side.eof && sb_side.eof;
      },
      limit);
  BulkResult out;
  out.done = r.done && sa_side.received == b_bytes && sb_side.received == a_bytes;
  out.a_to_b = sb_side.received;
  out.b_to_a = sa_side.received;
  out.mismatches = sa_side.mismatches + sb_side.mismatches;
  out.elapsed = world.now() - start;
  out.stalled = r.stalled;
  return out;
}

}  // namespace synack::testing
