// A caller's scatter/gather array (struct iovec), checked as Linux's import_iovec checks
// it, and walked piece by piece as bytes are copied in or out.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>

namespace synack::capi {

// Linux's MAX_RW_COUNT: one read or write moves at most this much (more is cut, not failed).
inline constexpr std::size_t kMaxTransfer = 0x7ffff000;
// UIO_MAXIOV (IOV_MAX).
inline constexpr int kMaxIovecs = 1024;

// 0, with the total length (capped at kMaxTransfer), or the errno: EINVAL for a count
// below 0 or above kMaxIovecs (readv/writev; sendmsg/recvmsg say EMSGSIZE for the
// latter themselves) or a length that is negative as an ssize_t, EFAULT for a null array
// with a count or a null base with a length.
int check_iovecs(const iovec* iov, int count, std::size_t& total);

// Walks the pieces of an iovec array, at most `limit` bytes in all.
class IovecCursor {
 public:
  IovecCursor(std::span<const iovec> pieces, std::size_t limit) : pieces_(pieces), left_(limit) {}

  // The room (or bytes) at the cursor, in one piece; empty at the end.
  std::span<std::uint8_t> piece();
  void advance(std::size_t n);
  std::size_t left() const { return left_; }
  // Copies `bytes` in from the cursor on, advancing it. Returns how many fit.
  std::size_t put(std::span<const std::uint8_t> bytes);
  // Copies up to out.size() bytes out from the cursor on, advancing it. Returns how many.
  std::size_t take(std::span<std::uint8_t> out);

 private:
  void skip_empty();
  std::span<const iovec> pieces_;
  std::size_t index_ = 0;
  std::size_t offset_ = 0;
  std::size_t left_;
};

}  // namespace synack::capi
