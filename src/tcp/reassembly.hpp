// Out-of-order data held until the hole before it fills (RFC 9293 §3.10.7.4 seventh: "segments
// with higher beginning sequence numbers may be held for later processing"). The bytes sit in
// the receive buffer at their final place; this remembers which ranges past RCV.NXT are there,
// and which arrived most recently, for the SACK blocks of RFC 2018 §4.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>

#include "tcp/seq.hpp"
#include "wire/tcp_options.hpp"

namespace synack::tcp {

class Reassembly {
 public:
  // Islands beyond this are not kept (the segment is dropped and the sender resends it):
  // memory per connection stays bounded whatever the peer sends.
  static constexpr std::size_t kMaxBlocks = 16;

  struct Block {
    Seq left, right;            // [left, right)
    std::uint64_t recency = 0;  // larger: data added more recently
  };

  enum class Added {
    new_data,   // some of [start, end) was not held before
    duplicate,  // all of it was held already (a D-SACK case, RFC 2883)
    full,       // a new island, and no room to remember it: dropped
  };

  // Records that [start, end) is now held (start after RCV.NXT). The island it joins, or
  // that already held it all, becomes the most recent.
  Added add(Seq start, Seq end);
  // RCV.NXT reached `rcv_nxt`: returns how far data is now contiguous from it, and forgets
  // the blocks that merged in.
  Seq advance(Seq rcv_nxt);
  bool empty() const { return count_ == 0; }
  std::size_t block_count() const { return count_; }
  std::span<const Block> blocks() const { return {blocks_ ? blocks_->data() : nullptr, count_}; }
  // True if [start, end) is held entirely.
  bool holds(Seq start, Seq end) const;
  // Octets held in all the islands together.
  std::size_t bytes() const;
  // The highest sequence number held, if any.
  Seq highest() const { return (*blocks_)[count_ - 1].right; }

  // Fills `out` with SACK blocks, the most recently changed first (RFC 2018 §4: the first
  // block holds the segment that triggered this ACK), the rest by recency. Returns the count.
  std::size_t sack_blocks(std::span<wire::SackBlock> out) const;

  void clear() {
    count_ = 0;
    blocks_.reset();
  }

 private:
  // Sorted by left edge, disjoint, not adjacent. Held only while there is something in it
  // (as the data buffers): an idle connection should not carry 256 bytes for its holes.
  std::unique_ptr<std::array<Block, kMaxBlocks>> blocks_;
  std::size_t count_ = 0;
  std::uint64_t clock_ = 0;
};

}  // namespace synack::tcp
