#include "link/tun/tun_ring.hpp"

#include <liburing.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

namespace synack::link {
namespace {

// A request's user_data: its kind in the high word, its slot in the low one.
constexpr std::uint64_t kWrite = 1, kRead = 2;
constexpr unsigned kRingEntries = 256;  // room for every slot's request at once
// Registered buffer indexes: the write buffers are one region, the read buffers another.
constexpr int kWriteRegion = 0, kReadRegion = 1;

std::uint64_t tag(std::uint64_t kind, std::size_t slot) {
  return (kind << 32) | slot;
}
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
  int event_fd = -1;                 // signalled by the kernel for every completion posted
  std::vector<std::uint8_t> memory;  // the write buffers, then the read buffers
  std::uint8_t* writes_base = nullptr;
  std::uint8_t* reads_base = nullptr;

  struct Write {
    std::uint64_t seq = 0;
    std::uint32_t length = 0, frame = 0;
    bool segmented = false;
  };
  std::vector<Write> writes;
  std::vector<std::uint32_t> free_writes;  // a stack of idle write slots
  std::uint64_t next_seq = 0, expected_seq = 0;

  // Completed reads not yet handed over, oldest first: a ring of read_slots entries (a slot
  // has at most one read outstanding, so it cannot overflow).
  struct Ready {
    int slot;
    std::size_t length;
  };
  std::vector<Ready> ready;
  std::size_t ready_head = 0, ready_count = 0;
  std::size_t reads_outstanding = 0;
  bool closing = false;    // reads cancelled stay cancelled
  std::vector<int> rearm;  // drain()'s scratch, read_slots long: no allocation per packet

