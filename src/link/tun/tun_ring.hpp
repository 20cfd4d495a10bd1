// Batched writes on a TUN descriptor through io_uring: many frames per io_uring_enter, so a
// frame sent no longer costs a system call of its own.
//
//   TunRing::create(fd, {.write_capacity = 1512}, stats, why)  // nullptr: no io_uring
//   auto buf = ring.write_buffer();  memcpy(buf.data(), frame, n);  ring.queue_write(n, n);
//   ring.submit();                   // the link's flush(): every queued write goes out
//
// Buffers: `write_slots` preallocated buffers, one allocation registered with the kernel
// (IORING_REGISTER_BUFFERS) so it pins the pages once rather than per request; when
// registration is refused (RLIMIT_MEMLOCK) plain write requests use the same buffers.
// Writes are queued, not submitted: the queue goes to the kernel when every slot is queued
// or in flight (`write_slots` frames per system call) or at submit().
//
// Order: a TUN write is synchronous in the kernel (tun_get_user hands the packet on before
// it returns) and never -EAGAIN, so io_uring completes each write inline, in submission
// order, during io_uring_enter: frames leave in the order they were queued. The ring checks
// rather than assumes it: every write carries a sequence number, and a completion out of
// sequence is counted (TunStats::send_reordered).
//
// Why not reads too: a read io_uring cannot finish at once arms a poll, and when a packet
// comes the kernel finishes it as task work of the thread that submitted it, which
// interrupts whatever that thread is blocked in. The runtime polls the stack inline in the
// application's threads, so an application's own blocking call with a timeout (a kernel
// socket's connect or recv with SO_RCVTIMEO) failed with EINTR. Reads stay read(2) calls on
// the non-blocking descriptor, made only once epoll says a packet waits.
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
    std::size_t write_slots = 64;
  };

  // nullptr, with the reason in `why`, when io_uring is unavailable (kernel without it,
  // kernel.io_uring_disabled, seccomp).
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
  bool registered_buffers() const { return registered_; }
  const Sizes& sizes() const { return sizes_; }

 private:
  struct Impl;  // the ring and the buffers: liburing.h stays out of this header
  TunRing(std::unique_ptr<Impl> impl, const Sizes& sizes, TunStats& stats);

  // Takes every completion off the completion queue, freeing the write slots.
  void drain();

  std::unique_ptr<Impl> impl_;
  Sizes sizes_;
  TunStats& stats_;
  bool registered_ = false;
};

}  // namespace synack::link
