// Batched I/O on a TUN descriptor through io_uring: many writes per io_uring_enter and
// several reads always outstanding, so a frame no longer costs a system call of its own.
//
//   TunRing::create(fd, {.write_capacity = 1512, .read_capacity = 65548}) // nullptr: no io_uring
//   auto buf = ring.write_buffer();  memcpy(buf.data(), frame, n);  ring.queue_write(n, n);
//   ring.submit();                   // the link's flush(): every queued write goes out
//   ring.reap(budget, [](std::span<const std::uint8_t> packet) { ... });
//
// Buffers: `write_slots` preallocated write buffers and `read_slots` read buffers, one
// allocation registered with the kernel (IORING_REGISTER_BUFFERS) so it pins the pages once
// rather than per request; when registration is refused (RLIMIT_MEMLOCK) plain read/write
// requests use the same buffers.
//
// Writes are queued, not submitted: the queue goes to the kernel when every slot is queued
// or in flight (`write_slots` frames per system call) or at submit(). Reads: every read slot
// has one IORING_OP_READ outstanding. The descriptor must be blocking (no O_NONBLOCK): the
// TUN device supports IOCB_NOWAIT (FMODE_NOWAIT), so io_uring tries each read at once and,
// when the device queue is empty, arms an internal poll and retries the read when a packet
// arrives; on an O_NONBLOCK file it would instead complete the read with -EAGAIN.
//
// Order: a TUN write is synchronous in the kernel (tun_get_user hands the packet on before
// it returns) and never -EAGAIN, so io_uring completes each write inline, in submission
// order, during io_uring_enter: frames leave in the order they were queued. The ring checks
// rather than assumes it: every write carries a sequence number, and a completion out of
// sequence is counted (TunStats::send_reordered). Reads complete in the order they took
// packets off the device's queue (each retry reads and posts its completion in one step of
// the submitting task), and reap() hands them over in completion order.
//
// poll_fd: an eventfd registered with the ring (IORING_REGISTER_EVENTFD), which the kernel
// signals for every completion posted. Not the ring's own descriptor: a read completed by
// task work of the task that then sleeps in epoll_wait did not wake that epoll here (kernel
// 6.18), while the eventfd does. reap() clears it only when no completion is left, so it
// acts level-triggered like the TUN descriptor it replaces: an epoll loop sleeps until a
// read completes, and a receive() that stopped at its budget is resumed. Write
// completions signal it too; the next receive() clears it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "link/tun/tun_link.hpp"

namespace synack::link {

class TunRing {
 public:
  struct Sizes {
    std::size_t write_capacity = 0;  // bytes one write buffer holds
    std::size_t read_capacity = 0;   // bytes one read buffer holds
    std::size_t write_slots = 64;
    std::size_t read_slots = 16;
  };

  // nullptr, with the reason in `why`, when io_uring is unavailable (kernel without it,
  // kernel.io_uring_disabled, seccomp) or the reads could not be started.
  static std::unique_ptr<TunRing> create(int fd, const Sizes& sizes, TunStats& stats,
                                         std::string& why);
  ~TunRing();
  TunRing(const TunRing&) = delete;
  TunRing& operator=(const TunRing&) = delete;

  // A free write buffer of write_capacity bytes, reclaiming completed writes (and, when all
  // are in flight, submitting and waiting a bounded time for one); empty when none came free.
  std::span<std::uint8_t> write_buffer();
  // Queues the buffer write_buffer() returned, `length` bytes of it, of which `frame` bytes
  // are the IPv4 packet (the rest a virtio-net header); `segmented`: a GSO super-segment.
  // Submits the queue when every slot is taken.
  void queue_write(std::size_t length, std::size_t frame, bool segmented);
  // Hands every queued request to the kernel and reclaims completed writes.
  void submit();
  // Calls on_read(packet) for up to `budget` completed reads, in order, and re-arms each
  // read. Returns how many it delivered. The packet's bytes are valid during the call.
  template <class OnRead>
  std::size_t reap(std::size_t budget, OnRead&& on_read);

  // Readable when completions may wait (an eventfd the kernel signals, level-triggered
  // through settle()).
  int poll_fd() const;
  bool registered_buffers() const { return registered_; }
  const Sizes& sizes() const { return sizes_; }

 private:
  struct Impl;  // the ring and the buffers: liburing.h stays out of this header
  TunRing(std::unique_ptr<Impl> impl, const Sizes& sizes, TunStats& stats);

  // The slot of the next completed read that carries a packet (`length` bytes), -1 when
  // none has completed; failed reads are counted and re-armed or retired on the way.
  int next_read(std::size_t& length);
  std::span<const std::uint8_t> read_bytes(int slot, std::size_t length) const;
  void rearm_read(int slot);
  void drain();
  // Leaves poll_fd() readable exactly when completions wait.
  void settle();

  std::unique_ptr<Impl> impl_;
  Sizes sizes_;
  TunStats& stats_;
  bool registered_ = false;
};

template <class OnRead>
std::size_t TunRing::reap(std::size_t budget, OnRead&& on_read) {
  std::size_t delivered = 0;
  std::size_t length = 0;
  for (int slot; delivered < budget && (slot = next_read(length)) >= 0;) {
    ++delivered;
    on_read(read_bytes(slot, length));
    rearm_read(slot);
  }
  submit();  // the re-armed reads, so that a packet can wake the caller's epoll again
  settle();
  return delivered;
}

}  // namespace synack::link
