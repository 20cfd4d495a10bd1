// The shared-memory link's frame ring (link/shm/frame_ring.hpp): records, wrap-around by a
// skip marker, full and empty, batched publishing, corrupt counters, and two threads
// passing millions of frames (also built with ThreadSanitizer: tests/CMakeLists.txt).
#include "link/shm/frame_ring.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

namespace synack::link::shm {
namespace {

std::vector<std::uint8_t> frame_of(std::size_t length, std::uint8_t fill) {
  return std::vector<std::uint8_t>(length, fill);
}

// A block aligned as a region would give it.
struct Block {
  explicit Block(std::uint32_t capacity) : storage(FrameRing::block_bytes(capacity) / 64 + 1) {}
  void* data() { return storage.data(); }
  struct alignas(64) Line {
    std::uint8_t bytes[64];
  };
  std::vector<Line> storage;
};

struct Pair {
  explicit Pair(std::uint32_t capacity, std::uint32_t max_frame = 1024)
      : block(capacity),
        producer(block.data(), capacity, max_frame, true),
        consumer(block.data(), capacity, max_frame, false) {}
  Block block;
  FrameRing producer;
  FrameRing consumer;
};

TEST(ShmRing, RecordIsLengthAndFramePaddedToEightBytes) {
  EXPECT_EQ(FrameRing::record_bytes(0), 8u);
  EXPECT_EQ(FrameRing::record_bytes(4), 8u);
  EXPECT_EQ(FrameRing::record_bytes(5), 16u);
  EXPECT_EQ(FrameRing::record_bytes(1500), 1504u);
  EXPECT_TRUE(FrameRing::valid_capacity(4096));
  EXPECT_FALSE(FrameRing::valid_capacity(4000));
  EXPECT_FALSE(FrameRing::valid_capacity(32));
}

TEST(ShmRing, EmptyRingHasNothingToPeek) {
  Pair p(256);
  EXPECT_TRUE(p.consumer.empty());
  EXPECT_FALSE(p.consumer.peek());
}

TEST(ShmRing, FramesComeOutInOrderWithTheirBytes) {
  Pair p(256);
  ASSERT_TRUE(p.producer.try_push(frame_of(3, 0xa1)));
  ASSERT_TRUE(p.producer.try_push(frame_of(0, 0)));
  ASSERT_TRUE(p.producer.try_push(frame_of(17, 0xb2)));
  EXPECT_FALSE(p.consumer.empty());
  auto f = p.consumer.peek();
  ASSERT_TRUE(f);
  EXPECT_EQ(std::vector<std::uint8_t>(f->begin(), f->end()), frame_of(3, 0xa1));
  EXPECT_EQ(p.consumer.peek()->data(), f->data());  // peek without pop: the same frame
  p.consumer.pop();
  f = p.consumer.peek();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->size(), 0u);
  p.consumer.pop();
  f = p.consumer.peek();
  ASSERT_TRUE(f);
  EXPECT_EQ(std::vector<std::uint8_t>(f->begin(), f->end()), frame_of(17, 0xb2));
  p.consumer.pop();
  EXPECT_FALSE(p.consumer.peek());
  EXPECT_TRUE(p.consumer.empty());
}

TEST(ShmRing, AMarkedFrameComesOutMarkedWithItsLength) {
  Pair p(256);
  ASSERT_TRUE(p.producer.try_push(frame_of(5, 0xc3), true));
  ASSERT_TRUE(p.producer.try_push(frame_of(6, 0xd4)));
  bool marked = false;
  auto f = p.consumer.peek(&marked);
  ASSERT_TRUE(f);
  EXPECT_TRUE(marked);
  EXPECT_EQ(std::vector<std::uint8_t>(f->begin(), f->end()), frame_of(5, 0xc3));
  p.consumer.pop();
  f = p.consumer.peek(&marked);
  ASSERT_TRUE(f);
  EXPECT_FALSE(marked);
  EXPECT_EQ(f->size(), 6u);
}

TEST(ShmRing, FullRingRefusesUntilTheConsumerPublishes) {
  Pair p(256);
  // 60-byte frames take 64-byte records: four fill the 256 bytes.
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(p.producer.try_push(frame_of(60, 1)));
  EXPECT_FALSE(p.producer.try_push(frame_of(60, 1)));
  EXPECT_FALSE(p.producer.try_push(frame_of(0, 1)));  // not even an 8-byte record
  ASSERT_TRUE(p.consumer.peek());
  p.consumer.pop();
  EXPECT_FALSE(p.producer.try_push(frame_of(60, 1)));  // popped but not yet published
  p.consumer.publish();
  EXPECT_TRUE(p.producer.try_push(frame_of(60, 1)));
  EXPECT_FALSE(p.producer.try_push(frame_of(0, 1)));
}

TEST(ShmRing, ConsumerPublishesOncePerBatch) {
  Pair p(256);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(p.producer.try_push(frame_of(60, 1)));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(p.consumer.peek());
    p.consumer.pop();
  }
  Block& b = p.block;
  auto* control = static_cast<FrameRingControl*>(b.data());
  EXPECT_EQ(control->head.load(), 0u);  // nothing published while the batch is read
  p.consumer.publish();
  EXPECT_EQ(control->head.load(), 192u);
  EXPECT_EQ(control->tail.load(), 256u);
}