  ~Impl() {
    if (ring_open) io_uring_queue_exit(&ring);
    if (event_fd >= 0) ::close(event_fd);
  }
};

TunRing::TunRing(std::unique_ptr<Impl> impl, const Sizes& sizes, TunStats& stats)
    : impl_(std::move(impl)), sizes_(sizes), stats_(stats) {}

// Cancels the outstanding reads and waits (bounded) for them: until then they hold the
// device's file, and a TUNSETIFF on the device right after (a test opening it again) would
// find it busy.
TunRing::~TunRing() {
  Impl& m = *impl_;
  m.closing = true;
  if (io_uring_sqe* sqe = get_sqe(m.ring)) {
    io_uring_prep_cancel_fd(sqe, m.fd, IORING_ASYNC_CANCEL_ALL);
    io_uring_sqe_set_data64(sqe, 0);
  }
  submit();
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while ((m.reads_outstanding > 0 || m.free_writes.size() < m.writes.size()) &&
         std::chrono::steady_clock::now() < give_up) {
    __kernel_timespec ts{0, 10'000'000};
    io_uring_cqe* cqe = nullptr;
    io_uring_wait_cqe_timeout(&m.ring, &cqe, &ts);
    drain();
  }
}

int TunRing::poll_fd() const {
  return impl_->event_fd;
}

std::unique_ptr<TunRing> TunRing::create(int fd, const Sizes& sizes, TunStats& stats,
                                         std::string& why) {
  if (sizes.write_slots + sizes.read_slots > kRingEntries || sizes.write_slots == 0 ||
      sizes.read_slots == 0) {
    why = "bad slot counts";
    return nullptr;
  }
  auto impl = std::make_unique<Impl>();
  impl->fd = fd;
  if (const int r = io_uring_queue_init(kRingEntries, &impl->ring, 0); r < 0) {
    why = std::string("io_uring_queue_init: ") + std::strerror(-r);
    return nullptr;
  }
  impl->ring_open = true;
  impl->event_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (impl->event_fd < 0 || io_uring_register_eventfd(&impl->ring, impl->event_fd) < 0) {
    why = std::string("io_uring_register_eventfd: ") + std::strerror(errno);
    return nullptr;
  }
  const std::size_t write_bytes = sizes.write_capacity * sizes.write_slots;
  const std::size_t read_bytes = sizes.read_capacity * sizes.read_slots;
  impl->memory.resize(write_bytes + read_bytes);
  impl->writes_base = impl->memory.data();
  impl->reads_base = impl->memory.data() + write_bytes;
  impl->writes.resize(sizes.write_slots);
  for (std::size_t k = sizes.write_slots; k-- > 0;) {
    impl->free_writes.push_back(static_cast<std::uint32_t>(k));
  }
  impl->ready.resize(sizes.read_slots);
  impl->rearm.reserve(sizes.read_slots);
  const iovec regions[2] = {{impl->writes_base, write_bytes}, {impl->reads_base, read_bytes}};
  const bool registered = io_uring_register_buffers(&impl->ring, regions, 2) == 0;
  std::unique_ptr<TunRing> ring(new TunRing(std::move(impl), sizes, stats));
  ring->registered_ = registered;
  for (std::size_t k = 0; k < sizes.read_slots; ++k) ring->rearm_read(static_cast<int>(k));
  if (const int r = io_uring_submit(&ring->impl_->ring); r < 0) {
    why = std::string("io_uring_submit: ") + std::strerror(-r);
    return nullptr;
  }
  return ring;
}

void TunRing::rearm_read(int slot) {
  Impl& m = *impl_;
  io_uring_sqe* sqe = get_sqe(m.ring);
  if (!sqe) {  // cannot happen (see get_sqe); the slot is lost rather than the link stuck
    ++stats_.read_errors;
    return;
  }
  std::uint8_t* buf = m.reads_base + static_cast<std::size_t>(slot) * sizes_.read_capacity;
  const auto n = static_cast<unsigned>(sizes_.read_capacity);
  if (registered_) {
    io_uring_prep_read_fixed(sqe, m.fd, buf, n, 0, kReadRegion);
  } else {
    io_uring_prep_read(sqe, m.fd, buf, n, 0);
  }
  io_uring_sqe_set_data64(sqe, tag(kRead, static_cast<std::size_t>(slot)));
  ++m.reads_outstanding;
}

std::span<const std::uint8_t> TunRing::read_bytes(int slot, std::size_t length) const {
  return {impl_->reads_base + static_cast<std::size_t>(slot) * sizes_.read_capacity, length};
}

// Takes every completion off the completion queue: writes free their slots at once, reads
// wait in `ready` for reap(), reads that failed for a passing reason are re-armed.
void TunRing::drain() {
  Impl& m = *impl_;
  TunStats& stats = stats_;
  std::vector<int>& rearm = m.rearm;
  rearm.clear();
  io_uring_cqe* cqe;
  unsigned head;
  unsigned seen = 0;
  io_uring_for_each_cqe(&m.ring, head, cqe) {
    ++seen;
    const std::uint64_t data = io_uring_cqe_get_data64(cqe);
    const auto slot = static_cast<std::uint32_t>(data & 0xffffffffu);
    const int res = cqe->res;
    if ((data >> 32) == kWrite) {
      TunRing::Impl::Write& w = m.writes[slot];
      if (w.seq != m.expected_seq) ++stats.send_reordered;
      m.expected_seq = std::max(m.expected_seq, w.seq + 1);
      if (res >= 0 && static_cast<std::uint32_t>(res) == w.length) {
        ++stats.frames_out;
        stats.bytes_out += w.frame;
        if (w.segmented) ++stats.segmented_out;
      } else {
        // A short write or an error (EIO: the device is down): the medium drops the frame.
        ++stats.send_dropped;
      }
      m.free_writes.push_back(slot);
    } else if ((data >> 32) == kRead) {
      --m.reads_outstanding;
      if (res > 0) {
        const std::size_t at = (m.ready_head + m.ready_count) % m.ready.size();
        m.ready[at] = {static_cast<int>(slot), static_cast<std::size_t>(res)};
        ++m.ready_count;
      } else if (m.closing) {
        // Cancelled on the way out: not re-armed.
      } else if (res == 0 || res == -EINTR || res == -ECANCELED) {
        rearm.push_back(static_cast<int>(slot));
      } else {
        // EBADFD (the device went away) and the like: retire the slot rather than spin.
        ++stats.read_errors;
      }
    }  // else the cancellation's own completion
  }
  io_uring_cq_advance(&m.ring, seen);
  for (const int slot : rearm) rearm_read(slot);
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
  return {m.writes_base + slot * sizes_.write_capacity, sizes_.write_capacity};
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
  std::uint8_t* buf = m.writes_base + slot * sizes_.write_capacity;
  const auto n = static_cast<unsigned>(length);
  if (registered_) {
    io_uring_prep_write_fixed(sqe, m.fd, buf, n, 0, kWriteRegion);
  } else {
    io_uring_prep_write(sqe, m.fd, buf, n, 0);
  }
  io_uring_sqe_set_data64(sqe, tag(kWrite, slot));
  if (m.free_writes.empty()) submit();
}

void TunRing::settle() {
  Impl& m = *impl_;
  std::uint64_t one = 1;
  if (m.ready_count == 0 && io_uring_cq_ready(&m.ring) == 0) {
    // Idle: clear the eventfd, then look again, so that a completion posted in between
    // still leaves it readable.
    [[maybe_unused]] const ssize_t r = ::read(m.event_fd, &one, sizeof one);
    if (io_uring_cq_ready(&m.ring) == 0) return;
    one = 1;
  }
  // Work left (a receive() that stopped at its budget): keep the descriptor readable.
  [[maybe_unused]] const ssize_t w = ::write(m.event_fd, &one, sizeof one);
}

int TunRing::next_read(std::size_t& length) {
  Impl& m = *impl_;
  if (m.ready_count == 0) drain();
  // Nothing completed yet, but re-armed reads wait to be submitted: submitting them may
  // complete some at once (the device's queue holds packets).
  if (m.ready_count == 0 && io_uring_sq_ready(&m.ring) > 0) submit();
  if (m.ready_count == 0) return -1;
  const Impl::Ready r = m.ready[m.ready_head];
  m.ready_head = (m.ready_head + 1) % m.ready.size();
  --m.ready_count;
  length = r.length;
  return r.slot;
}

}  // namespace synack::link
