// FlatIndex: members found by key through linear probing; erasure by backward shift keeps
// every other member reachable, also across the wrap-around; growth keeps them all.
#include "base/flat_index.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace synack {
namespace {

// Handles are their own keys; hashes are chosen by the test to force clusters.
struct Table {
  std::vector<std::size_t> hash_of;  // by handle
  FlatIndex index;
  std::size_t find(FlatIndex::Handle h) const {
    return index.find(hash_of[h], [h](FlatIndex::Handle m) { return m == h; });
  }
  void add(FlatIndex::Handle h, std::size_t hash) {
    if (hash_of.size() <= h) hash_of.resize(h + 1);
    hash_of[h] = hash;
    index.insert_growing(h, hash, [this](FlatIndex::Handle m) { return hash_of[m]; });
  }
  void remove(FlatIndex::Handle h) {
    index.erase(find(h), [this](FlatIndex::Handle m) { return hash_of[m]; });
  }
};

TEST(FlatIndex, EmptyFindsNothing) {
  Table t;
  t.hash_of = {0};
  EXPECT_EQ(t.find(0), FlatIndex::npos);
  EXPECT_EQ(t.index.size(), 0u);
}

TEST(FlatIndex, BackwardShiftAcrossTheWrapKeepsTheClusterReachable) {
  Table t;
  t.index.reset(1);  // 16 slots
  // A cluster homed at slots 14 and 15 that wraps round into 0 and 1.
  t.add(0, 14);
  t.add(1, 14);
  t.add(2, 15);
  t.add(3, 15);
  t.add(4, 0);
  EXPECT_EQ(t.find(3), 1u) << "wrapped round";
  EXPECT_EQ(t.find(4), 2u);
  t.remove(0);  // the hole at 14 is filled from behind
  for (FlatIndex::Handle h : {1u, 2u, 3u, 4u}) EXPECT_NE(t.find(h), FlatIndex::npos) << h;
  EXPECT_EQ(t.find(4), 1u) << "moved one back, towards its home";
  EXPECT_EQ(t.find(3), 0u);
  EXPECT_EQ(t.find(0), FlatIndex::npos);
  EXPECT_EQ(t.index.size(), 4u);
  EXPECT_EQ(t.index.slots()[2], FlatIndex::kEmpty) << "the cluster got shorter";
}

TEST(FlatIndex, GrowsAtHalfLoadAndKeepsEveryMember) {
  Table t;
  for (FlatIndex::Handle h = 0; h < 100; ++h) t.add(h, h * 7919u);
  EXPECT_EQ(t.index.size(), 100u);
  EXPECT_GE(t.index.slots().size(), 200u);
  for (FlatIndex::Handle h = 0; h < 100; ++h) EXPECT_NE(t.find(h), FlatIndex::npos) << h;
  for (FlatIndex::Handle h = 0; h < 100; h += 2) t.remove(h);
  for (FlatIndex::Handle h = 0; h < 100; ++h) {
    EXPECT_EQ(t.find(h) != FlatIndex::npos, h % 2 == 1) << h;
  }
  t.index.release();
  EXPECT_EQ(t.index.memory_bytes(), 0u);
}

}  // namespace
}  // namespace synack
