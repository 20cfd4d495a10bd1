// The simulated network on its own: delays, bottleneck, faults and scripted faults,
// asserted to the nanosecond on virtual time.
#include <gtest/gtest.h>

#include <vector>

#include "link/capture.hpp"
#include "link/sim/network.hpp"
#include "wire/checksum.hpp"

namespace synack::sim {
namespace {

constexpr std::uint32_t kA = 0xC6120001;  // 198.18.0.1
constexpr std::uint32_t kB = 0xC6120002;  // 198.18.0.2
constexpr std::uint32_t kNowhere = 0xC6120063;

// A frame shaped like IPv4 (destination at offset 16) carrying a marker byte at offset 20,
// with a valid Internet checksum over the whole frame in bytes 10-11.
std::vector<std::uint8_t> frame(std::uint32_t dst, std::size_t size, std::uint8_t marker) {
  std::vector<std::uint8_t> f(size, 0x5a);
  wire::store_be32(f.data() + 12, kA);
  wire::store_be32(f.data() + 16, dst);
  f[20] = marker;
  f[10] = f[11] = 0;
  wire::store_be16(f.data() + 10, wire::internet_checksum(f));
  return f;
}

struct Arrival {
  Instant at;
  std::uint8_t marker;
  std::vector<std::uint8_t> bytes;
};

// Drains its link on every poll and remembers what came, when.
class Recorder final : public Node, public link::FrameSink {
 public:
  explicit Recorder(link::Link& l) : link_(l) {}
  void poll(Instant now) override {
    ++polls;
    link_.receive(now, *this, 1000);
    if (wake && *wake <= now) wake.reset();
  }
  std::optional<Instant> next_deadline() const override { return wake; }
  void on_frame(wire::Bytes f, Instant at) override {
    got.push_back({at, f[20], std::vector<std::uint8_t>(f.begin(), f.end())});
  }
  std::vector<Arrival> got;
  std::optional<Instant> wake;
  int polls = 0;

