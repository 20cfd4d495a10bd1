#include "link/shm/frame_ring.hpp"

#include <cstring>
#include <new>

namespace synack::link::shm {

static_assert(std::is_trivially_destructible_v<FrameRingControl>,
              "the control block is left in shared memory, never destroyed");

FrameRing::FrameRing(void* block, std::uint32_t capacity, std::uint32_t max_frame, bool initialize)
    : control_(initialize ? new (block) FrameRingControl{} : static_cast<FrameRingControl*>(block)),
      data_(static_cast<std::uint8_t*>(block) + sizeof(FrameRingControl)),
      capacity_(capacity),
      max_frame_(max_frame) {
  if (initialize) {
    control_->tail.store(0, std::memory_order_relaxed);
    control_->head.store(0, std::memory_order_release);
  }
  resync();
}

void FrameRing::resync() {
  tail_ = control_->tail.load(std::memory_order_acquire);
  head_seen_ = control_->head.load(std::memory_order_acquire);
  head_ = head_published_ = head_seen_;
  tail_seen_ = tail_;
  current_record_ = 0;
  loan_data_ = nullptr;
}

void FrameRing::reset() {
  control_->tail.store(0, std::memory_order_relaxed);
  control_->head.store(0, std::memory_order_release);
  resync();
}

std::optional<FrameRing::Place> FrameRing::place(std::size_t length) {
  if (length > max_frame_ || record_bytes(length) > capacity_) return std::nullopt;
  const std::uint64_t need = record_bytes(length);
  const std::uint64_t offset = tail_ & (capacity_ - 1);
  const std::uint64_t to_end = capacity_ - offset;
  // A record that does not fit before the end takes the rest of the data as a skip.
  const Place p{need <= to_end ? offset : 0, need <= to_end ? 0 : to_end};
  if (p.skip + need > capacity_ - (tail_ - head_seen_)) {
    head_seen_ = control_->head.load(std::memory_order_acquire);
    if (p.skip + need > capacity_ - (tail_ - head_seen_)) return std::nullopt;
  }
  return p;
}

void FrameRing::commit(Place p, std::size_t length, bool marked) {
  if (p.skip != 0) {
    std::memcpy(data_ + (tail_ & (capacity_ - 1)), &kSkip, sizeof kSkip);
    tail_ += p.skip;
  }
  const auto word = static_cast<std::uint32_t>(length) | (marked ? kMarked : 0);
  std::memcpy(data_ + p.at, &word, sizeof word);
  tail_ += record_bytes(length);
  loan_data_ = nullptr;
  control_->tail.store(tail_, std::memory_order_release);
}

bool FrameRing::try_push(std::span<const std::uint8_t> frame, bool marked) {
  if (loan_data_ != nullptr && frame.data() == loan_data_ && frame.size() <= loan_length_) {
    // Built in place: its record, placed for the longest frame it could be, holds it too.
    commit(loan_, frame.size(), marked);
    return true;
  }
  const auto p = place(frame.size());
  if (!p) return false;
  if (!frame.empty()) std::memcpy(data_ + p->at + kRecordHeader, frame.data(), frame.size());
  commit(*p, frame.size(), marked);
  return true;
}

std::span<std::uint8_t> FrameRing::reserve(std::size_t max_length) {
  const auto p = place(max_length);
  if (!p) return {};
  loan_ = *p;
  loan_data_ = data_ + p->at + kRecordHeader;
  loan_length_ = max_length;
  return {data_ + p->at + kRecordHeader, max_length};
}

std::uint32_t FrameRing::read_word(std::uint64_t position) const {
  std::uint32_t length;
  std::memcpy(&length, data_ + (position & (capacity_ - 1)), sizeof length);
  return length;
}

std::optional<std::span<const std::uint8_t>> FrameRing::peek(bool* marked) {
  // At most two rounds: a skip marker, then the record at offset 0.
  for (int round = 0; round < 2; ++round) {
    if (head_ == tail_seen_) {
      tail_seen_ = control_->tail.load(std::memory_order_acquire);
      if (head_ == tail_seen_) return std::nullopt;
    }
    const std::uint64_t offset = head_ & (capacity_ - 1);
    const std::uint64_t to_end = capacity_ - offset;
    const std::uint64_t published = tail_seen_ - head_;
    if (published > capacity_ || published < kRecordHeader) break;  // counters make no sense
    const std::uint32_t word = read_word(head_);
    if (word == kSkip) {
      if (offset == 0 || to_end > published) break;
      head_ += to_end;
      continue;
    }
    const std::uint32_t length = word & ~kMarked;
    if (marked) *marked = (word & kMarked) != 0;
    const std::uint64_t need = record_bytes(length);
    if (length > max_frame_ || need > to_end || need > published) break;
    current_record_ = need;
    return std::span<const std::uint8_t>(data_ + offset + kRecordHeader, length);
  }
  // Corrupt: drop everything published so far rather than read out of bounds.
  ++corrupt_;
  head_ = tail_seen_;
  current_record_ = 0;
  return std::nullopt;
}

void FrameRing::pop() {
  head_ += current_record_;
  current_record_ = 0;
}

void FrameRing::publish() {
  if (head_ == head_published_) return;
  head_published_ = head_;
  control_->head.store(head_, std::memory_order_release);
}

bool FrameRing::empty() const {
  // A skip marker is published with the record after it, never alone.
  return head_ == control_->tail.load(std::memory_order_acquire);
}

}  // namespace synack::link::shm
