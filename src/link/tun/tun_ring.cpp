#include "link/tun/tun_ring.hpp"

#include <liburing.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

namespace synack::link {
namespace {

constexpr unsigned kRingEntries = 256;  // room for every slot's request at once
io_uring_sqe* get_sqe(io_uring& ring) {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring);
  if (sqe) return sqe;
  // The submission queue is full (never, with kRingEntries above every slot's request):
  // hand it over and take the slot freed.
  io_uring_submit(&ring);
  return io_uring_get_sqe(&ring);
}

}  // namespace

struct TunRing::Impl {
  io_uring ring{};
  bool ring_open = false;
  int fd = -1;
  std::vector<std::uint8_t> memory;  // the write buffers

  struct Write {
    std::uint64_t seq = 0;
    std::uint32_t length = 0, frame = 0;
    bool segmented = false;
  };
  std::vector<Write> writes;
  std::vector<std::uint32_t> free_writes;  // a stack of idle write slots
  std::uint64_t next_seq = 0, expected_seq = 0;

  ~Impl() {
    if (ring_open) io_uring_queue_exit(&ring);
  }
};

TunRing::TunRing(std::unique_ptr<Impl> impl, const Sizes& sizes, TunStats& stats)
    : impl_(std::move(impl)), sizes_(sizes), stats_(stats) {}

// Sends what is queued and waits (bounded) for every write to complete: the buffers are
// the kernel's until then.
TunRing::~TunRing() {
  Impl& m = *impl_;
  submit();
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (m.free_writes.size() < m.writes.size() && std::chrono::steady_clock::now() < give_up) {
    __kernel_timespec ts{0, 10'000'000};
    io_uring_cqe* cqe = nullptr;
    io_uring_wait_cqe_timeout(&m.ring, &cqe, &ts);
    drain();
  }
}

std::unique_ptr<TunRing> TunRing::create(int fd, const Sizes& sizes, TunStats& stats,
                                         std::string& why) {
  if (sizes.write_slots > kRingEntries || sizes.write_slots == 0) {
    why = "bad slot count";
    return nullptr;
  }
  auto impl = std::make_unique<Impl>();
  impl->fd = fd;
  if (const int r = io_uring_queue_init(kRingEntries, &impl->ring, 0); r < 0) {
    why = std::string("io_uring_queue_init: ") + std::strerror(-r);
    return nullptr;
  }
  impl->ring_open = true;
  impl->memory.resize(sizes.write_capacity * sizes.write_slots);
  impl->writes.resize(sizes.write_slots);
  for (std::size_t k = sizes.write_slots; k-- > 0;) {
    impl->free_writes.push_back(static_cast<std::uint32_t>(k));
  }
  const iovec region = {impl->memory.data(), impl->memory.size()};
  const bool registered = io_uring_register_buffers(&impl->ring, &region, 1) == 0;
  std::unique_ptr<TunRing> ring(new TunRing(std::move(impl), sizes, stats));
  ring->registered_ = registered;
  return ring;
}

void TunRing::drain() {
  Impl& m = *impl_;
  io_uring_cqe* cqe;
  unsigned head;
  unsigned seen = 0;
  io_uring_for_each_cqe(&m.ring, head, cqe) {
    ++seen;
    const auto slot = static_cast<std::uint32_t>(io_uring_cqe_get_data64(cqe));
    Impl::Write& w = m.writes[slot];
    if (w.seq != m.expected_seq) ++stats_.send_reordered;
    m.expected_seq = std::max(m.expected_seq, w.seq + 1);
    if (cqe->res >= 0 && static_cast<std::uint32_t>(cqe->res) == w.length) {
      ++stats_.frames_out;
      stats_.bytes_out += w.frame;
      if (w.segmented) ++stats_.segmented_out;
    } else {
      // A short write or an error (EIO: the device is down): the medium drops the frame.
      ++stats_.send_dropped;
    }
    m.free_writes.push_back(slot);
  }
  io_uring_cq_advance(&m.ring, seen);
}

void TunRing::submit() {
  Impl& m = *impl_;
  // Bounded: a retry only after an interrupted or busy submission.
  for (int attempt = 0; attempt < 4; ++attempt) {
    if (io_uring_sq_ready(&m.ring) == 0) break;
    const int r = io_uring_submit(&m.ring);
    if (r >= 0 || (r != -EINTR && r != -EAGAIN && r != -EBUSY)) break;
    drain();  // EBUSY: make room in the completion queue
  }
  drain();
}

std::span<std::uint8_t> TunRing::write_buffer() {
  Impl& m = *impl_;
  if (m.free_writes.empty()) submit();
  // Every write in flight after a submission: one went asynchronous. Wait for completions,
  // bounded in time.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
  while (m.free_writes.empty() && std::chrono::steady_clock::now() < give_up) {
    __kernel_timespec ts{0, 10'000'000};
    io_uring_cqe* cqe = nullptr;
    io_uring_wait_cqe_timeout(&m.ring, &cqe, &ts);
    submit();
  }
  if (m.free_writes.empty()) {
    ++stats_.send_dropped;
    return {};
  }
  const std::size_t slot = m.free_writes.back();
  return {m.memory.data() + slot * sizes_.write_capacity, sizes_.write_capacity};
}

void TunRing::queue_write(std::size_t length, std::size_t frame, bool segmented) {
  Impl& m = *impl_;
  io_uring_sqe* sqe = get_sqe(m.ring);
  if (!sqe) {
    ++stats_.send_dropped;
    return;
  }
  const std::uint32_t slot = m.free_writes.back();
  m.free_writes.pop_back();
  m.writes[slot] = {m.next_seq++, static_cast<std::uint32_t>(length),
                    static_cast<std::uint32_t>(frame), segmented};
  std::uint8_t* buf = m.memory.data() + slot * sizes_.write_capacity;
  const auto n = static_cast<unsigned>(length);
  if (registered_) {
    io_uring_prep_write_fixed(sqe, m.fd, buf, n, 0, 0);
  } else {
    io_uring_prep_write(sqe, m.fd, buf, n, 0);
  }
  io_uring_sqe_set_data64(sqe, slot);
  if (m.free_writes.empty()) submit();
}

}  // namespace synack::link
