#include "tcp/reassembly.hpp"

#include <algorithm>

namespace synack::tcp {

bool Reassembly::holds(Seq start, Seq end) const {
  for (std::size_t i = 0; i < count_; ++i) {
    if (before_eq((*blocks_)[i].left, start) && before_eq(end, (*blocks_)[i].right)) return true;
  }
  return false;
}

std::size_t Reassembly::bytes() const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < count_; ++i) {
    n += static_cast<std::size_t>((*blocks_)[i].right - (*blocks_)[i].left);
  }
  return n;
}

Reassembly::Added Reassembly::add(Seq start, Seq end) {
  if (!before(start, end)) return Added::duplicate;
  const std::uint64_t stamp = ++clock_;
  for (std::size_t i = 0; i < count_; ++i) {
    if (before_eq((*blocks_)[i].left, start) && before_eq(end, (*blocks_)[i].right)) {
      // All of it is held already. The island that holds it becomes the most recent: it is
      // the block "containing the segment which triggered this ACK" (RFC 2018 §4), and it
      // must follow the D-SACK block, which RFC 2883 §4.1.2 puts first, as the second
      // block, so that the sender can recognise the D-SACK (as Linux's tcp_check_dsack
      // does) by the first block lying inside the second.
      (*blocks_)[i].recency = stamp;
      return Added::duplicate;
    }
  }
  // Find the blocks [first, last) that overlap or touch [start, end), and merge them.
  std::size_t first = 0;
  while (first < count_ && before((*blocks_)[first].right, start)) ++first;
  std::size_t last = first;
  Seq left = start, right = end;
  while (last < count_ && before_eq((*blocks_)[last].left, end)) {
    left = earliest(left, (*blocks_)[last].left);
    right = latest(right, (*blocks_)[last].right);
    ++last;
  }
  const std::size_t merged = last - first;
  if (merged == 0) {
    if (count_ == kMaxBlocks) return Added::full;
    if (!blocks_) blocks_ = std::make_unique<std::array<Block, kMaxBlocks>>();
    std::move_backward(blocks_->begin() + static_cast<std::ptrdiff_t>(first),
                       blocks_->begin() + static_cast<std::ptrdiff_t>(count_),
                       blocks_->begin() + static_cast<std::ptrdiff_t>(count_ + 1));
    ++count_;
  } else if (merged > 1) {
    std::move(blocks_->begin() + static_cast<std::ptrdiff_t>(last),
              blocks_->begin() + static_cast<std::ptrdiff_t>(count_),
              blocks_->begin() + static_cast<std::ptrdiff_t>(first + 1));
    count_ -= merged - 1;
  }
  (*blocks_)[first] = {left, right, stamp};
  return Added::new_data;
}

Seq Reassembly::advance(Seq rcv_nxt) {
  Seq reach = rcv_nxt;
  std::size_t gone = 0;
  while (gone < count_ && before_eq((*blocks_)[gone].left, reach)) {
    reach = latest(reach, (*blocks_)[gone].right);
    ++gone;
  }
  // Blocks wholly below RCV.NXT (already delivered by overlapping data) go too.
  if (gone > 0) {
    std::move(blocks_->begin() + static_cast<std::ptrdiff_t>(gone),
              blocks_->begin() + static_cast<std::ptrdiff_t>(count_), blocks_->begin());
    count_ -= gone;
    if (count_ == 0) blocks_.reset();
  }
  return reach;
}

std::size_t Reassembly::sack_blocks(std::span<wire::SackBlock> out) const {
  std::array<const Block*, kMaxBlocks> order{};
  for (std::size_t i = 0; i < count_; ++i) order[i] = &(*blocks_)[i];
  std::sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(count_),
            [](const Block* a, const Block* b) { return a->recency > b->recency; });
  const std::size_t n = std::min(out.size(), count_);
  for (std::size_t i = 0; i < n; ++i) out[i] = {order[i]->left.raw(), order[i]->right.raw()};
  return n;
}

}  // namespace synack::tcp
