// The byte stream under loss, duplication, reordering and corruption: 10 MB each way at
// once, byte-exact, within a stated virtual time.
#include <gtest/gtest.h>

#include "stack/counters.hpp"
#include "support/bulk.hpp"

namespace synack::testing {
namespace {

constexpr std::uint64_t kTenMB = 10'000'000;

struct Path {
  const char* name;
  sim::ChannelParams params;
  Duration limit;  // virtual time allowed for 10 MB each way
};

class LossyTransfer : public ::testing::TestWithParam<Path> {};

TEST_P(LossyTransfer, TenMegabytesEachWayArriveByteExact) {
  const Path& path = GetParam();
  sim::World world(7, path.params);
  sim::Host& client = world.add_host(kClientAddr);
  sim::Host& server = world.add_host(kServerAddr);
  for (auto* h : {&client, &server}) {
    h->stack.tcp_defaults().send_buffer = 256 * 1024;
    h->stack.tcp_defaults().receive_buffer = 256 * 1024;
  }
  const Pair p = open_pair(world, client, server, 80, seconds(60));
  const BulkResult r =
      bulk_exchange(world, client, p.client, server, p.server, kTenMB, kTenMB, path.limit);
  EXPECT_TRUE(r.done) << "client->server " << r.a_to_b << ", server->client " << r.b_to_a
                      << (r.stalled ? " (stalled)" : "");
  EXPECT_EQ(r.mismatches, 0u);
  const double seconds_taken = static_cast<double>(r.elapsed.count()) / 1e9;
  RecordProperty("virtual_seconds", std::to_string(seconds_taken));
  std::printf(
      "[ %s ] 10 MB each way in %.2f s virtual: %.2f Mbit/s per direction; "
      "retransmits %llu/%llu, timeouts %llu/%llu, fast %llu/%llu\n",
      path.name, seconds_taken, 8 * static_cast<double>(kTenMB) / seconds_taken / 1e6,
      static_cast<unsigned long long>(client.stack.counters().tcp.retrans_segs),
      static_cast<unsigned long long>(server.stack.counters().tcp.retrans_segs),
      static_cast<unsigned long long>(client.stack.counters().tcp.timeouts),
      static_cast<unsigned long long>(server.stack.counters().tcp.timeouts),
      static_cast<unsigned long long>(client.stack.counters().tcp.fast_retransmits),
      static_cast<unsigned long long>(server.stack.counters().tcp.fast_retransmits));
  client.stack.close(p.client);
  server.stack.close(p.server);
  EXPECT_TRUE(run_until_no_connections(world, {&client, &server}, seconds(200)));
  EXPECT_EQ(client.stack.timers_armed() + server.stack.timers_armed(), 0u);
}

sim::ChannelParams path(double loss) {
  return sim::ChannelParams{.delay = milliseconds(10),
                            .bandwidth_bps = 100'000'000,
                            .queue_bytes = 512 * 1024,
                            .loss = loss};
}

sim::ChannelParams with(sim::ChannelParams p, double duplicate, double reorder, double corrupt) {
  p.duplicate = duplicate;
  p.reorder = reorder;
  p.reorder_delay = milliseconds(15);
  p.corrupt = corrupt;
  return p;
}

// A 10 Mbit/s bottleneck with a queue of only ten full segments: losses come from the
// queue overflowing, as on a real congested link.
sim::ChannelParams slow_bottleneck() {
  return sim::ChannelParams{
      .delay = milliseconds(20), .bandwidth_bps = 10'000'000, .queue_bytes = 15'000};
}

INSTANTIATE_TEST_SUITE_P(
    Faults, LossyTransfer,
    ::testing::Values(Path{"clean", path(0), seconds(10)}, Path{"loss1", path(0.01), seconds(60)},
                      Path{"loss5", path(0.05), seconds(300)},
                      Path{"loss20", path(0.20), seconds(3600)},
                      Path{"duplication", with(path(0), 0.10, 0, 0), seconds(20)},
                      Path{"reordering", with(path(0), 0, 0.10, 0), seconds(60)},
                      Path{"corruption", with(path(0), 0, 0, 0.02), seconds(120)},
                      Path{"everything", with(path(0.02), 0.02, 0.05, 0.01), seconds(300)},
                      Path{"slow_bottleneck", slow_bottleneck(), seconds(120)}),
    [](const auto& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace synack::testing
