#include "tcp/scoreboard.hpp"

#include <gtest/gtest.h>

#include "tcp/congestion.hpp"

namespace synack::tcp {
namespace {

constexpr std::uint32_t kMss = 100;

std::vector<wire::SackBlock> blocks(
    std::initializer_list<std::pair<std::uint32_t, std::uint32_t>> l) {
  std::vector<wire::SackBlock> v;
  for (auto [a, b] : l) v.push_back({a, b});
  return v;
}

TEST(Scoreboard, MergesBlocksAndIgnoresThoseOutsideTheSentRange) {
  Scoreboard sb;
  EXPECT_TRUE(sb.on_sack(blocks({{1200, 1300}, {1400, 1500}}), Seq(1000), Seq(2000)));
  EXPECT_TRUE(sb.on_sack(blocks({{1300, 1400}}), Seq(1000), Seq(2000)));
  ASSERT_EQ(sb.ranges().size(), 1u);
  EXPECT_EQ(sb.ranges()[0].left, Seq(1200));
  EXPECT_EQ(sb.ranges()[0].right, Seq(1500));
  EXPECT_FALSE(sb.on_sack(blocks({{1250, 1300}}), Seq(1000), Seq(2000))) << "nothing new";
  EXPECT_FALSE(sb.on_sack(blocks({{900, 1000}}), Seq(1000), Seq(2000))) << "D-SACK below UNA";
  EXPECT_FALSE(sb.on_sack(blocks({{1900, 2100}}), Seq(1000), Seq(2000))) << "past SND.MAX";
  EXPECT_EQ(sb.sacked_bytes(), 300u);
}

TEST(Scoreboard, CumulativeAckTrimsAndForgets) {
  Scoreboard sb;
  sb.on_sack(blocks({{1200, 1300}, {1400, 1500}}), Seq(1000), Seq(2000));
  sb.on_cumulative_ack(Seq(1450));
  ASSERT_EQ(sb.ranges().size(), 1u);
  EXPECT_EQ(sb.ranges()[0].left, Seq(1450));
  sb.on_cumulative_ack(Seq(1500));
  EXPECT_TRUE(sb.empty());
}

TEST(Scoreboard, OctetsAreLostUnderThreeRangesOrMoreThanTwoSegmentsSacked) {
  Scoreboard sb;
  // One segment SACKed above the hole: not enough (RFC 6675 IsLost).
  sb.on_sack(blocks({{1100, 1200}}), Seq(1000), Seq(2000));
  EXPECT_EQ(sb.lost_boundary(Seq(1000), kMss), Seq(1000));
  // Three segments SACKed in one range: more than (3-1)*SMSS, so the hole is lost.
  sb.on_sack(blocks({{1100, 1400}}), Seq(1000), Seq(2000));
  EXPECT_EQ(sb.lost_boundary(Seq(1000), kMss), Seq(1100));
  auto hole = sb.next_lost(Seq(1000), Seq(1000), kMss, kMss);
  ASSERT_TRUE(hole);
  EXPECT_EQ(hole->start, Seq(1000));
  EXPECT_EQ(hole->length, 100u);
}

TEST(Scoreboard, ThreeDiscontiguousRangesMakeTheHolesBelowThemLost) {
  Scoreboard sb;
  sb.on_sack(blocks({{1100, 1110}, {1200, 1210}, {1300, 1310}}), Seq(1000), Seq(2000));
  EXPECT_EQ(sb.lost_boundary(Seq(1000), kMss), Seq(1100));
  // Holes between the ranges are not yet lost: fewer than three ranges lie above them.
  auto first = sb.next_lost(Seq(1000), Seq(1000), kMss, 1000);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->start, Seq(1000));
  EXPECT_EQ(first->length, 100u);
  EXPECT_FALSE(sb.next_lost(Seq(1100), Seq(1000), kMss, 1000));
}

TEST(Scoreboard, PipeCountsInFlightOnceAndRetransmissionsAgain) {
  Scoreboard sb;
  // Sent 1000..2000; 1100..1400 SACKed; so 1000..1100 is lost.
  sb.on_sack(blocks({{1100, 1400}}), Seq(1000), Seq(2000));
  EXPECT_EQ(sb.pipe(Seq(1000), Seq(2000), Seq(1000), kMss), 600u) << "1400..2000 in flight";
  // After retransmitting the lost hole, it is in flight again.
  EXPECT_EQ(sb.pipe(Seq(1000), Seq(2000), Seq(1100), kMss), 700u);
}

TEST(Reno, SlowStartThenCongestionAvoidanceThenHalvingOnLoss) {
  Reno cc(1000);
  EXPECT_EQ(cc.cwnd(), 10000u) << "RFC 6928: ten segments";
  cc.on_ack(1000);
  EXPECT_EQ(cc.cwnd(), 11000u);
  cc.on_ack(5000);
  EXPECT_EQ(cc.cwnd(), 13000u) << "at most 2*SMSS per ACK (RFC 3465, L = 2)";
  cc.on_congestion_event(12000);
  EXPECT_EQ(cc.ssthresh(), 6000u);
  EXPECT_EQ(cc.cwnd(), 6000u);
  for (int i = 0; i < 6; ++i) cc.on_ack(1000);
  EXPECT_EQ(cc.cwnd(), 7000u) << "one SMSS per window acknowledged";
  cc.on_timeout(7000);
  EXPECT_EQ(cc.cwnd(), 1000u);
  EXPECT_EQ(cc.ssthresh(), 3500u);
  cc.on_timeout(1000);
  EXPECT_EQ(cc.ssthresh(), 2000u) << "never below 2*SMSS";
}

}  // namespace
}  // namespace synack::tcp
