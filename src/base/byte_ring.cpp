#include "base/byte_ring.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace synack {

// Not zero-filled (for_overwrite): only bytes written are ever read, and zeroing two 64 KiB
// buffers per connection made opening a thousand connections spend most of its time in
// memset and page faults for pages a short connection never touches.
ByteRing::ByteRing(std::size_t capacity)
    : data_(capacity ? std::make_unique_for_overwrite<std::uint8_t[]>(capacity) : nullptr),
      capacity_(capacity) {}

std::size_t ByteRing::push(std::span<const std::uint8_t> data) {
  const std::size_t n = std::min(data.size(), free());
  write_at(size_, data.first(n));
  size_ += n;
  return n;
}

void ByteRing::write_at(std::size_t offset, std::span<const std::uint8_t> data) {
  assert(offset + data.size() <= capacity_);
  if (data.empty()) return;
  const std::size_t start = (head_ + offset) % capacity_;
  const std::size_t first = std::min(data.size(), capacity_ - start);
  std::memcpy(data_.get() + start, data.data(), first);
  std::memcpy(data_.get(), data.data() + first, data.size() - first);
}

std::array<std::span<const std::uint8_t>, 2> ByteRing::pieces(std::size_t offset,
                                                              std::size_t n) const {
  assert(offset + n <= size_);
  if (n == 0) return {};
  const std::size_t start = (head_ + offset) % capacity_;
  const std::size_t first = std::min(n, capacity_ - start);
  return {std::span<const std::uint8_t>(data_.get() + start, first),
          std::span<const std::uint8_t>(data_.get(), n - first)};
}

std::size_t ByteRing::copy_out(std::size_t offset, std::span<std::uint8_t> out) const {
  if (offset >= size_) return 0;
  const std::size_t n = std::min(out.size(), size_ - offset);
  const std::size_t start = (head_ + offset) % capacity_;
  const std::size_t first = std::min(n, capacity_ - start);
  std::memcpy(out.data(), data_.get() + start, first);
  std::memcpy(out.data() + first, data_.get(), n - first);
  return n;
}

void ByteRing::consume(std::size_t n) {
  assert(n <= size_);
  if (n == 0) return;
  size_ -= n;
  head_ = (head_ + n) % capacity_;  // not reset when empty: data may wait past size()
}

std::size_t ByteRing::pop(std::span<std::uint8_t> out) {
  const std::size_t n = copy_out(0, out);
  consume(n);
  return n;
}

void ByteRing::release() {
  data_.reset();
  capacity_ = head_ = size_ = 0;
}

}  // namespace synack
