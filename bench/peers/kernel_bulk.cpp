#include "bench/peers/kernel_bulk.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include "bench/pattern.hpp"
#include "bench/peers/kernel_affinity.hpp"
#include "bench/peers/kernel_tcp.hpp"
#include "link/tun/netns.hpp"

namespace synack::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kChunk = 128 * 1024;

// Enters `netns` (when named) and pins to `cpu` (when given), for the calling thread.
std::optional<std::string> place_thread(const std::string& netns, std::optional<int> cpu,
                                        std::optional<link::NetnsGuard>& guard) {
  if (!netns.empty()) {
    auto entered = link::NetnsGuard::enter(netns);
    if (!entered) return entered.error();
    guard.emplace(std::move(*entered));
  }
  if (cpu) return pin_this_thread(*cpu);
  return std::nullopt;
}

}  // namespace

Run tcp_bulk(const BulkPlan& plan) {
  if (plan.bytes == 0) return Run::fail("a bulk run needs at least one byte");
  const TcpOptions options{.cubic = plan.cubic, .nodelay = false, .timeout_ms = 5000};
  const auto deadline = Clock::now() + plan.limit;

  Fd listener;
  {
    std::optional<link::NetnsGuard> guard;
    if (auto e = place_thread(plan.receiver_netns, std::nullopt, guard)) return Run::fail(*e);
    auto l = tcp_listen(plan.listen_address, 0, options, 1);
    if (!l) return Run::fail(l.error());
    listener = std::move(*l);
  }
  const std::uint16_t port = local_port(listener.get());

  Clock::time_point start{}, end{};
  std::optional<std::string> sender_error, receiver_error;

  std::thread receiver([&] {
    std::optional<link::NetnsGuard> guard;
    if ((receiver_error = place_thread(plan.receiver_netns, plan.receiver_cpu, guard))) return;
    auto conn = tcp_accept(listener.get(), options);
    if (!conn) {
      receiver_error = conn.error();
      return;
    }
    receiver_error = receive_pattern(conn->get(), plan.bytes, deadline, end);
  });

  std::thread sender([&] {
    std::optional<link::NetnsGuard> guard;
    if ((sender_error = place_thread(plan.sender_netns, plan.sender_cpu, guard))) return;
    auto conn = tcp_connect(plan.connect_address, port, options);
    if (!conn) {
      sender_error = conn.error();
      return;
    }
    sender_error = send_pattern(conn->get(), plan.bytes, deadline, start);
  });

  sender.join();
  receiver.join();
  if (sender_error) return Run::fail("sender: " + *sender_error);
  if (receiver_error) return Run::fail("receiver: " + *receiver_error);
  const double seconds = std::chrono::duration<double>(end - start).count();
  if (seconds <= 0) return Run::fail("no time elapsed");
  return Run::of(static_cast<double>(plan.bytes) * 8 / seconds / 1e9);
}

std::optional<std::string> receive_pattern(int fd, std::uint64_t bytes, Deadline deadline,
                                           Deadline& last_byte) {
  const Pattern pattern(kChunk);
  std::vector<std::uint8_t> buffer(kChunk);
  std::uint64_t got = 0;
  while (got < bytes) {
    if (Clock::now() > deadline) return "timed out after " + std::to_string(got) + " bytes";
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, bytes - got));
    const ssize_t n = ::recv(fd, buffer.data(), want, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return n == 0 ? "the sender closed after " + std::to_string(got) + " bytes"
                    : std::string("recv: ") + std::strerror(errno);
    }
    if (!pattern.matches(got, buffer.data(), static_cast<std::size_t>(n))) {
      return "wrong bytes at stream offset " + std::to_string(got);
    }
    got += static_cast<std::uint64_t>(n);
  }
  last_byte = Clock::now();
  if (::recv(fd, buffer.data(), 1, 0) != 0) return "expected the sender's FIN after all the bytes";
  return std::nullopt;
}

std::optional<std::string> send_pattern(int fd, std::uint64_t bytes, Deadline deadline,
                                        Deadline& first_write) {
  const Pattern pattern(kChunk);
  first_write = Clock::now();
  std::uint64_t sent = 0;
  while (sent < bytes) {
    if (Clock::now() > deadline) return "timed out after " + std::to_string(sent) + " bytes";
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, bytes - sent));
    const ssize_t n = ::send(fd, pattern.at(sent), want, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::string("send: ") + std::strerror(errno);
    sent += static_cast<std::uint64_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  // Open until the receiver has read everything and seen the FIN.
  char byte;
  [[maybe_unused]] const ssize_t eof = ::recv(fd, &byte, 1, 0);
  return std::nullopt;
}

}  // namespace synack::bench
