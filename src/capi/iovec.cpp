#include "capi/iovec.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

namespace synack::capi {

int check_iovecs(const iovec* iov, int count, std::size_t& total) {
  total = 0;
  if (count < 0 || count > kMaxIovecs) return EINVAL;
  if (count > 0 && !iov) return EFAULT;
  for (int i = 0; i < count; ++i) {
    const iovec& v = iov[i];
    if (v.iov_len > static_cast<std::size_t>(SSIZE_MAX)) return EINVAL;
    if (v.iov_len > 0 && !v.iov_base) return EFAULT;
    total = std::min(total + v.iov_len, kMaxTransfer);
  }
  return 0;
}

void IovecCursor::skip_empty() {
  while (index_ < pieces_.size() && offset_ == pieces_[index_].iov_len) {
    ++index_;
    offset_ = 0;
  }
}

std::span<std::uint8_t> IovecCursor::piece() {
  skip_empty();
  if (index_ >= pieces_.size() || left_ == 0) return {};
  const iovec& v = pieces_[index_];
  return {static_cast<std::uint8_t*>(v.iov_base) + offset_, std::min(v.iov_len - offset_, left_)};
}

void IovecCursor::advance(std::size_t n) {
  left_ -= n;
  while (n > 0) {
    skip_empty();
    const std::size_t step = std::min(n, pieces_[index_].iov_len - offset_);
    offset_ += step;
    n -= step;
  }
}

std::size_t IovecCursor::put(std::span<const std::uint8_t> bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const auto room = piece();
    if (room.empty()) break;
    const std::size_t n = std::min(room.size(), bytes.size() - done);
    std::memcpy(room.data(), bytes.data() + done, n);
    advance(n);
    done += n;
  }
  return done;
}

std::size_t IovecCursor::take(std::span<std::uint8_t> out) {
  std::size_t done = 0;
  while (done < out.size()) {
    const auto data = piece();
    if (data.empty()) break;
    const std::size_t n = std::min(data.size(), out.size() - done);
    std::memcpy(out.data() + done, data.data(), n);
    advance(n);
    done += n;
  }
  return done;
}

}  // namespace synack::capi
