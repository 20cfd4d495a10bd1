#include "base/byte_ring.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "base/buffer_pool.hpp"

namespace synack {

ByteRing::ByteRing(std::size_t capacity, BufferPool* pool)
    : pool_(pool), capacity_(static_cast<std::uint32_t>(capacity)) {
  assert(capacity <= UINT32_MAX);
}

ByteRing& ByteRing::operator=(ByteRing&& o) noexcept {
  if (this == &o) return *this;
  give_back();
  data_ = std::exchange(o.data_, nullptr);
  pool_ = o.pool_;
  capacity_ = std::exchange(o.capacity_, 0);
  head_ = std::exchange(o.head_, 0);
  size_ = std::exchange(o.size_, 0);
  reach_ = std::exchange(o.reach_, 0);
  return *this;
}

// Not zero-filled: only bytes written are ever read, and zeroing 64 KiB at every first byte
// would cost more than the data it holds.
void ByteRing::take_storage() {
  data_ = pool_ ? pool_->take(capacity_) : new std::uint8_t[capacity_];
  head_ = 0;
}

void ByteRing::give_back() {
  if (!data_) return;
  if (pool_) {
    pool_->give(data_, capacity_);
  } else {
    delete[] data_;
  }
  data_ = nullptr;
  head_ = 0;
}

std::size_t ByteRing::push(std::span<const std::uint8_t> data) {
  const std::size_t n = std::min(data.size(), free());
  write_at(size_, data.first(n));
  commit(n);
  return n;
}

void ByteRing::write_at(std::size_t offset, std::span<const std::uint8_t> data) {
  assert(offset + data.size() <= capacity_);
  if (data.empty()) return;
  if (!data_) take_storage();
  const std::size_t start = (head_ + offset) % capacity_;
  const std::size_t first = std::min(data.size(), capacity_ - start);
  std::memcpy(data_ + start, data.data(), first);
  std::memcpy(data_, data.data() + first, data.size() - first);
  reach_ = std::max(reach_, static_cast<std::uint32_t>(offset + data.size()));
}

void ByteRing::commit(std::size_t n) {
  size_ += static_cast<std::uint32_t>(n);
  assert(size_ <= reach_ || n == 0);
}

std::size_t ByteRing::copy_out(std::size_t offset, std::span<std::uint8_t> out) const {
  if (offset >= size_) return 0;
  const std::size_t n = std::min(out.size(), size_ - offset);
  if (n == 0) return 0;
  const auto [first, second] = pieces(offset, n);
  std::memcpy(out.data(), first.data(), first.size());
  std::memcpy(out.data() + first.size(), second.data(), second.size());
  return n;
}

std::array<std::span<const std::uint8_t>, 2> ByteRing::pieces(std::size_t offset,
                                                              std::size_t n) const {
  assert(offset + n <= size_);
  if (n == 0) return {};
  const std::size_t start = (head_ + offset) % capacity_;
  const std::size_t first = std::min(n, capacity_ - start);
  return {std::span<const std::uint8_t>(data_ + start, first),
          std::span<const std::uint8_t>(data_, n - first)};
}

void ByteRing::consume(std::size_t n) {
  assert(n <= size_);
  if (n == 0) return;
  const auto m = static_cast<std::uint32_t>(n);
  size_ -= m;
  reach_ -= m;
  if (reach_ == 0) {
    give_back();  // nothing written remains: an idle ring holds no storage
  } else {
    head_ = (head_ + m) % capacity_;  // data placed ahead may still wait past size()
  }
}

std::size_t ByteRing::pop(std::span<std::uint8_t> out) {
  const std::size_t n = copy_out(0, out);
  consume(n);
  return n;
}

void ByteRing::release() {
  give_back();
  capacity_ = size_ = reach_ = 0;
}

}  // namespace synack
