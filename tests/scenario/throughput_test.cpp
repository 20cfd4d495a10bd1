// Bulk transfer on a clean path: 10 MB one way over 100 Mbit/s with 10 ms one-way delay
// and a queue that never overflows. With buffers that cover the bandwidth-delay product
// the link is the limit; with the default 64 KB buffers the window is. Both are checked
// against the arithmetic, and the bytes against the source.
#include <gtest/gtest.h>

#include "stack/counters.hpp"
#include "support/flow.hpp"

namespace synack::testing {
namespace {

constexpr std::uint64_t kBandwidth = 100'000'000;  // bit/s
constexpr Duration kDelay = milliseconds(10);
constexpr std::size_t kBytes = 10'000'000;
// 1500 MTU - 40, less the 12 bytes of the timestamps option every segment carries.
constexpr std::size_t kMss = 1448;
// The link's floor: every segment is 1500 bytes on the wire (the last one shorter).
constexpr std::size_t kSegments = (kBytes + kMss - 1) / kMss;  // 6907
constexpr Duration kSerialization =
    nanoseconds(static_cast<std::int64_t>(kSegments * 1500 * 8 * 1'000'000'000 / kBandwidth));

struct Throughput : ::testing::Test {
  sim::World world{
      17, sim::ChannelParams{
              .delay = kDelay, .bandwidth_bps = kBandwidth, .queue_bytes = 8 * 1024 * 1024}};
  sim::Host& client = world.add_host(kClientAddr);
  sim::Host& server = world.add_host(kServerAddr);

  // Sends kBytes from client to server; returns the virtual time from the first write to
  // the last byte read.
  Duration send_all(int buffer) {
    if (buffer > 0) {
      for (sim::Host* h : {&client, &server}) {
        h->stack.tcp_defaults().send_buffer = static_cast<std::size_t>(buffer);
        h->stack.tcp_defaults().receive_buffer = static_cast<std::size_t>(buffer);
      }
    }
    const Pair p = open_pair(world, client, server);
    const std::string data = pattern(kBytes, 8);
    const Instant start = world.now();
    const std::string got = transfer(world, client, p.client, server, p.server, data);
    const Duration took = world.now() - start;
    EXPECT_TRUE(same_bytes(got, data));
    const auto& path = world.net().channel(kClientAddr.to_u32(), kServerAddr.to_u32()).stats();
    EXPECT_EQ(path.queue_full + path.lost, 0u) << "the queue was big enough";
    EXPECT_EQ(client.stack.counters().tcp.retrans_segs, 0u);
    EXPECT_EQ(client.stack.counters().tcp.timeouts, 0u);
    client.stack.close(p.client);
    EXPECT_EQ(read_to_eof(world, server, p.server), "");
    server.stack.close(p.server);
    EXPECT_TRUE(run_until_no_connections(world, {&client, &server}, seconds(61)));
    RecordProperty("virtual_ms", static_cast<int>(to_nanos(Instant{} + took) / 1'000'000));
    return took;
  }
};

// 1 MB buffers (4x the 250 KB bandwidth-delay product): full-sized segments back to back
// once slow start has opened the window. The floor is 6907 segments x 1500 bytes at
// 100 Mbit/s = 829 ms, plus the last segment's 10 ms flight: 839 ms. Slow start from ten
// segments (RFC 6928) doubles per 20 ms round trip and needs about five of them to cover
// the path, leaving the link partly idle for ~100 ms. Bound: 1 s (the run takes 0.966 s).
TEST_F(Throughput, TenMegabytesFillTheLinkWithBuffersAboveTheBdp) {
  const Duration took = send_all(1 << 20);
  EXPECT_GE(took, kSerialization + kDelay);
  EXPECT_LE(took, milliseconds(1000)) << to_nanos(Instant{} + took) / 1000 << " us";
  EXPECT_EQ(client.stack.counters().tcp.out_segs - client.stack.counters().tcp.retrans_segs,
            std::uint64_t{kSegments} + 4)
      << "full segments only, plus SYN, the handshake's ACK, FIN and the ACK of the peer's FIN";
}

// The default 64 KB buffers: at most 64 KB in flight per 20 ms round trip, 3.3 MB/s, far
// below the link's 12.5 MB/s: 10 MB cannot take less than 3.05 s. Bound: 3.3 s, within 8%
// of that (the run takes 3.15 s: each round trip is a little over 20 ms, ACKs are delayed).
TEST_F(Throughput, TenMegabytesAreWindowLimitedWithDefaultBuffers) {
  const Duration took = send_all(0);
  EXPECT_GE(took, nanoseconds(static_cast<std::int64_t>(kBytes) * 20'000'000 / 65536));
  EXPECT_LE(took, milliseconds(3300)) << to_nanos(Instant{} + took) / 1000 << " us";
}

}  // namespace
}  // namespace synack::testing
