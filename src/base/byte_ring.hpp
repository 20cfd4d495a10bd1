// A fixed-capacity FIFO of bytes in one allocation: the send and receive buffers. Bytes
// are appended at the back and consumed from the front; the middle can be read at any
// offset without consuming (retransmission reads what is sent but not yet acknowledged).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace synack {

class ByteRing {
 public:
  ByteRing() = default;
  explicit ByteRing(std::size_t capacity);

  std::size_t capacity() const { return capacity_; }
  std::size_t size() const { return size_; }
  std::size_t free() const { return capacity_ - size_; }
  bool empty() const { return size_ == 0; }

  // Appends as much of `data` as fits; returns how much did.
  std::size_t push(std::span<const std::uint8_t> data);
  // Copies up to out.size() bytes starting `offset` bytes past the front; returns how many.
  std::size_t copy_out(std::size_t offset, std::span<std::uint8_t> out) const;
  // The bytes [offset, offset + n) in place, as at most two pieces (the ring may wrap),
  // for a caller that copies them itself (and checksums them on the way). Within size().
  std::array<std::span<const std::uint8_t>, 2> pieces(std::size_t offset, std::size_t n) const;
  // Writes `data` at `offset` past the front, within capacity, without changing size():
  // for out-of-order data placed ahead of what is readable.
  void write_at(std::size_t offset, std::span<const std::uint8_t> data);
  // Makes `n` more bytes (already written with write_at) part of the content.
  void commit(std::size_t n) { size_ += n; }
  // Drops n bytes from the front.
  void consume(std::size_t n);
  // Reads and consumes; returns how many bytes were read.
  std::size_t pop(std::span<std::uint8_t> out);
  // Releases the storage (TIME_WAIT keeps no buffers); capacity becomes 0.
  void release();

 private:
  std::unique_ptr<std::uint8_t[]> data_;
  std::size_t capacity_ = 0;
  std::size_t head_ = 0;  // index of the front byte
  std::size_t size_ = 0;
};

}  // namespace synack