 private:
  link::Link& link_;
};

struct Pair {
  explicit Pair(std::uint64_t seed = 1, ChannelParams p = {})
      : net(seed, p), a(net.add_host(kA)), b(net.add_host(kB)), rb(b) {
    net.add_node(rb, &b);
  }
  void send(std::uint8_t marker, std::size_t size = 100) {
    a.send(frame(kB, size, marker), net.now());
  }
  Network net;
  SimLink& a;
  SimLink& b;
  Recorder rb;
};

TEST(SimNetwork, FrameArrivesExactlyAfterThePathDelay) {
  Pair p(1, ChannelParams{.delay = milliseconds(5)});
  p.send(1);
  p.net.run_for(seconds(1));
  ASSERT_EQ(p.rb.got.size(), 1u);
  EXPECT_EQ(p.rb.got[0].at, kEpoch + milliseconds(5));
  EXPECT_EQ(p.rb.got[0].bytes, frame(kB, 100, 1));
}

TEST(SimNetwork, BottleneckSerializesFramesAtTheLinkRate) {
  // 1 Mbit/s: a 1250-byte frame takes exactly 10 ms to leave.
  Pair p(1, ChannelParams{.delay = milliseconds(5), .bandwidth_bps = 1'000'000});
  p.send(1, 1250);
  p.send(2, 1250);
  p.net.run_for(seconds(1));
  ASSERT_EQ(p.rb.got.size(), 2u);
  EXPECT_EQ(p.rb.got[0].at, kEpoch + milliseconds(15));
  EXPECT_EQ(p.rb.got[1].at, kEpoch + milliseconds(25));
}

TEST(SimNetwork, FullBottleneckQueueDropsTheTail) {
  Pair p(1, ChannelParams{.bandwidth_bps = 1'000'000, .queue_bytes = 2500});
  for (std::uint8_t i = 1; i <= 5; ++i) p.send(i, 1250);
  p.net.run_for(seconds(1));
  // Frame 1 starts at once, 2 waits behind it (backlog 1250 + 1250 fits), 3..5 find the
  // queue full (2500 queued + 1250 > 2500).
  ASSERT_EQ(p.rb.got.size(), 2u);
  EXPECT_EQ(p.net.channel(kA, kB).stats().queue_full, 3u);
}

TEST(SimNetwork, RandomLossIsNearItsRateAndReproducibleFromTheSeed) {
  auto run = [](std::uint64_t seed) {
    Pair p(seed, ChannelParams{.delay = milliseconds(1), .loss = 0.2});
    for (int i = 0; i < 10000; ++i) p.send(static_cast<std::uint8_t>(i));
    p.net.run_for(seconds(1));
    EXPECT_EQ(p.rb.got.size() + p.net.channel(kA, kB).stats().lost, 10000u);
    return p.net.channel(kA, kB).stats().lost;
  };
  const auto lost = run(7);
  EXPECT_GT(lost, 1800u);
  EXPECT_LT(lost, 2200u);
  EXPECT_EQ(run(7), lost);
  EXPECT_NE(run(8), lost);
}

TEST(SimNetwork, DuplicationDeliversTwoIdenticalCopies) {
  Pair p(1, ChannelParams{.delay = milliseconds(5), .duplicate = 1.0});
  p.send(9);
  p.net.run_for(seconds(1));
  ASSERT_EQ(p.rb.got.size(), 2u);
  EXPECT_EQ(p.rb.got[0].bytes, p.rb.got[1].bytes);
  EXPECT_EQ(p.rb.got[1].at - p.rb.got[0].at, microseconds(1));
}

TEST(SimNetwork, ReorderingLetsLaterFramesOvertakeButLosesNothing) {
  Pair p(3, ChannelParams{
                .delay = milliseconds(5), .reorder = 0.3, .reorder_delay = milliseconds(10)});
  for (std::uint8_t i = 0; i < 100; ++i) {
    p.send(i);
    p.net.run_for(milliseconds(1));
  }
  p.net.run_for(seconds(1));
  ASSERT_EQ(p.rb.got.size(), 100u);
  int inversions = 0;
  std::vector<bool> seen(100);
  for (std::size_t i = 0; i < p.rb.got.size(); ++i) {
    seen[p.rb.got[i].marker] = true;
    if (i > 0 && p.rb.got[i].marker < p.rb.got[i - 1].marker) ++inversions;
  }
  EXPECT_EQ(std::count(seen.begin(), seen.end(), true), 100);
  EXPECT_GT(inversions, 10);
  // Only the frames the channel chose to hold back arrive out of order.
  const auto reordered = p.net.channel(kA, kB).stats().reordered;
  EXPECT_GT(reordered, 15u);
  EXPECT_LT(reordered, 45u);
}

TEST(SimNetwork, JitterAloneKeepsOrder) {
  Pair p(5, ChannelParams{.delay = milliseconds(5), .jitter = milliseconds(4)});
  for (std::uint8_t i = 0; i < 50; ++i) {
    p.send(i);
    p.net.run_for(microseconds(100));
  }
  p.net.run_for(seconds(1));
  ASSERT_EQ(p.rb.got.size(), 50u);
  for (std::uint8_t i = 0; i < 50; ++i) EXPECT_EQ(p.rb.got[i].marker, i);
}

TEST(SimNetwork, CorruptionFlipsOneBitThatTheChecksumCatches) {
  Pair p(11, ChannelParams{.corrupt = 1.0});
  for (int i = 0; i < 20; ++i) p.send(7, 101);
  p.net.run_for(seconds(1));
  ASSERT_EQ(p.rb.got.size(), 20u);
  const auto sent = frame(kB, 101, 7);
  for (const Arrival& got : p.rb.got) {
    int bits = 0;
    for (std::size_t k = 0; k < sent.size(); ++k) {
      bits += __builtin_popcount(static_cast<unsigned>(sent[k] ^ got.bytes[k]));
    }
    EXPECT_EQ(bits, 1);
    EXPECT_NE(wire::internet_checksum(got.bytes), 0) << "a flipped bit must fail the check";
  }
}

TEST(SimNetwork, FrameLargerThanTheMtuIsDroppedAndObserved) {
  struct Drops final : NetworkObserver {
    std::vector<DropReason> reasons;
    void on_drop(std::uint32_t, std::uint32_t, wire::Bytes, DropReason r, Instant) override {
      reasons.push_back(r);
    }
  } drops;
  Pair p;
  p.net.set_observer(&drops);
  p.net.channel(kA, kB).params().mtu = 1400;
  p.send(1, 1400);
  p.send(2, 1401);
  p.net.run_for(seconds(1));
  ASSERT_EQ(p.rb.got.size(), 1u);
  EXPECT_EQ(p.rb.got[0].marker, 1);
  EXPECT_EQ(drops.reasons, std::vector<DropReason>{DropReason::too_big});
}

TEST(SimNetwork, DropNthDropsExactlyThatFrame) {
  Pair p;
  p.net.channel(kA, kB).drop_nth(3);
  for (std::uint8_t i = 1; i <= 5; ++i) p.send(i);
  p.net.run_for(seconds(1));
  std::vector<std::uint8_t> markers;
  for (auto& g : p.rb.got) markers.push_back(g.marker);
  EXPECT_EQ(markers, (std::vector<std::uint8_t>{1, 2, 4, 5}));
}

TEST(SimNetwork, DropMatchingDropsEveryMatchingFrameUpToItsCount) {
  Pair p;
  p.net.channel(kA, kB).drop_matching([](wire::Bytes f) { return f[20] % 2 == 0; }, 2);
  for (std::uint8_t i = 1; i <= 6; ++i) p.send(i);
  p.net.run_for(seconds(1));
  std::vector<std::uint8_t> markers;
  for (auto& g : p.rb.got) markers.push_back(g.marker);
  EXPECT_EQ(markers, (std::vector<std::uint8_t>{1, 3, 5, 6}));
  EXPECT_EQ(p.net.channel(kA, kB).stats().scripted_drops, 2u);
}

TEST(SimNetwork, HeldFrameArrivesMuchLaterAfterEverythingElse) {
  Pair p(1, ChannelParams{.delay = milliseconds(5)});
  p.net.channel(kA, kB).hold_matching([](wire::Bytes f) { return f[20] == 1; }, seconds(30));
  p.send(1);
  p.send(2);
  p.net.run_for(seconds(60));
  ASSERT_EQ(p.rb.got.size(), 2u);
  EXPECT_EQ(p.rb.got[0].marker, 2);
  EXPECT_EQ(p.rb.got[0].at, kEpoch + milliseconds(5));
  EXPECT_EQ(p.rb.got[1].marker, 1);
  EXPECT_EQ(p.rb.got[1].at, kEpoch + seconds(30) + milliseconds(5));
}

TEST(SimNetwork, FrameToAnUnknownAddressIsCountedAsNoRoute) {
  Pair p;
  p.a.send(frame(kNowhere, 60, 1), p.net.now());
  p.a.send(std::vector<std::uint8_t>(10), p.net.now());  // too short to name a destination
  p.net.run_for(seconds(1));
  EXPECT_TRUE(p.rb.got.empty());
  EXPECT_EQ(p.net.no_route_drops(), 2u);
}

TEST(SimNetwork, IdleVirtualTimeIsJumpedNotStepped) {
  Pair p;
  p.rb.wake = kEpoch + seconds(60);
  const auto r = p.net.run_for(seconds(3600));
  EXPECT_TRUE(r.done);
  EXPECT_EQ(p.net.now(), kEpoch + seconds(3600));
  EXPECT_EQ(p.rb.polls, 1);
  EXPECT_EQ(p.net.steps(), 1u);
}

TEST(SimNetwork, NodeThatNeverProgressesStallsTheRunInsteadOfHangingIt) {
  struct Stuck final : Node {
    void poll(Instant) override {}
    std::optional<Instant> next_deadline() const override { return kEpoch; }
  } stuck;
  Pair p;
  p.net.add_node(stuck);
  const auto r = p.net.run_for(seconds(1));
  EXPECT_TRUE(r.stalled);
}

TEST(SimNetwork, RunUntilStopsAsSoonAsTheConditionHolds) {
  Pair p(1, ChannelParams{.delay = milliseconds(5)});
  p.send(1);
  p.send(2);
  const auto r = p.net.run_until([&] { return !p.rb.got.empty(); }, seconds(10));
  EXPECT_TRUE(r.done);
  EXPECT_EQ(p.net.now(), kEpoch + milliseconds(5));
}

TEST(SimNetwork, CaptureLinkSeesEveryFrameInAndOutWithItsTimestamp) {
  struct Log final : link::CaptureSink {
    std::vector<std::pair<link::Direction, Instant>> seen;
    void on_capture(link::Direction d, wire::Bytes, Instant at) override {
      seen.emplace_back(d, at);
    }
  } log;
  Network net(1, ChannelParams{.delay = milliseconds(2)});
  SimLink& a = net.add_host(kA);
  SimLink& b = net.add_host(kB);
  link::CaptureLink cap_b(b, log);
  Recorder rb(cap_b);
  net.add_node(rb, &b);
  a.send(frame(kB, 60, 1), net.now());
  net.run_for(milliseconds(10));
  cap_b.send(frame(kA, 60, 2), net.now());
  net.run_for(milliseconds(10));
  ASSERT_EQ(log.seen.size(), 2u);
  EXPECT_EQ(log.seen[0], std::pair(link::Direction::in, kEpoch + milliseconds(2)));
  EXPECT_EQ(log.seen[1], std::pair(link::Direction::out, kEpoch + milliseconds(10)));
}

}  // namespace
}  // namespace synack::sim
