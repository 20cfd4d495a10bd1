#include "link/tun/tun_read_ring.hpp"

#include <liburing.h>
#include <sys/uio.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

namespace synack::link {
namespace {

constexpr unsigned kMaxSlots = 256;
constexpr int kEmpty = -EAGAIN;  // a read that found the device's queue empty

}  // namespace

struct TunReadRing::Impl {
  io_uring ring{};
  bool ring_open = false;
  int fd = -1;
  std::vector<std::uint8_t> memory;   // the read buffers, slot after slot
  std::vector<int> result;            // each slot's completion: bytes read, or -errno
  std::vector<std::uint32_t> filled;  // the slots that took a packet, in slot order
  unsigned in_flight = 0;

  ~Impl() {
    if (ring_open) io_uring_queue_exit(&ring);
  }

  // Takes every completion off the queue into `result`.
  void reap() {
    io_uring_cqe* cqe;
    unsigned head;
    unsigned seen = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
      ++seen;
      const auto slot = static_cast<std::size_t>(io_uring_cqe_get_data64(cqe));
      if (slot < result.size()) result[slot] = cqe->res;
    }
    io_uring_cq_advance(&ring, seen);
    in_flight -= seen;
  }
};

TunReadRing::TunReadRing(std::unique_ptr<Impl> impl, const Sizes& sizes, TunStats& stats)
    : impl_(std::move(impl)), sizes_(sizes), stats_(stats), owner_(std::this_thread::get_id()) {}

// Nothing is outstanding between two read() calls, so closing the ring leaves no read to
// cancel and no buffer in the kernel's hands.
TunReadRing::~TunReadRing() = default;

std::unique_ptr<TunReadRing> TunReadRing::create(int fd, const Sizes& sizes, TunStats& stats,
                                                 std::string& why) {
  if (sizes.slots == 0 || sizes.slots > kMaxSlots || sizes.capacity == 0) {
    why = "bad read slot count or size";
    return nullptr;
  }
  auto impl = std::make_unique<Impl>();
  impl->fd = fd;
  io_uring_params params{};
  // DEFER_TASKRUN: what task work the ring ever has runs inside this thread's own
  // io_uring_enter (GETEVENTS), never as a signal-like interruption of its other calls.
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  const auto entries = static_cast<unsigned>(sizes.slots);
  if (const int r = io_uring_queue_init_params(entries, &impl->ring, &params); r < 0) {
    why = std::string("io_uring_queue_init (SINGLE_ISSUER | DEFER_TASKRUN): ") + std::strerror(-r);
    return nullptr;
  }
  impl->ring_open = true;
  impl->memory.resize(sizes.capacity * sizes.slots);
  impl->result.assign(sizes.slots, kEmpty);
  impl->filled.reserve(sizes.slots);
  const iovec region = {impl->memory.data(), impl->memory.size()};
  const bool registered = io_uring_register_buffers(&impl->ring, &region, 1) == 0;
  std::unique_ptr<TunReadRing> ring(new TunReadRing(std::move(impl), sizes, stats));
  ring->registered_ = registered;
  return ring;
}

wire::Bytes TunReadRing::packet(std::size_t i) const {
  const Impl& m = *impl_;
  const std::uint32_t slot = m.filled[i];
  return {m.memory.data() + slot * sizes_.capacity, static_cast<std::size_t>(m.result[slot])};
}

std::size_t TunReadRing::read(std::size_t count) {
  Impl& m = *impl_;
  m.filled.clear();
  if (!usable_ || !owned_by_caller()) return 0;
  const std::size_t n = std::min(count, sizes_.slots);
  for (std::size_t slot = 0; slot < n; ++slot) {
    io_uring_sqe* sqe = io_uring_get_sqe(&m.ring);  // never null: the queue holds `slots`
    std::uint8_t* buf = m.memory.data() + slot * sizes_.capacity;
    const auto len = static_cast<unsigned>(sizes_.capacity);
    if (registered_) {
      io_uring_prep_read_fixed(sqe, m.fd, buf, len, 0, 0);
    } else {
      io_uring_prep_read(sqe, m.fd, buf, len, 0);
    }
    // Fail at once with EAGAIN on an empty queue rather than arm a poll (the header).
    sqe->rw_flags = RWF_NOWAIT;
    io_uring_sqe_set_data64(sqe, slot);
    m.result[slot] = kEmpty;
  }
  // One system call: submit, and with GETEVENTS (min_complete 0) flush the completions.
  int r = -EINTR;
  for (int attempt = 0; attempt < 4 && (r == -EINTR || r == -EAGAIN || r == -EBUSY); ++attempt) {
    r = io_uring_submit_and_get_events(&m.ring);
  }
  ++stats_.receive_calls;
  if (r < 0) {
    // The kernel took none of them (and they stay in the submission queue): read(2) from
    // now on.
    ++stats_.read_errors;
    usable_ = false;
    return 0;
  }
  m.in_flight += static_cast<unsigned>(r);
  // Fewer taken than queued (never expected): what was read is delivered, in order, and
  // the reads left in the submission queue would go with the next batch, so no more.
  if (static_cast<std::size_t>(r) < n) usable_ = false;
  m.reap();
  if (m.in_flight > 0) {
    // Never expected (a RWF_NOWAIT read completes during the submission): a read that ran
    // on its own. Wait for it, bounded, so its buffer is ours again; its packet is dropped
    // below rather than delivered in an order that is not known.
    stats_.receive_late += m.in_flight;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
    while (m.in_flight > 0 && std::chrono::steady_clock::now() < give_up) {
      __kernel_timespec ts{0, 10'000'000};
      io_uring_cqe* cqe = nullptr;
      io_uring_wait_cqe_timeout(&m.ring, &cqe, &ts);
      m.reap();
    }
    if (m.in_flight > 0) usable_ = false;  // buffers still the kernel's: never reuse them
    return 0;
  }
  for (std::size_t slot = 0; slot < n; ++slot) {
    const int res = m.result[slot];
    if (res > 0 && static_cast<std::size_t>(res) <= sizes_.capacity) {
      m.filled.push_back(static_cast<std::uint32_t>(slot));
    } else if (res == -EOPNOTSUPP || res == -EINVAL) {
      usable_ = false;  // RWF_NOWAIT refused on this device: read(2) from now on
    } else if (res != kEmpty && res != 0) {
      ++stats_.read_errors;  // EFAULT: a packet larger than the buffer (the MTU was raised)
    }
  }
  return m.filled.size();
}

}  // namespace synack::link
