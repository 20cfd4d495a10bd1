// The real-time driver: one Stack on its own thread, and blocking socket calls for
// application threads that behave like POSIX.
//
//   auto tun = link::TunLink::open({.name = "synack0"});
//   runtime::Runtime rt(**tun, {.address = Ipv4Address(198, 18, 0, 2)});
//   SocketId s;
//   rt.tcp_socket(s);
//   if (auto ec = rt.connect(s, {Ipv4Address(198, 18, 0, 1), 80})) ...  // refused, timed out
//   rt.write(s, request, n);  // blocks while the send buffer is full
//   rt.read(s, buffer, n);    // blocks until data or EOF (n == 0)
//   rt.close(s);
//   rt.stop();                // closes what is open, lets the FINs be acknowledged
//
// The driver thread waits in epoll on the link's descriptor and an eventfd, and sleeps
// until the stack's next deadline (or the link's, for a fault injector's delayed frames).
// Every call from an application thread takes the runtime's mutex, makes its call on the
// Stack, and polls the stack at once so its output leaves without a thread switch. Blocked
// calls wait on a condition variable that is signalled after every poll: no spinning.
//
// Errors are those of the Stack (POSIX meanings), plus: resource_unavailable_try_again
// when a socket is non-blocking or its SO_RCVTIMEO / SO_SNDTIMEO passed, and
// operation_canceled once stop() has begun.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <span>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "link/link.hpp"
#include "runtime/steady_clock.hpp"
#include "stack/counters.hpp"
#include "synack/stack.hpp"

namespace synack::runtime {

struct RuntimeOptions {
  // How long stop() lets connections finish their close handshakes.
  Duration stop_grace = seconds(2);
};

// One socket of a wait(): what to wait for, and what was found (like struct pollfd).
struct PollEntry {
  SocketId socket = -1;
  bool want_read = true;
  bool want_write = false;
  Readiness ready{};  // set by wait()
  bool bad = false;   // the socket is not open (POLLNVAL)
};

class Runtime {
 public:
  // Starts the driver thread. The link must outlive the runtime.
  Runtime(link::Link& link, const StackConfig& config, RuntimeOptions options = {});
  // stop(), if it was not called.
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Clean shutdown: blocked calls return operation_canceled, every socket opened through
  // the runtime is closed (FIN after its data), and the stack runs until the peer has
  // acknowledged every connection's FIN (FIN_WAIT_2, TIME_WAIT or closed), or `grace`
  // passes. Then the thread ends. Idempotent.
  void stop();
  void stop(Duration grace);

  // --- Blocking socket calls --------------------------------------------------------------
  std::error_code tcp_socket(SocketId& out);
  std::error_code udp_socket(SocketId& out);
  std::error_code bind(SocketId s, Endpoint local);
  std::error_code listen(SocketId s, int backlog);
  // Blocks until a connection is complete.
  std::error_code accept(SocketId listener, SocketId& out, Endpoint* peer = nullptr);
  // Blocks until the handshake ends: {} when established, else connection_refused,
  // timed_out, connection_reset, host_unreachable... When SO_SNDTIMEO passes first, or the
  // socket is non-blocking, operation_in_progress, as Linux (the handshake goes on).
  std::error_code connect(SocketId s, Endpoint remote);
  // Blocks until there is data (n > 0), end of stream (n == 0, no error) or an error.
  std::error_code read(SocketId s, std::span<std::uint8_t> out, std::size_t& n);
  // Blocks while the send buffer is full, until all of `data` is taken. A timeout or an
  // error after some bytes were taken returns the short count with no error (POSIX).
  std::error_code write(SocketId s, std::span<const std::uint8_t> data, std::size_t& n);
  std::error_code shutdown(SocketId s, Shutdown how);
  // Never blocks: the close handshake goes on in the stack (as Linux, without SO_LINGER).
  std::error_code close(SocketId s);
  std::error_code send_to(SocketId s, std::span<const std::uint8_t> data, Endpoint to);
  // Blocks until a datagram arrives.
  std::error_code receive_from(SocketId s, std::span<std::uint8_t> out, std::size_t& n,
                               Endpoint* from = nullptr, bool* truncated = nullptr);
  std::error_code setsockopt(SocketId s, Option opt, int value);
  std::error_code getsockopt(SocketId s, Option opt, int& value);
  std::error_code getsockname(SocketId s, Endpoint& out);
  std::error_code getpeername(SocketId s, Endpoint& out);

  // SO_RCVTIMEO (accept, read, receive_from) and SO_SNDTIMEO (connect, write);
  // nullopt (the default) waits for ever.
  std::error_code set_receive_timeout(SocketId s, std::optional<Duration> timeout);
  std::error_code set_send_timeout(SocketId s, std::optional<Duration> timeout);
  // O_NONBLOCK: calls that would block answer resource_unavailable_try_again at once
  // (connect: operation_in_progress).
  std::error_code set_nonblocking(SocketId s, bool on);

  // --- Readiness over many sockets ----------------------------------------------------------
  // poll(2): fills each entry's `ready` and returns how many entries are ready (an error,
  // hangup or a closed socket counts as ready), waiting up to `timeout` (nullopt: for
  // ever) for the first. operation_canceled once stop() has begun.
  std::error_code wait(std::span<PollEntry> entries, std::optional<Duration> timeout,
                       std::size_t& ready);

  // Anything else of the Stack (the non-blocking API, counters, tracing), under the
  // runtime's mutex; output the call causes goes out before this returns. Sockets made in
  // here are the caller's to close.
  template <class F>
  decltype(auto) with_stack(F&& f) {
    std::unique_lock lock(mu_);
    struct Kick {
      Runtime& rt;
      ~Kick() { rt.kick(); }
    } kick{*this};
    return f(stack_);
  }

  Counters counters() const;
  const SteadyClock& clock() const { return clock_; }

 private:
  struct SocketOptions {
    std::optional<Duration> receive_timeout;
    std::optional<Duration> send_timeout;
    bool nonblocking = false;
  };
  enum class Want { read, write, connect };

  void run();
  // After an application's call, under the lock: poll, signal waiters, and wake the driver
  // when it sleeps past the new deadline.
  void kick();
  void poll_locked();
  std::optional<Instant> next_wake() const;
  void wake_driver();
  // Waits for `want` on s; {} when ready, else resource_unavailable_try_again (timeout),
  // operation_canceled or bad_file_descriptor.
  std::error_code wait_for(std::unique_lock<std::mutex>& lock, SocketId s, Want want,
                           std::optional<Duration> timeout);
  bool ready_for(SocketId s, Want want) const;
  SocketOptions options_of(SocketId s) const;
  std::size_t connections_closing() const;

  link::Link& link_;
  RuntimeOptions options_;
  SteadyClock clock_;
  mutable std::mutex mu_;
  std::condition_variable changed_;  // after every poll
  Stack stack_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  bool stopping_ = false;  // blocking calls are canceled
  bool exit_ = false;      // the driver ends
  bool stopped_ = false;
  bool sleeping_ = false;  // the driver is in epoll_wait until planned_wake_
  bool wake_sent_ = false;
  std::optional<Instant> planned_wake_;
  std::unordered_map<SocketId, SocketOptions> socket_options_;
  std::unordered_set<SocketId> open_;  // closed by stop()
  std::thread thread_;
};

}  // namespace synack::runtime
