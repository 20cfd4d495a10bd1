#include "tcp/reassembly.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace synack::tcp {
namespace {

std::vector<std::pair<std::uint32_t, std::uint32_t>> sacks(const Reassembly& r) {
  std::array<wire::SackBlock, 4> out{};
  const std::size_t n = r.sack_blocks(out);
  std::vector<std::pair<std::uint32_t, std::uint32_t>> v;
  for (std::size_t i = 0; i < n; ++i) v.emplace_back(out[i].left, out[i].right);
  return v;
}

using Blocks = std::vector<std::pair<std::uint32_t, std::uint32_t>>;

TEST(Reassembly, HolesFillInAnyOrderAndAdvanceReportsHowFarDataIsContiguous) {
  Reassembly r;
  EXPECT_EQ(r.add(Seq(300), Seq(400)), Reassembly::Added::new_data);
  EXPECT_EQ(r.add(Seq(200), Seq(300)), Reassembly::Added::new_data);  // touches: merges
  EXPECT_EQ(r.block_count(), 1u);
  EXPECT_EQ(r.advance(Seq(100)), Seq(100)) << "the hole at 100 is still open";
  EXPECT_EQ(r.advance(Seq(200)), Seq(400));
  EXPECT_TRUE(r.empty());
}

TEST(Reassembly, OverlapsAndDuplicatesAreTrimmedToWhatIsNew) {
  Reassembly r;
  r.add(Seq(100), Seq(200));
  r.add(Seq(300), Seq(400));
  EXPECT_EQ(r.add(Seq(150), Seq(180)), Reassembly::Added::duplicate);
  EXPECT_EQ(r.add(Seq(150), Seq(350)), Reassembly::Added::new_data);  // bridges both
  EXPECT_EQ(r.block_count(), 1u);
  EXPECT_TRUE(r.holds(Seq(100), Seq(400)));
}

TEST(Reassembly, SackBlocksListTheMostRecentFirst) {
  Reassembly r;
  r.add(Seq(100), Seq(200));
  r.add(Seq(300), Seq(400));
  r.add(Seq(500), Seq(600));
  EXPECT_EQ(sacks(r), (Blocks{{500, 600}, {300, 400}, {100, 200}}));
  r.add(Seq(200), Seq(250));  // extends the first block: it becomes the newest
  EXPECT_EQ(sacks(r), (Blocks{{100, 250}, {500, 600}, {300, 400}}));
}

TEST(Reassembly, WorksAcrossTheSequenceWrap) {
  Reassembly r;
  r.add(Seq(0xfffffff0u), Seq(0x10));
  r.add(Seq(0x10), Seq(0x20));
  EXPECT_EQ(r.block_count(), 1u);
  EXPECT_EQ(r.advance(Seq(0xfffffff0u)), Seq(0x20));
}

TEST(Reassembly, KeepsAtMostABoundedNumberOfIslands) {
  Reassembly r;
  for (std::uint32_t i = 0; i < Reassembly::kMaxBlocks; ++i) {
    EXPECT_EQ(r.add(Seq(1000 + 20 * i), Seq(1010 + 20 * i)), Reassembly::Added::new_data);
  }
  EXPECT_EQ(r.add(Seq(5000), Seq(5010)), Reassembly::Added::full);
  // Filling a gap between islands is still possible: it needs no new block.
  EXPECT_EQ(r.add(Seq(1010), Seq(1020)), Reassembly::Added::new_data);
  EXPECT_EQ(r.block_count(), Reassembly::kMaxBlocks - 1);
}

TEST(Reassembly, RandomArrivalsMatchAByteMap) {
  std::uint32_t state = 12345;
  auto rnd = [&] { return state = state * 1103515245u + 12345u; };
  for (int round = 0; round < 50; ++round) {
    Reassembly r;
    std::vector<bool> held(400);
    const Seq base(0xffffff00u + static_cast<std::uint32_t>(round));
    for (int i = 0; i < 60; ++i) {
      const std::uint32_t a = rnd() % 390 + 1, len = rnd() % 9 + 1;
      if (r.add(base + a, base + a + len) == Reassembly::Added::full) continue;
      for (std::uint32_t k = a; k < a + len; ++k) held[k] = true;
    }
    std::uint32_t expect = 1;
    while (expect < held.size() && held[expect]) ++expect;
    held[0] = true;
    EXPECT_EQ(r.advance(base + 1) - base, static_cast<std::int32_t>(expect));
  }
}

}  // namespace
}  // namespace synack::tcp
