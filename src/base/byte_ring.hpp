// A fixed-capacity FIFO of bytes: the send and receive buffers. Bytes are appended at the
// back and consumed from the front; the middle can be read at any offset without consuming
// (retransmission reads what is sent but not yet acknowledged), and bytes can be placed
// ahead of the content (out-of-order data) before they become part of it.
//
// Storage exists only while the ring holds bytes: it is taken (from a BufferPool, if one is
// given) when the first byte is written and given back when the last byte written is
// consumed, so an idle connection costs its ring's bookkeeping and nothing more. capacity()
// is the configured size throughout.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

namespace synack {

class BufferPool;

class ByteRing {
 public:
  ByteRing() = default;
  // Capacity up to 4 GiB - 1. `pool`, if given, must outlive the ring.
  explicit ByteRing(std::size_t capacity, BufferPool* pool = nullptr);
  ByteRing(ByteRing&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)),
        pool_(o.pool_),
        capacity_(std::exchange(o.capacity_, 0)),
        head_(std::exchange(o.head_, 0)),
        size_(std::exchange(o.size_, 0)),
        reach_(std::exchange(o.reach_, 0)) {}
  ByteRing& operator=(ByteRing&& o) noexcept;
  ByteRing(const ByteRing&) = delete;
  ByteRing& operator=(const ByteRing&) = delete;
  ~ByteRing() { give_back(); }

  std::size_t capacity() const { return capacity_; }
  std::size_t size() const { return size_; }
  std::size_t free() const { return capacity_ - size_; }
  bool empty() const { return size_ == 0; }
  // Whether the ring holds storage now (it does exactly while it holds bytes).
  bool allocated() const { return data_ != nullptr; }

  // Appends as much of `data` as fits; returns how much did.
  std::size_t push(std::span<const std::uint8_t> data);
  // Copies up to out.size() bytes starting `offset` bytes past the front; returns how many.
  std::size_t copy_out(std::size_t offset, std::span<std::uint8_t> out) const;
  // The bytes [offset, offset + n) of the content, n at most what is there past offset, where
  // they lie: one piece, or two when they wrap around the end of the storage.
  std::array<std::span<const std::uint8_t>, 2> pieces(std::size_t offset, std::size_t n) const;
  // Writes `data` at `offset` past the front, within capacity, without changing size():
  // for out-of-order data placed ahead of what is readable.
  void write_at(std::size_t offset, std::span<const std::uint8_t> data);
  // Makes `n` more bytes (already written with write_at) part of the content.
  void commit(std::size_t n);
  // Drops n bytes from the front; the storage goes back once nothing written remains.
  void consume(std::size_t n);
  // Reads and consumes; returns how many bytes were read.
  std::size_t pop(std::span<std::uint8_t> out);
  // Drops everything and gives the storage back (TIME_WAIT keeps no buffers); capacity
  // becomes 0.
  void release();

 private:
  void take_storage();
  void give_back();

  std::uint8_t* data_ = nullptr;  // null exactly when reach_ == 0
  BufferPool* pool_ = nullptr;    // null: plain new[] and delete[]
  std::uint32_t capacity_ = 0;
  std::uint32_t head_ = 0;  // index of the front byte
  std::uint32_t size_ = 0;
  // Bytes past the front that have been written (content and data placed ahead of it):
  // the storage is needed while this is non-zero.
  std::uint32_t reach_ = 0;
};

}  // namespace synack
