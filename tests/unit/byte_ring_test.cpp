// ByteRing: a FIFO of bytes whose storage exists only while it holds some (taken from a
// BufferPool when the first byte is written, given back when the last one is consumed),
// and BufferPool: the free lists that storage moves through.
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <string_view>

#include "base/buffer_pool.hpp"
#include "base/byte_ring.hpp"

namespace synack {
namespace {

std::span<const std::uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};  // NOLINT: test data
}

std::string read_all(ByteRing& r) {
  std::array<std::uint8_t, 64> buf{};
  const std::size_t n = r.pop(buf);
  return {buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n)};
}

TEST(ByteRing, HoldsNoStorageUntilTheFirstByte) {
  BufferPool pool;
  ByteRing r(16, &pool);
  EXPECT_EQ(r.capacity(), 16u);
  EXPECT_EQ(r.free(), 16u);
  EXPECT_FALSE(r.allocated());
  EXPECT_EQ(r.push({}), 0u);
  EXPECT_FALSE(r.allocated()) << "nothing written, nothing taken";
  EXPECT_EQ(r.push(bytes("abc")), 3u);
  EXPECT_TRUE(r.allocated());
}

TEST(ByteRing, GivesTheStorageBackWhenItEmptiesAndReusesItNext) {
  BufferPool pool;
  ByteRing r(16, &pool);
  r.push(bytes("hello"));
  EXPECT_EQ(read_all(r), "hello");
  EXPECT_FALSE(r.allocated());
  EXPECT_EQ(pool.kept_bytes(), 16u) << "kept for the next ring of that size";
  r.push(bytes("again"));
  EXPECT_EQ(pool.kept_bytes(), 0u) << "taken from the pool, not the heap";
  EXPECT_EQ(read_all(r), "again");
}

TEST(ByteRing, WrapsAroundWithinItsCapacity) {
  ByteRing r(8);
  r.push(bytes("abcdef"));
  std::array<std::uint8_t, 4> four{};
  EXPECT_EQ(r.pop(four), 4u);
  EXPECT_EQ(r.push(bytes("ghijklm")), 6u) << "only the free space";
  EXPECT_EQ(r.size(), 8u);
  EXPECT_EQ(read_all(r), "efghijkl");
  EXPECT_FALSE(r.allocated());
}

TEST(ByteRing, CopyOutReadsAtAnOffsetWithoutConsuming) {
  ByteRing r(8);
  r.push(bytes("abcdef"));
  std::array<std::uint8_t, 3> out{};
  EXPECT_EQ(r.copy_out(2, out), 3u);
  EXPECT_EQ(std::string(out.begin(), out.end()), "cde");
  EXPECT_EQ(r.copy_out(6, out), 0u);
  EXPECT_EQ(r.size(), 6u);
}

TEST(ByteRing, DataPlacedAheadKeepsTheStorageUntilConsumed) {
  BufferPool pool;
  ByteRing r(16, &pool);
  r.write_at(4, bytes("efgh"));  // out of order: a hole of four bytes before it
  EXPECT_TRUE(r.allocated());
  EXPECT_EQ(r.size(), 0u);
  r.write_at(0, bytes("abcd"));
  r.commit(8);
  std::array<std::uint8_t, 4> four{};
  r.pop(four);
  EXPECT_TRUE(r.allocated()) << "four bytes still held";
  EXPECT_EQ(read_all(r), "efgh");
  EXPECT_FALSE(r.allocated());
}

TEST(ByteRing, ConsumingTheContentKeepsDataPlacedBeyondIt) {
  ByteRing r(16);
  r.push(bytes("ab"));
  r.write_at(6, bytes("xy"));  // past a hole at 2..5
  r.consume(2);
  EXPECT_TRUE(r.allocated()) << "the bytes past the hole are still wanted";
  r.write_at(0, bytes("cdef"));
  r.commit(6);
  EXPECT_EQ(read_all(r), "cdefxy");
  EXPECT_FALSE(r.allocated());
}

TEST(ByteRing, ReleaseGivesTheStorageBackAndLeavesNoCapacity) {
  BufferPool pool;
  ByteRing r(16, &pool);
  r.push(bytes("abc"));
  r.release();
  EXPECT_FALSE(r.allocated());
  EXPECT_EQ(r.capacity(), 0u);
  EXPECT_EQ(r.size(), 0u);
  EXPECT_EQ(pool.kept_bytes(), 16u);
}

TEST(ByteRing, AMovedRingTakesTheStorageWithIt) {
  BufferPool pool;
  ByteRing a(16, &pool);
  a.push(bytes("abc"));
  ByteRing b(std::move(a));
  EXPECT_TRUE(b.allocated());
  EXPECT_EQ(read_all(b), "abc");
  EXPECT_EQ(pool.kept_bytes(), 16u) << "given back once, by the ring that had it";
}

TEST(BufferPool, KeepsNoMoreThanItsLimit) {
  BufferPool pool(32);
  std::uint8_t* a = pool.take(16);
  std::uint8_t* b = pool.take(16);
  std::uint8_t* c = pool.take(16);
  pool.give(a, 16);
  pool.give(b, 16);
  pool.give(c, 16);  // over the limit: freed
  EXPECT_EQ(pool.kept_bytes(), 32u);
  EXPECT_EQ(pool.take(16), b) << "the most recently given back first (warm in the cache)";
  EXPECT_EQ(pool.kept_bytes(), 16u);
  pool.give(b, 16);
}

TEST(BufferPool, KeepsEachSizeApart) {
  BufferPool pool;
  std::uint8_t* small = pool.take(8);
  pool.give(small, 8);
  std::uint8_t* big = pool.take(16);
  EXPECT_NE(big, small) << "a block is only reused for its own size";
  EXPECT_EQ(pool.kept_bytes(), 8u);
  pool.give(big, 16);
  EXPECT_EQ(pool.kept_bytes(), 24u);
}

}  // namespace
}  // namespace synack