TEST(ShmRing, AFrameBuiltInAReservationIsPublishedWhereItLies) {
  Pair p(256);
  // 200 bytes used: a reservation for up to 60 bytes (a 64-byte record) starts at offset 0,
  // behind a skip, as a push would.
  ASSERT_TRUE(p.producer.try_push(frame_of(196, 1)));
  p.consumer.peek();
  p.consumer.pop();
  p.consumer.publish();
  auto loan = p.producer.reserve(60);
  ASSERT_EQ(loan.size(), 60u);
  EXPECT_EQ(loan.data(), static_cast<std::uint8_t*>(p.block.data()) + 128 + 4);
  auto* control = static_cast<FrameRingControl*>(p.block.data());
  EXPECT_EQ(control->tail.load(), 200u);  // nothing published yet
  std::memset(loan.data(), 7, 50);
  ASSERT_TRUE(p.producer.try_push(loan.first(50), true));  // shorter than reserved
  EXPECT_EQ(control->tail.load(), 200u + 56u + 56u);
  bool marked = false;
  const auto f = p.consumer.peek(&marked);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->data(), loan.data());
  EXPECT_EQ(std::vector<std::uint8_t>(f->begin(), f->end()), frame_of(50, 7));
  EXPECT_TRUE(marked);
}

TEST(ShmRing, AReservationNotPushedIsForgottenAndOneThatDoesNotFitIsEmpty) {
  Pair p(256);
  EXPECT_TRUE(p.producer.reserve(2000).empty());  // longer than max_frame
  auto loan = p.producer.reserve(100);
  ASSERT_FALSE(loan.empty());
  std::memset(loan.data(), 9, 100);
  // An ordinary push takes the place instead; the loan is void.
  ASSERT_TRUE(p.producer.try_push(frame_of(10, 3)));
  ASSERT_TRUE(p.producer.try_push(frame_of(180, 4)));
  EXPECT_TRUE(p.producer.reserve(100).empty());  // full until the consumer frees space
  auto f = p.consumer.peek();
  ASSERT_TRUE(f);
  EXPECT_EQ(std::vector<std::uint8_t>(f->begin(), f->end()), frame_of(10, 3));
}

TEST(ShmRing, FrameLongerThanMaxOrRingIsRefused) {
  Pair p(256, 100);
  EXPECT_FALSE(p.producer.try_push(frame_of(101, 1)));
  Pair q(64, 1024);
  EXPECT_FALSE(q.producer.try_push(frame_of(61, 1)));  // a 72-byte record in 64 bytes
  EXPECT_TRUE(q.producer.try_push(frame_of(60, 1)));   // exactly the whole ring
}

