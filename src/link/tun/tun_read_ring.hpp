// Batched reads from a TUN descriptor through io_uring: one io_uring_enter takes up to
// `slots` packets, where read(2) takes one.
//
//   auto rx = TunReadRing::create(fd, {.capacity = 1500}, stats, why);  // on the reading thread
//   if (rx->owned_by_caller()) {
//     const std::size_t n = rx->read(16);   // one system call
//     for (std::size_t i = 0; i < n; ++i) use(rx->packet(i));  // in the device's order
//   }
//
// Nothing is ever left outstanding. A batch is `count` reads with RWF_NOWAIT into
// registered buffers, submitted together with IORING_ENTER_GETEVENTS: a read that finds
// the device's queue empty completes at once with -EAGAIN instead of arming a poll, so no
// read is finished later as task work (the task work that interrupted the submitting
// thread's blocking system calls with EINTR when reads were armed; tun_ring.hpp). When the
// call returns, every read has completed, inline and one after the other in submission
// order during the submission, each taking the packet at the head of the device's queue:
// slot i holds an earlier packet than slot i + 1 (a packet that came in the middle of a
// batch fills a later slot after empty ones, still in order). The ring checks rather than
// assumes it: a read that had not completed when the call returned (it would have run on
// its own, unordered) is counted (TunStats::receive_late), waited for (bounded) and its
// packet dropped rather than delivered out of order.
//
// A ring with IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN: bound to the thread
// that created it, which is then the only one to submit to it; any task work io_uring
// still queued would run only inside that thread's own io_uring_enter, never interrupting
// another of its system calls. Other threads must not call read() (the kernel would refuse
// them with EEXIST); TunLink has them read with read(2), which is safe because no read of
// the ring is outstanding between two calls, so frames cannot pass each other.
//
// A kernel that refuses RWF_NOWAIT on the device (EOPNOTSUPP) or the flags (EINVAL before
// 6.1) leaves the ring unusable (usable() false), and TunLink falls back to read(2).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "link/tun/tun_link.hpp"
#include "wire/bytes.hpp"

namespace synack::link {

class TunReadRing {
 public:
  struct Sizes {
    std::size_t capacity = 0;  // bytes one read buffer holds (a packet, with its vnet header)
    std::size_t slots = 64;    // reads one call makes at most
  };

  // Made by, and bound to, the calling thread. nullptr, with the reason in `why`, when
  // io_uring or one of the flags is unavailable.
  static std::unique_ptr<TunReadRing> create(int fd, const Sizes& sizes, TunStats& stats,
                                             std::string& why);
  ~TunReadRing();
  TunReadRing(const TunReadRing&) = delete;
  TunReadRing& operator=(const TunReadRing&) = delete;

  bool owned_by_caller() const { return std::this_thread::get_id() == owner_; }
  // False once the kernel refused a batched read (RWF_NOWAIT unsupported): read(2) instead.
  bool usable() const { return usable_; }
  // Makes min(count, slots) reads in one system call; returns how many packets they took
  // (packet(0) .. packet(n - 1), in the order the device produced them). Only on the
  // owner's thread; the packets stay valid until the next read().
  std::size_t read(std::size_t count);
  wire::Bytes packet(std::size_t i) const;
  const Sizes& sizes() const { return sizes_; }
  bool registered_buffers() const { return registered_; }

 private:
  struct Impl;  // liburing.h stays out of this header
  TunReadRing(std::unique_ptr<Impl> impl, const Sizes& sizes, TunStats& stats);

  std::unique_ptr<Impl> impl_;
  Sizes sizes_;
  TunStats& stats_;
  std::thread::id owner_;
  bool registered_ = false;
  bool usable_ = true;
};

}  // namespace synack::link
