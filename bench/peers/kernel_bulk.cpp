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
  const Pattern pattern(kChunk);

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
    std::vector<std::uint8_t> buffer(kChunk);
    std::uint64_t got = 0;
    while (got < plan.bytes) {
      if (Clock::now() > deadline) {
        receiver_error = "timed out after " + std::to_string(got) + " bytes";
        return;
      }
      const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, plan.bytes - got));
      const ssize_t n = ::recv(conn->get(), buffer.data(), want, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        receiver_error = n == 0 ? "the sender closed after " + std::to_string(got) + " bytes"
                                : std::string("recv: ") + std::strerror(errno);
        return;
      }
      if (!pattern.matches(got, buffer.data(), static_cast<std::size_t>(n))) {
        receiver_error = "wrong bytes at stream offset " + std::to_string(got);
        return;
      }
      got += static_cast<std::uint64_t>(n);
    }
    end = Clock::now();
    const ssize_t extra = ::recv(conn->get(), buffer.data(), 1, 0);
    if (extra != 0) receiver_error = "expected the sender's FIN after all the bytes";
  });

  std::thread sender([&] {
    std::optional<link::NetnsGuard> guard;
    if ((sender_error = place_thread(plan.sender_netns, plan.sender_cpu, guard))) return;
    auto conn = tcp_connect(plan.connect_address, port, options);
    if (!conn) {
      sender_error = conn.error();
      return;
    }
    start = Clock::now();
    std::uint64_t sent = 0;
    while (sent < plan.bytes) {
      if (Clock::now() > deadline) {
        sender_error = "timed out after " + std::to_string(sent) + " bytes";
        return;
      }
      const auto want =
          static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, plan.bytes - sent));
      const ssize_t n = ::send(conn->get(), pattern.at(sent), want, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        sender_error = std::string("send: ") + std::strerror(errno);
        return;
      }
      sent += static_cast<std::uint64_t>(n);
    }
    ::shutdown(conn->get(), SHUT_WR);
    // Keep the socket open until the receiver has read everything and seen the FIN.
    char byte;
    [[maybe_unused]] const ssize_t eof = ::recv(conn->get(), &byte, 1, 0);
  });

  sender.join();
  receiver.join();
  if (sender_error) return Run::fail("sender: " + *sender_error);
  if (receiver_error) return Run::fail("receiver: " + *receiver_error);
  const double seconds = std::chrono::duration<double>(end - start).count();
  if (seconds <= 0) return Run::fail("no time elapsed");
  return Run::of(static_cast<double>(plan.bytes) * 8 / seconds / 1e9);
}

}  // namespace synack::bench
