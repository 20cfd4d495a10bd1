// FaultLink in virtual time: what it holds, when it releases it, and what it changes.
#include "link/fault_link.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <vector>

namespace synack::link {
namespace {

// A medium that loops sent frames back to receive(), in order, at once; with `vouches`,
// as frames whose checksum it vouches for (on_trusted_frame).
class Loopback final : public Link {
 public:
  void send(wire::Bytes frame, Instant) override {
    frames.emplace_back(frame.begin(), frame.end());
  }
  std::size_t receive(Instant now, FrameSink& sink, std::size_t budget) override {
    std::size_t n = 0;
    while (n < budget && !frames.empty()) {
      const auto f = frames.front();
      frames.pop_front();
      if (vouches) {
        sink.on_trusted_frame(f, now);
      } else {
        sink.on_frame(f, now);
      }
      ++n;
    }
    return n;
  }
  std::size_t mtu() const override { return 1500; }
  std::deque<std::vector<std::uint8_t>> frames;
  bool vouches = false;
};

struct Collect final : FrameSink {
  void on_frame(wire::Bytes frame, Instant at) override {
    frames.emplace_back(frame.begin(), frame.end());
    times.push_back(at);
    trusted.push_back(false);
  }
  void on_trusted_frame(wire::Bytes frame, Instant at) override {
    on_frame(frame, at);
    trusted.back() = true;
  }
  std::vector<std::vector<std::uint8_t>> frames;
  std::vector<Instant> times;
  std::vector<bool> trusted;
};

const std::vector<std::uint8_t> kFrame = {1, 2, 3, 4, 5, 6, 7, 8};

TEST(FaultLink, WithoutFaultsPassesFramesThroughAtOnce) {
  Loopback medium;
  FaultLink link(medium, FaultLink::no_faults(), FaultLink::no_faults(), 1);
  link.send(kFrame, kEpoch);
  Collect got;
  EXPECT_EQ(link.receive(kEpoch, got, 64), 1u);
  EXPECT_EQ(got.frames.at(0), kFrame);
  EXPECT_EQ(link.next_arrival(), std::nullopt);
}

TEST(FaultLink, HoldsADelayedFrameUntilItIsDue) {
  Loopback medium;
  sim::ChannelParams out = FaultLink::no_faults();
  out.delay = milliseconds(10);
  FaultLink link(medium, out, FaultLink::no_faults(), 1);
  link.send(kFrame, kEpoch);
  EXPECT_TRUE(medium.frames.empty());  // held on the way out
  EXPECT_EQ(link.next_arrival(), kEpoch + milliseconds(10));
  Collect got;
  EXPECT_EQ(link.receive(kEpoch + milliseconds(9), got, 64), 0u);
  EXPECT_EQ(link.receive(kEpoch + milliseconds(10), got, 64), 1u);
  EXPECT_EQ(got.frames.at(0), kFrame);
  EXPECT_EQ(link.next_arrival(), std::nullopt);
}

TEST(FaultLink, InboundDelayDeliversWithTheArrivalTime) {
  Loopback medium;
  sim::ChannelParams in = FaultLink::no_faults();
  in.delay = milliseconds(3);
  FaultLink link(medium, FaultLink::no_faults(), in, 1);
  link.send(kFrame, kEpoch);
  Collect got;
  EXPECT_EQ(link.receive(kEpoch, got, 64), 0u);
  EXPECT_EQ(link.next_arrival(), kEpoch + milliseconds(3));
  EXPECT_EQ(link.receive(kEpoch + milliseconds(5), got, 64), 1u);
  EXPECT_EQ(got.times.at(0), kEpoch + milliseconds(3));
}

TEST(FaultLink, LossDuplicationAndCorruption) {
  Loopback medium;
  sim::ChannelParams p = FaultLink::no_faults();
  p.loss = 1;
  FaultLink lossy(medium, p, FaultLink::no_faults(), 1);
  lossy.send(kFrame, kEpoch);
  EXPECT_TRUE(medium.frames.empty());
  EXPECT_EQ(lossy.outbound().stats().lost, 1u);

  p = FaultLink::no_faults();
  p.duplicate = 1;
  FaultLink doubling(medium, p, FaultLink::no_faults(), 1);
  doubling.send(kFrame, kEpoch);
  Collect got;
  EXPECT_EQ(doubling.receive(kEpoch + milliseconds(1), got, 64), 2u);

  p = FaultLink::no_faults();
  p.corrupt = 1;
  FaultLink corrupting(medium, FaultLink::no_faults(), p, 1);
  corrupting.send(kFrame, kEpoch);
  Collect bad;
  EXPECT_EQ(corrupting.receive(kEpoch, bad, 64), 1u);
  int bits = 0;
  for (std::size_t i = 0; i < kFrame.size(); ++i) {
    bits += __builtin_popcount(static_cast<unsigned>(bad.frames.at(0)[i] ^ kFrame[i]));
  }
  EXPECT_EQ(bits, 1);
}

TEST(FaultLink, AVouchedForFrameStaysSoUnlessCorrupted) {
  Loopback medium;
  medium.vouches = true;
  sim::ChannelParams late = FaultLink::no_faults();
  late.delay = milliseconds(2);
  FaultLink delaying(medium, FaultLink::no_faults(), late, 1);
  delaying.send(kFrame, kEpoch);
  delaying.send(kFrame, kEpoch);
  Collect got;
  EXPECT_EQ(delaying.receive(kEpoch, got, 64), 0u);  // both held
  EXPECT_EQ(delaying.receive(kEpoch + milliseconds(2), got, 64), 2u);
  EXPECT_EQ(got.trusted, (std::vector<bool>{true, true}));

  // A damaged frame goes up as an ordinary one, for the stack to check (and drop).
  sim::ChannelParams damaging = FaultLink::no_faults();
  damaging.corrupt = 1;
  FaultLink corrupting(medium, FaultLink::no_faults(), damaging, 1);
  corrupting.send(kFrame, kEpoch);
  Collect bad;
  EXPECT_EQ(corrupting.receive(kEpoch, bad, 64), 1u);
  EXPECT_EQ(bad.trusted, std::vector<bool>{false});
  EXPECT_NE(bad.frames.at(0), kFrame);
}

TEST(FaultLink, ReorderingLetsLaterFramesOvertake) {
  Loopback medium;
  sim::ChannelParams out = FaultLink::no_faults();
  FaultLink link(medium, out, FaultLink::no_faults(), 1);
  // Hold the first frame back 5 ms; the second goes at once.
  link.outbound().hold_matching([](wire::Bytes f) { return f[0] == 1; }, milliseconds(5));
  link.send(kFrame, kEpoch);
  std::vector<std::uint8_t> second = kFrame;
  second[0] = 2;
  link.send(second, kEpoch);
  Collect got;
  link.receive(kEpoch, got, 64);
  link.receive(kEpoch + milliseconds(5), got, 64);
  ASSERT_EQ(got.frames.size(), 2u);
  EXPECT_EQ(got.frames[0][0], 2);
  EXPECT_EQ(got.frames[1][0], 1);
}

TEST(FaultLink, ReceiveKeepsToItsBudget) {
  Loopback medium;
  FaultLink link(medium, FaultLink::no_faults(), FaultLink::no_faults(), 1);
  for (int i = 0; i < 10; ++i) link.send(kFrame, kEpoch);
  Collect got;
  EXPECT_EQ(link.receive(kEpoch, got, 4), 4u);
  EXPECT_EQ(link.receive(kEpoch, got, 64), 6u);
}

}  // namespace
}  // namespace synack::link
