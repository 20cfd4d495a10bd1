// Blocks for the send and receive rings, kept for reuse. A ring holds storage only while it
// holds data (an idle connection holds none); a ring that empties gives its block back here
// and the next byte takes one, so a bulk transfer that drains its buffers now and then moves
// a block between a free list and the ring instead of calling malloc and free per packet.
// Blocks come in a few exact sizes (the configured buffer sizes); each size keeps a free
// list, and what the pool keeps in all is bounded (`keep_limit` bytes), past which a block
// given back is freed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace synack {

class BufferPool {
 public:
  static constexpr std::size_t kDefaultKeepLimit = std::size_t{8} << 20;
  // Distinct block sizes kept; blocks of any other size are allocated and freed directly.
  static constexpr std::size_t kMaxSizeClasses = 8;

  explicit BufferPool(std::size_t keep_limit = kDefaultKeepLimit) : keep_limit_(keep_limit) {}
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;
  ~BufferPool();

  // A block of `size` bytes (not zeroed): a kept one if there is one.
  std::uint8_t* take(std::size_t size);
  // Gives back a block `take(size)` returned.
  void give(std::uint8_t* block, std::size_t size);

  // Bytes in blocks kept for reuse (not in any ring).
  std::size_t kept_bytes() const { return kept_; }

 private:
  struct SizeClass {
    std::size_t size = 0;
    std::vector<std::uint8_t*> blocks;
  };
  SizeClass* class_of(std::size_t size);

  std::vector<SizeClass> classes_;
  std::size_t keep_limit_;
  std::size_t kept_ = 0;
};

}  // namespace synack