TEST(ShmRing, RecordThatDoesNotFitBeforeTheEndWrapsBehindASkipMarker) {
  Pair p(256);
  // 200 bytes used, 56 left before the end: a 60-byte frame (64-byte record) wraps.
  ASSERT_TRUE(p.producer.try_push(frame_of(196, 1)));
  ASSERT_TRUE(p.consumer.peek());
  p.consumer.pop();
  p.consumer.publish();
  ASSERT_TRUE(p.producer.try_push(frame_of(60, 2)));
  auto* control = static_cast<FrameRingControl*>(p.block.data());
  EXPECT_EQ(control->tail.load(), 200u + 56u + 64u);  // the skip took the 56 bytes
  const auto f = p.consumer.peek();
  ASSERT_TRUE(f);
  EXPECT_EQ(std::vector<std::uint8_t>(f->begin(), f->end()), frame_of(60, 2));
  // The frame sits at the start of the data, right after the 128-byte control block.
  EXPECT_EQ(f->data(), static_cast<std::uint8_t*>(p.block.data()) + 128 + 4);
  p.consumer.pop();
  EXPECT_FALSE(p.consumer.peek());
}

TEST(ShmRing, WrapNeedsRoomForTheSkipAndTheRecord) {
  Pair p(256);
  ASSERT_TRUE(p.producer.try_push(frame_of(196, 1)));  // 200 bytes
  // 56 bytes left at the end and none at the start: a 64-byte record cannot wrap.
  EXPECT_FALSE(p.producer.try_push(frame_of(60, 2)));
  ASSERT_TRUE(p.producer.try_push(frame_of(52, 3)));  // but 56 fits exactly before the end
  auto* control = static_cast<FrameRingControl*>(p.block.data());
  EXPECT_EQ(control->tail.load(), 256u);
  EXPECT_FALSE(p.producer.try_push(frame_of(0, 0)));
}

TEST(ShmRing, FrameOfExactlyTheRemainingSpaceNeedsNoSkip) {
  Pair p(256);
  ASSERT_TRUE(p.producer.try_push(frame_of(60, 1)));  // 64 bytes
  ASSERT_TRUE(p.consumer.peek());
  p.consumer.pop();
  p.consumer.publish();
  ASSERT_TRUE(p.producer.try_push(frame_of(188, 2)));  // 192 bytes: exactly to the end
  auto* control = static_cast<FrameRingControl*>(p.block.data());
  EXPECT_EQ(control->tail.load(), 256u);
  ASSERT_TRUE(p.producer.try_push(frame_of(60, 3)));  // and the next starts at offset 0
  EXPECT_EQ(control->tail.load(), 320u);
  auto f = p.consumer.peek();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->size(), 188u);
  p.consumer.pop();
  f = p.consumer.peek();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->data(), static_cast<std::uint8_t*>(p.block.data()) + 128 + 4);
  EXPECT_EQ((*f)[0], 3);
}

TEST(ShmRing, ManyLapsKeepEveryFrameIntact) {
  // Records of up to half the ring always fit an empty ring, wherever its position.
  Pair p(1024, 300);
  std::uint32_t next_in = 0, next_out = 0;
  for (int step = 0; step < 20000; ++step) {
    // Lengths that cross the end at every possible offset.
    const std::size_t length = (next_in * 7u) % 301u;
    auto f = frame_of(length, static_cast<std::uint8_t>(next_in));
    if (p.producer.try_push(f)) {
      ++next_in;
      continue;
    }
    while (auto got = p.consumer.peek()) {
      ASSERT_EQ(got->size(), (next_out * 7u) % 301u);
      for (const std::uint8_t b : *got) ASSERT_EQ(b, static_cast<std::uint8_t>(next_out));
      p.consumer.pop();
      ++next_out;
    }
    p.consumer.publish();
  }
  EXPECT_GT(next_out, 5000u);
}

