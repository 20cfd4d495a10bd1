// The inside of a synack_host (include/synack/synack.h): one Stack on a virtual clock, the
// packets it exchanges with whoever drives it, and the table of kernel descriptors that
// stand for its sockets and epoll instances.
//
// Threads: every C call takes the host's mutex (lock()), does its work on the Stack, and
// calls run() so that the stack's output and any waiter see the change at once. A blocking
// call sleeps in wait_until() on a condition variable that run() signals; time passes only
// when a caller moves it (usleep, gettimeofday, netdev_receive), never on its own.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "capi/descriptor.hpp"
#include "link/link.hpp"
#include "synack/stack.hpp"

namespace synack::capi {

// synack_host_new's flags (see synack.h).
struct HostFlags {
  Ipv4Address local{192, 168, 0, 1};
  std::size_t mtu = 1500;
  std::uint64_t secret[2] = {0x736e6b6163737973ull, 0x2d6b63616e797321ull};
  bool window_scaling = true;
  bool sack = true;
  bool timestamps = true;
  std::size_t max_sockets = StackConfig{}.max_sockets;
  std::size_t max_buffer_memory = StackConfig{}.max_buffer_memory;
};
// nullopt when a flag is unknown or its value does not parse.
std::optional<HostFlags> parse_host_flags(const char* flags);

// The host's medium: what the stack sends waits for netdev_receive; what netdev_send hands
// in waits for the stack's next poll. Frames may be up to 64 KiB whatever the MTU says,
// because packetdrill injects unsegmented packets.
class PacketQueue final : public link::Link {
 public:
  struct Packet {
    Instant sent;
    std::vector<std::uint8_t> bytes;
  };
  explicit PacketQueue(std::size_t mtu) : mtu_(mtu) {}
  void send(wire::Bytes frame, Instant now) override;
  std::size_t receive(Instant now, link::FrameSink& sink, std::size_t budget) override;
  std::size_t mtu() const override { return mtu_; }

  void inject(wire::Bytes frame);     // from netdev_send
  std::optional<Packet> take_sent();  // for netdev_receive
  bool has_sent() const { return !sent_.empty(); }

 private:
  std::size_t mtu_;
  std::deque<std::vector<std::uint8_t>> inbound_;
  std::deque<Packet> sent_;
};

class Host {
 public:
  explicit Host(const HostFlags& flags);
  // Closes every kernel descriptor still in the table (unless the C library's close()
  // already released it).
  ~Host();
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  std::unique_lock<std::mutex> lock() { return std::unique_lock(mu_); }

  // --- Under the lock ----------------------------------------------------------------------
  Stack& stack() { return stack_; }
  Instant now() const { return clock_.now(); }

  // The descriptor `fd` stands for, or nullptr when it is not one of ours.
  Descriptor* find(int fd);
  // errno for a descriptor find() did not know: ENOTSOCK when the kernel has it open (a
  // file, a pipe), EBADF when nobody does. Always returns -1.
  int fail_unknown(int fd) const;
  // Opens a kernel descriptor (an eventfd, FD_CLOEXEC when d.cloexec) to stand for `d`,
  // and gives it a new serial. Returns it, or -1 with errno (EMFILE, ENFILE, ENOMEM).
  int add(Descriptor d);
  // Forgets `fd` (also in every epoll interest list, as closing a file drops it from the
  // epoll sets that watch it) and closes its kernel descriptor unless the C library's
  // close() already released it. The caller closes the stack socket.
  void remove(int fd);
  // Every descriptor, for poll/epoll bookkeeping.
  std::unordered_map<int, Descriptor>& descriptors() { return table_; }

  // Polls the stack at the current time (frames in, timers due, output out) and wakes
  // every waiter. Call after anything that changes the stack.
  void run();
  // Wakes every waiter without polling: for changes outside the stack (a descriptor
  // closed, an epoll interest added).
  void notify() {
    ++changes_;
    changed_.notify_all();
  }
  // Counts run() and notify(): a waiter that saw it unchanged knows nothing happened.
  std::uint64_t changes() const { return changes_; }
  // Moves virtual time forward to `t`, stopping at each timer on the way so that each
  // fires at its own instant (packets carry the time they were sent). Wakes waiters.
  void advance_to(Instant t);
  // The stack's next deadline, if any.
  std::optional<Instant> next_deadline() const;

  // Blocks until ready() is true (returns true) or virtual time reaches `deadline`
  // (returns false). ready() is evaluated under the lock after every run().
  bool wait_until(std::unique_lock<std::mutex>& lock, std::optional<Instant> deadline,
                  const std::function<bool()>& ready);

  // --- The wire and the clock (each takes the lock itself) ----------------------------------
  int netdev_send(const void* buf, std::size_t count);
  int netdev_receive(void* buf, std::size_t* count, long long* time_usecs);
  void usleep(std::uint64_t usecs);
  // Microseconds since the Unix epoch on the virtual clock; advances it by 1 µs first.
  std::int64_t gettimeofday_usecs();

  // Packets netdev_receive cut short because the caller's buffer was too small.
  std::uint64_t truncated_packets() const { return truncated_; }

  // How far netdev_receive moves time looking for a packet before giving up.
  static constexpr Duration receive_limit = seconds(5);
  // The wall-clock date virtual time 0 stands for (2026-01-01T00:00:00Z).
  static constexpr std::int64_t epoch_usecs = 1'767'225'600'000'000;

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  ManualClock clock_;  // virtual time, moved only by the host
  PacketQueue link_;
  Stack stack_;
  std::unordered_map<int, Descriptor> table_;
  // Each descriptor's eventfd as the kernel names it (see eventfd_identity in host.cpp),
  // so that a number the C library closed and the kernel gave to someone else is not
  // closed again by remove() or ~Host().
  std::unordered_map<int, std::string> identities_;
  std::uint64_t truncated_ = 0;
  std::uint64_t changes_ = 0;
  std::uint64_t next_serial_ = 0;

  bool still_ours(int fd) const;
  void release(Descriptor& d);
};

}  // namespace synack::capi
