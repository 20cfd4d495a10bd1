// A single-producer single-consumer ring of variable-length frames in a block of memory the
// caller gives (for the shared-memory link, a block inside a region two processes map).
// Nothing inside the block is a pointer: the producer and the consumer may map it at
// different addresses.
//
// Layout of the block (FrameRing::block_bytes(capacity) bytes, 64-byte aligned):
//
//   [ tail  ]  64 bytes: bytes ever published by the producer (uint64, never wraps)
//   [ head  ]  64 bytes: bytes ever consumed by the consumer (uint64, never wraps)
//   [ data  ]  `capacity` bytes (a power of two): records at offset position % capacity
//
// A record is a 4-byte word and the frame, padded to 8 bytes. The word is the frame's length,
// with bit 31 set for a frame its producer marked (the shm link's "checksum left to the
// medium"); a frame is far shorter than 2^31 bytes. A record never wraps: when
// the space left before the end of the data is too short for the next record, the producer
// writes a skip marker (length 0xffffffff) there and starts again at offset 0. Positions are
// multiples of 8, so the 4-byte marker always fits. A record of up to half the capacity
// always fits an empty ring (at any position, either the part before the end or the part
// from 0 to the position is that long); a longer one may not: keep max_frame below that.
//
// Ordering: the producer writes a record, then stores tail with release; the consumer loads
// tail with acquire before reading records, and stores head with release after it is done
// with them; the producer loads head with acquire before reusing the space. Each side keeps
// a private copy of the other's counter and reloads it only when the copy says full (or
// empty): while the ring is neither, a frame costs no shared cache-line traffic but the
// counter it publishes. The consumer reads a batch (peek/pop) and publishes its head once.
//
// The other side is trusted to follow the protocol but not to be correct: a record whose
// length runs past the data or past tail is counted as corrupt and everything published is
// skipped; nothing read from the block can make an access out of bounds.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <type_traits>

namespace synack::link::shm {

// The shared part of a ring: two counters on their own cache lines.
struct FrameRingControl {
  alignas(64) std::atomic<std::uint64_t> tail;
  alignas(64) std::atomic<std::uint64_t> head;
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
              "a ring in shared memory needs lock-free 64-bit atomics");
static_assert(std::is_standard_layout_v<FrameRingControl>);
static_assert(sizeof(FrameRingControl) == 128);

class FrameRing {
 public:
  static constexpr std::uint32_t kSkip = 0xffffffffu;
  static constexpr std::uint32_t kMarked = 0x80000000u;  // in a record's word, beside the length
  static constexpr std::size_t kRecordHeader = 4;

  // The bytes of a block holding a ring of `capacity` data bytes.
  static constexpr std::size_t block_bytes(std::uint32_t capacity) {
    return sizeof(FrameRingControl) + capacity;
  }
  // The record a frame of `length` bytes takes, padding included.
  static constexpr std::size_t record_bytes(std::size_t length) {
    return (kRecordHeader + length + 7) & ~std::size_t{7};
  }
  // Whether `capacity` can be a ring's: a power of two, at least 64 bytes.
  static constexpr bool valid_capacity(std::uint32_t capacity) {
    return capacity >= 64 && (capacity & (capacity - 1)) == 0;
  }

  // A view of the ring in `block` (block_bytes(capacity) bytes, 64-byte aligned). With
  // `initialize`, the counters are constructed and zeroed (the block is new); otherwise the
  // ring is taken as it is. Frames longer than `max_frame` are refused and, when read,
  // counted as corrupt. One object is the producer or the consumer, not both.
  FrameRing(void* block, std::uint32_t capacity, std::uint32_t max_frame, bool initialize);

  // --- Producer ------------------------------------------------------------------------------
  // Appends one frame and publishes it. False when it does not fit now (full), or never
  // (longer than max_frame).
  // A frame whose bytes start where reserve() pointed is published where it lies, no copy.
  bool try_push(std::span<const std::uint8_t> frame, bool marked = false);
  // Room for a frame of up to `max_length` bytes, where the next record's frame goes, to be
  // written in place and then given to try_push(); empty when it does not fit now. Nothing
  // is published until then, and a reservation not pushed is simply forgotten.
  std::span<std::uint8_t> reserve(std::size_t max_length);

  // --- Consumer ------------------------------------------------------------------------------
  // The oldest frame not yet popped, or nullopt when none is published. The bytes stay
  // valid until publish().
  // `marked`, when given, says whether its producer marked it.
  std::optional<std::span<const std::uint8_t>> peek(bool* marked = nullptr);
  // Steps past the frame peek() returned.
  void pop();
  // Gives the space of the popped frames back to the producer: one store per batch.
  void publish();
  // Whether no frame is published beyond what this consumer has popped (one acquire load).
  bool empty() const;

  // --- Both ----------------------------------------------------------------------------------
  // Empties the ring: both shared counters to zero, and this side's copies too. Only while
  // no other process uses the ring (a new peer attaching: region.hpp). The other side's
  // object must then be made anew, or resync()ed.
  void reset();
  // Reloads this side's copies of the counters from the shared ones.
  void resync();

  std::uint32_t capacity() const { return capacity_; }
  std::uint64_t corrupt() const { return corrupt_; }

 private:
  std::uint32_t read_word(std::uint64_t position) const;
  // Where the next record, for a frame of `length` bytes, goes: its offset in the data and
  // the skip (bytes to the end of the data) before it; nullopt when it does not fit now.
  struct Place {
    std::uint64_t at = 0, skip = 0;
  };
  std::optional<Place> place(std::size_t length);
  // Writes the record's word (and the skip before it) and publishes a frame of `length`
  // bytes already at place.at.
  void commit(Place place, std::size_t length, bool marked);

  FrameRingControl* control_;
  std::uint8_t* data_;
  std::uint32_t capacity_;
  std::uint32_t max_frame_;
  // Producer: its tail, and the head it last saw. Consumer: its head (popped, maybe not
  // published), the head it last published, the tail it last saw, the current frame's record.
  std::uint64_t tail_ = 0;
  std::uint64_t head_seen_ = 0;
  Place loan_;                               // the last reserve(): where,
  const std::uint8_t* loan_data_ = nullptr;  // its frame's first byte (nullptr: none),
  std::size_t loan_length_ = 0;              // and the most it may hold
  std::uint64_t head_ = 0;
  std::uint64_t head_published_ = 0;
  std::uint64_t tail_seen_ = 0;
  std::size_t current_record_ = 0;
  std::uint64_t corrupt_ = 0;
};

}  // namespace synack::link::shm