TEST(ShmRing, CorruptLengthIsCountedAndSkippedNotRead) {
  Pair p(256, 100);
  ASSERT_TRUE(p.producer.try_push(frame_of(20, 1)));
  ASSERT_TRUE(p.producer.try_push(frame_of(20, 2)));
  // A peer scribbles a length beyond max_frame and beyond what it published.
  const std::uint32_t bad = 5000;
  std::memcpy(static_cast<std::uint8_t*>(p.block.data()) + 128, &bad, sizeof bad);
  EXPECT_FALSE(p.consumer.peek());
  EXPECT_EQ(p.consumer.corrupt(), 1u);
  p.consumer.publish();
  EXPECT_TRUE(p.consumer.empty());
  // The ring goes on working after it.
  ASSERT_TRUE(p.producer.try_push(frame_of(5, 9)));
  const auto f = p.consumer.peek();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->size(), 5u);
}

TEST(ShmRing, ResetEmptiesTheRingForANewPeer) {
  Pair p(256);
  ASSERT_TRUE(p.producer.try_push(frame_of(60, 1)));
  p.producer.reset();
  FrameRing fresh(p.block.data(), 256, 1024, false);
  EXPECT_TRUE(fresh.empty());
  EXPECT_FALSE(fresh.peek());
  ASSERT_TRUE(p.producer.try_push(frame_of(7, 4)));
  const auto f = fresh.peek();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->size(), 7u);
}

// Two threads, millions of frames: each carries its sequence number and a length and
// contents derived from it; the consumer checks every byte and drains in batches.
TEST(ShmRing, TwoThreadsPassMillionsOfFramesInOrder) {
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  constexpr std::uint64_t kFrames = 1'000'000;
#else
  constexpr std::uint64_t kFrames = 4'000'000;
#endif
  constexpr std::uint32_t kMax = 200;
  Block block(1 << 14);
  FrameRing producer(block.data(), 1 << 14, kMax, true);
  FrameRing consumer(block.data(), 1 << 14, kMax, false);
  auto length_of = [](std::uint64_t seq) { return 8 + (seq * 13) % (kMax - 7); };
  std::atomic<bool> failed{false};
  std::thread writer([&] {
    std::uint8_t buffer[kMax];
    for (std::uint64_t seq = 0; seq < kFrames && !failed.load(std::memory_order_relaxed);) {
      const std::size_t length = length_of(seq);
      std::memcpy(buffer, &seq, sizeof seq);
      for (std::size_t i = 8; i < length; ++i) buffer[i] = static_cast<std::uint8_t>(seq + i);
      if (producer.try_push({buffer, length})) {
        ++seq;
      } else {
        std::this_thread::yield();
      }
    }
  });
  std::uint64_t expected = 0;
  std::uint64_t batches = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(50);
  while (expected < kFrames && !failed) {
    std::size_t in_batch = 0;
    while (auto f = consumer.peek()) {
      std::uint64_t seq;
      std::memcpy(&seq, f->data(), sizeof seq);
      bool ok = seq == expected && f->size() == length_of(seq);
      for (std::size_t i = 8; ok && i < f->size(); ++i) {
        ok = (*f)[i] == static_cast<std::uint8_t>(seq + i);
      }
      if (!ok) {
        failed = true;
        ADD_FAILURE() << "frame " << expected << " arrived wrong (seq " << seq << ")";
        break;
      }
      consumer.pop();
      ++expected;
      if (++in_batch == 64) break;
    }
    consumer.publish();
    if (in_batch == 0) {
      ++batches;
      if ((batches & 1023) == 0 && std::chrono::steady_clock::now() > deadline) {
        failed = true;
        ADD_FAILURE() << "timed out at frame " << expected;
      }
      std::this_thread::yield();
    }
  }
  writer.join();
  EXPECT_EQ(expected, kFrames);
  EXPECT_EQ(consumer.corrupt(), 0u);
}

}  // namespace
}  // namespace synack::link::shm
