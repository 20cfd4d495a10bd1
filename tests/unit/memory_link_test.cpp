// link::MemoryLink, the in-process pair of frame rings under the benchmarks: frames in order,
// a full ring's drops counted, and frames built in a lent slot (Link::lend) sent in place.
#include "link/memory_link.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace synack::link {
namespace {

struct Collect final : FrameSink {
  void on_frame(wire::Bytes frame, Instant) override {
    frames.emplace_back(frame.begin(), frame.end());
  }
  std::vector<std::vector<std::uint8_t>> frames;
};

TEST(MemoryLink, FramesCrossInOrderAndAFullRingDrops) {
  auto [a, b] = MemoryLink::pair(100, 2);
  a->send(std::vector<std::uint8_t>{1}, kEpoch);
  a->send(std::vector<std::uint8_t>{2, 2}, kEpoch);
  a->send(std::vector<std::uint8_t>{3}, kEpoch);       // the ring holds two
  a->send(std::vector<std::uint8_t>(101, 4), kEpoch);  // over the MTU
  EXPECT_EQ(a->send_dropped(), 2u);
  Collect got;
  EXPECT_EQ(b->receive(kEpoch, got, 64), 2u);
  EXPECT_EQ(got.frames, (std::vector<std::vector<std::uint8_t>>{{1}, {2, 2}}));
  EXPECT_FALSE(b->has_pending());
}

TEST(MemoryLink, AFrameBuiltInALentSlotIsSentInPlace) {
  auto [a, b] = MemoryLink::pair(100, 2);
  EXPECT_TRUE(a->lend(101).empty());
  auto slot = a->lend(60);
  ASSERT_GE(slot.size(), 60u);
  std::fill(slot.begin(), slot.begin() + 60, std::uint8_t{7});
  a->send(slot.first(60), kEpoch);
  Collect got;
  ASSERT_EQ(b->receive(kEpoch, got, 64), 1u);
  EXPECT_EQ(got.frames[0], std::vector<std::uint8_t>(60, 7));
  // A slot lent and not sent is the next send's.
  slot = a->lend(10);
  ASSERT_FALSE(slot.empty());
  a->send(std::vector<std::uint8_t>{5, 5}, kEpoch);
  a->send(std::vector<std::uint8_t>{6}, kEpoch);
  EXPECT_TRUE(a->lend(10).empty());  // full
  got.frames.clear();
  EXPECT_EQ(b->receive(kEpoch, got, 64), 2u);
  EXPECT_EQ(got.frames, (std::vector<std::vector<std::uint8_t>>{{5, 5}, {6}}));
}

}  // namespace
}  // namespace synack::link
