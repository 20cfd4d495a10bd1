#include "runtime/runtime.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <string>

#include "tcp/state.hpp"

namespace synack::runtime {
namespace {

std::error_code err(std::errc e) {
  return std::make_error_code(e);
}

[[noreturn]] void fail(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

}  // namespace

Runtime::Runtime(link::Link& link, const StackConfig& config, RuntimeOptions options)
    : link_(link), options_(options), stack_(link, clock_, config) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) fail("epoll_create1");
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) fail("eventfd");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_fd_;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) < 0) fail("epoll_ctl eventfd");
  if (const int fd = link_.poll_fd(); fd >= 0) {
    ev.data.fd = fd;  // level-triggered: a receive() that stopped at its budget is resumed
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) < 0) fail("epoll_ctl link");
  }
  thread_ = std::thread([this] { run(); });
}

Runtime::~Runtime() {
  stop();
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

// --- The driver ------------------------------------------------------------------------------

void Runtime::poll_locked() {
  stack_.poll(clock_.now());
  changed_.notify_all();
}

std::optional<Instant> Runtime::next_wake() const {
  auto a = stack_.next_deadline();
  const auto b = link_.next_arrival();
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

void Runtime::wake_driver() {
  const std::uint64_t one = 1;
  // A full counter (never in practice) still leaves the eventfd readable: nothing is lost.
  [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

void Runtime::run() {
  std::unique_lock lock(mu_);
  epoll_event events[4];
  while (!exit_) {
    poll_locked();
    const auto wake = next_wake();
    timespec timeout{};
    timespec* timeout_ptr = nullptr;  // no deadline: sleep until a frame or a call
    if (wake) {
      const Duration left = std::max(Duration{}, *wake - clock_.now());
      timeout.tv_sec = static_cast<time_t>(left.count() / 1'000'000'000);
      timeout.tv_nsec = static_cast<long>(left.count() % 1'000'000'000);
      timeout_ptr = &timeout;
    }
    sleeping_ = true;
    wake_sent_ = false;
    planned_wake_ = wake;
    lock.unlock();
    const int n = ::epoll_pwait2(epoll_fd_, events, 4, timeout_ptr, nullptr);
    for (int i = 0; i < n; ++i) {
      if (events[i].data.fd == wake_fd_) {
        std::uint64_t count;
        [[maybe_unused]] const ssize_t r = ::read(wake_fd_, &count, sizeof count);
      }
    }
    lock.lock();
    sleeping_ = false;
  }
}

void Runtime::kick() {
  poll_locked();
  if (!sleeping_ || wake_sent_) return;
  const auto wake = next_wake();
  if (wake && (!planned_wake_ || *wake < *planned_wake_)) {
    wake_sent_ = true;
    wake_driver();
  }
}

std::size_t Runtime::connections_closing() const {
  const auto& in_state = stack_.counters().tcp.in_state;
  std::size_t busy = 0;
  for (std::size_t s = 0; s < in_state.size(); ++s) {
    const auto state = static_cast<tcp::State>(s);
    // In FIN_WAIT_2 and TIME_WAIT our FIN is acknowledged: everything we sent arrived.
    const bool done = state == tcp::State::FinWait2 || state == tcp::State::TimeWait ||
                      state == tcp::State::Closed;
    if (!done) busy += in_state[s];
  }
  return busy;
}

void Runtime::stop() {
  stop(options_.stop_grace);
}

void Runtime::stop(Duration grace) {
  std::unique_lock lock(mu_);
  if (stopping_) {  // another thread is stopping it: wait for the end
    changed_.wait(lock, [&] { return stopped_; });
    return;
  }
  stopping_ = true;
  for (const SocketId s : open_) stack_.close(s);
  open_.clear();
  socket_options_.clear();
  kick();
  changed_.notify_all();
  const auto until = clock_.to_steady(clock_.now() + grace);
  changed_.wait_until(lock, until, [&] { return connections_closing() == 0; });
  exit_ = true;
  wake_driver();
  lock.unlock();
  if (thread_.joinable()) thread_.join();
  lock.lock();
  stopped_ = true;
  changed_.notify_all();
}

Counters Runtime::counters() const {
  std::lock_guard lock(mu_);
  return stack_.counters();
}

// --- Waiting ---------------------------------------------------------------------------------

Runtime::SocketOptions Runtime::options_of(SocketId s) const {
  const auto it = socket_options_.find(s);
  return it == socket_options_.end() ? SocketOptions{} : it->second;
}

bool Runtime::ready_for(SocketId s, Want want) const {
  const Readiness r = stack_.readiness(s);
  if (r.error || r.hangup) return true;
  return want == Want::read ? r.readable : r.writable;
}

std::error_code Runtime::wait_for(std::unique_lock<std::mutex>& lock, SocketId s, Want want,
                                  std::optional<Duration> timeout) {
  std::optional<SteadyClock::Steady::time_point> until;
  if (timeout) until = clock_.to_steady(clock_.now() + *timeout);
  for (;;) {
    if (stopping_) return err(std::errc::operation_canceled);
    Endpoint ignored;
    if (stack_.getsockname(s, ignored)) return err(std::errc::bad_file_descriptor);
    if (ready_for(s, want)) return {};
    if (!until) {
      changed_.wait(lock);
    } else if (changed_.wait_until(lock, *until) == std::cv_status::timeout) {
      if (stopping_) return err(std::errc::operation_canceled);
      return ready_for(s, want) ? std::error_code{}
                                : err(std::errc::resource_unavailable_try_again);
    }
  }
}

std::error_code Runtime::wait(std::span<PollEntry> entries, std::optional<Duration> timeout,
                              std::size_t& ready) {
  std::unique_lock lock(mu_);
  std::optional<SteadyClock::Steady::time_point> until;
  if (timeout) until = clock_.to_steady(clock_.now() + *timeout);
  auto scan = [&] {
    ready = 0;
    for (PollEntry& e : entries) {
      Endpoint ignored;
      e.bad = static_cast<bool>(stack_.getsockname(e.socket, ignored));
      e.ready = e.bad ? Readiness{} : stack_.readiness(e.socket);
      if (!e.want_read) e.ready.readable = false;
      if (!e.want_write) e.ready.writable = false;
      if (e.bad || e.ready.readable || e.ready.writable || e.ready.error || e.ready.hangup) ++ready;
    }
    return ready;
  };
  for (;;) {
    if (stopping_) return err(std::errc::operation_canceled);
    if (scan() > 0) return {};
    if (!until) {
      changed_.wait(lock);
    } else if (changed_.wait_until(lock, *until) == std::cv_status::timeout) {
      if (stopping_) return err(std::errc::operation_canceled);
      scan();  // poll(2) reports what is ready at the timeout, or zero
      return {};
    }
  }
}

// --- Socket calls ----------------------------------------------------------------------------

std::error_code Runtime::tcp_socket(SocketId& out) {
  std::unique_lock lock(mu_);
  if (stopping_) return err(std::errc::operation_canceled);
  auto ec = stack_.tcp_socket(out);
  if (!ec) open_.insert(out);
  return ec;
}

std::error_code Runtime::udp_socket(SocketId& out) {
  std::unique_lock lock(mu_);
  if (stopping_) return err(std::errc::operation_canceled);
  auto ec = stack_.udp_socket(out);
  if (!ec) open_.insert(out);
  return ec;
}

std::error_code Runtime::bind(SocketId s, Endpoint local) {
  std::unique_lock lock(mu_);
  return stack_.bind(s, local);
}

std::error_code Runtime::listen(SocketId s, int backlog) {
  std::unique_lock lock(mu_);
  return stack_.listen(s, backlog);
}

std::error_code Runtime::accept(SocketId listener, SocketId& out, Endpoint* peer) {
  std::unique_lock lock(mu_);
  const SocketOptions opt = options_of(listener);
  for (;;) {
    if (stopping_) return err(std::errc::operation_canceled);
    auto ec = stack_.accept(listener, out, peer);
    if (ec != std::errc::resource_unavailable_try_again) {
      if (!ec) open_.insert(out);
      kick();
      return ec;
    }
    if (opt.nonblocking) return ec;
    if (auto w = wait_for(lock, listener, Want::read, opt.receive_timeout)) return w;
  }
}

std::error_code Runtime::connect(SocketId s, Endpoint remote) {
  std::unique_lock lock(mu_);
  if (stopping_) return err(std::errc::operation_canceled);
  auto ec = stack_.connect(s, remote);
  kick();
  if (ec != std::errc::operation_in_progress) return ec;
  const SocketOptions opt = options_of(s);
  if (opt.nonblocking) return ec;
  if (auto w = wait_for(lock, s, Want::write, opt.send_timeout)) {
    return w == std::errc::resource_unavailable_try_again ? ec : w;
  }
  if (auto e = stack_.socket_error(s)) return e;
  return {};
}

std::error_code Runtime::read(SocketId s, std::span<std::uint8_t> out, std::size_t& n) {
  std::unique_lock lock(mu_);
  const SocketOptions opt = options_of(s);
  for (;;) {
    if (stopping_) return err(std::errc::operation_canceled);
    auto ec = stack_.read(s, out, n);
    if (ec != std::errc::resource_unavailable_try_again) {
      if (n > 0) kick();  // the window opened: an update may be due
      return ec;
    }
    if (opt.nonblocking) return ec;
    if (auto w = wait_for(lock, s, Want::read, opt.receive_timeout)) return w;
  }
}

std::error_code Runtime::write(SocketId s, std::span<const std::uint8_t> data, std::size_t& n) {
  std::unique_lock lock(mu_);
  const SocketOptions opt = options_of(s);
  n = 0;
  for (;;) {
    if (stopping_) return n > 0 ? std::error_code{} : err(std::errc::operation_canceled);
    // Part written and an error waiting (a reset, a timeout): as on Linux, the count now and
    // the error at the next call, not taken here by a write that could only report it.
    if (n > 0 && stack_.readiness(s).error) return {};
    std::size_t taken = 0;
    auto ec = stack_.write(s, data.subspan(n), taken);
    n += taken;
    if (taken > 0) kick();
    if (ec && ec != std::errc::resource_unavailable_try_again) {
      return n > 0 ? std::error_code{} : ec;
    }
    if (n == data.size()) return {};
    if (opt.nonblocking)
      return n > 0 ? std::error_code{} : err(std::errc::resource_unavailable_try_again);
    if (auto w = wait_for(lock, s, Want::write, opt.send_timeout)) {
      return n > 0 ? std::error_code{} : w;
    }
  }
}

std::error_code Runtime::shutdown(SocketId s, Shutdown how) {
  std::unique_lock lock(mu_);
  auto ec = stack_.shutdown(s, how);
  kick();
  return ec;
}

std::error_code Runtime::close(SocketId s) {
  std::unique_lock lock(mu_);
  if (stopping_) return {};  // stop() closed it
  auto ec = stack_.close(s);
  open_.erase(s);
  socket_options_.erase(s);
  kick();
  return ec;
}

std::error_code Runtime::send_to(SocketId s, std::span<const std::uint8_t> data, Endpoint to) {
  std::unique_lock lock(mu_);
  auto ec = stack_.send_to(s, data, to);
  kick();
  return ec;
}

std::error_code Runtime::receive_from(SocketId s, std::span<std::uint8_t> out, std::size_t& n,
                                      Endpoint* from, bool* truncated) {
  std::unique_lock lock(mu_);
  const SocketOptions opt = options_of(s);
  for (;;) {
    if (stopping_) return err(std::errc::operation_canceled);
    auto ec = stack_.receive_from(s, out, n, from, truncated);
    if (ec != std::errc::resource_unavailable_try_again || opt.nonblocking) return ec;
    if (auto w = wait_for(lock, s, Want::read, opt.receive_timeout)) return w;
  }
}

std::error_code Runtime::setsockopt(SocketId s, Option opt, int value) {
  std::unique_lock lock(mu_);
  auto ec = stack_.setsockopt(s, opt, value);
  kick();
  return ec;
}

std::error_code Runtime::getsockopt(SocketId s, Option opt, int& value) {
  std::unique_lock lock(mu_);
  return stack_.getsockopt(s, opt, value);
}

std::error_code Runtime::getsockname(SocketId s, Endpoint& out) {
  std::unique_lock lock(mu_);
  return stack_.getsockname(s, out);
}

std::error_code Runtime::getpeername(SocketId s, Endpoint& out) {
  std::unique_lock lock(mu_);
  return stack_.getpeername(s, out);
}

std::error_code Runtime::set_receive_timeout(SocketId s, std::optional<Duration> timeout) {
  std::unique_lock lock(mu_);
  Endpoint ignored;
  if (auto ec = stack_.getsockname(s, ignored)) return ec;
  socket_options_[s].receive_timeout = timeout;
  return {};
}

std::error_code Runtime::set_send_timeout(SocketId s, std::optional<Duration> timeout) {
  std::unique_lock lock(mu_);
  Endpoint ignored;
  if (auto ec = stack_.getsockname(s, ignored)) return ec;
  socket_options_[s].send_timeout = timeout;
  return {};
}

std::error_code Runtime::set_nonblocking(SocketId s, bool on) {
  std::unique_lock lock(mu_);
  Endpoint ignored;
  if (auto ec = stack_.getsockname(s, ignored)) return ec;
  socket_options_[s].nonblocking = on;
  return {};
}

}  // namespace synack::runtime
