#include "bench/peers/kernel_process_pair.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "bench/pattern.hpp"
#include "bench/peers/kernel_affinity.hpp"
#include "bench/peers/kernel_tcp.hpp"
#include "bench/process_pair.hpp"

namespace synack::bench {
namespace {

constexpr std::size_t kChunk = 128 * 1024;
constexpr std::uint64_t kMaxIterations = 10'000'000;

SideResult failed(std::string why) {
  return Unexpected(std::move(why));
}

// Reads `bytes` of the Pattern and then the FIN; the time of the last byte.
SideResult receive_pattern(int listener, std::uint64_t bytes, const TcpOptions& options) {
  auto conn = tcp_accept(listener, options);
  if (!conn) return failed(conn.error());
  const Pattern pattern(kChunk);
  std::vector<std::uint8_t> buffer(kChunk);
  for (std::uint64_t got = 0; got < bytes;) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, bytes - got));
    const ssize_t n = ::recv(conn->get(), buffer.data(), want, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return failed(n == 0 ? "the sender closed after " + std::to_string(got) + " bytes"
                           : std::string("recv: ") + std::strerror(errno));
    }
    if (!pattern.matches(got, buffer.data(), static_cast<std::size_t>(n))) {
      return failed("wrong bytes at stream offset " + std::to_string(got));
    }
    got += static_cast<std::uint64_t>(n);
  }
  const double end = monotonic_ns();
  if (::recv(conn->get(), buffer.data(), 1, 0) != 0) {
    return failed("expected the sender's FIN after all the bytes");
  }
  return end;
}

// Writes `bytes` of the Pattern, then FIN; the time of the first write.
SideResult send_pattern(std::uint16_t port, std::uint64_t bytes, const TcpOptions& options) {
  auto conn = tcp_connect("127.0.0.1", port, options);
  if (!conn) return failed(conn.error());
  const Pattern pattern(kChunk);
  const double start = monotonic_ns();
  for (std::uint64_t sent = 0; sent < bytes;) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, bytes - sent));
    const ssize_t n = ::send(conn->get(), pattern.at(sent), want, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return failed(std::string("send: ") + std::strerror(errno));
    sent += static_cast<std::uint64_t>(n);
  }
  ::shutdown(conn->get(), SHUT_WR);
  char byte;  // open until the receiver has seen the FIN and closed
  [[maybe_unused]] const ssize_t eof = ::recv(conn->get(), &byte, 1, 0);
  return start;
}

// Answers each byte with the next value, `total` times.
SideResult answer(int listener, std::uint64_t total, const TcpOptions& options) {
  auto conn = tcp_accept(listener, options);
  if (!conn) return failed(conn.error());
  for (std::uint64_t i = 0; i < total; ++i) {
    std::uint8_t byte;
    if (auto e = recv_exact(conn->get(), &byte, 1)) return failed(*e);
    if (byte != static_cast<std::uint8_t>(i)) {
      return failed("request " + std::to_string(i) + " brought the wrong byte");
    }
    const auto next = static_cast<std::uint8_t>(byte + 1);
    if (auto e = send_all(conn->get(), &next, 1)) return failed(*e);
  }
  return 0.0;
}

// `warm_up` untimed round trips, then `iterations` timed: microseconds per round trip.
SideResult ask(std::uint16_t port, std::uint64_t warm_up, std::uint64_t iterations,
               const TcpOptions& options) {
  auto conn = tcp_connect("127.0.0.1", port, options);
  if (!conn) return failed(conn.error());
  double start = monotonic_ns();
  for (std::uint64_t i = 0; i < warm_up + iterations; ++i) {
    if (i == warm_up) start = monotonic_ns();
    const auto request = static_cast<std::uint8_t>(i);
    if (auto e = send_all(conn->get(), &request, 1)) return failed(*e);
    std::uint8_t reply;
    if (auto e = recv_exact(conn->get(), &reply, 1)) return failed(*e);
    if (reply != static_cast<std::uint8_t>(request + 1)) {
      return failed("round trip " + std::to_string(i) + " got the wrong answer");
    }
  }
  return (monotonic_ns() - start) / 1e3 / static_cast<double>(iterations);
}

}  // namespace

Run kernel_process_bulk(std::uint64_t bytes) {
  if (bytes == 0) return Run::fail("a bulk run needs at least one byte");
  if (auto why = cubic_missing()) return Run::skip(*why);
  const auto cores = cores_for(false);
  if (!cores) return Run::skip("this process may run on fewer than two CPUs");
  const TcpOptions options{.cubic = true, .nodelay = false, .timeout_ms = 5000};
  auto listener = tcp_listen("127.0.0.1", 0, options, 1);
  if (!listener) return Run::fail(listener.error());
  const std::uint16_t port = local_port(listener->get());
  const int fd = listener->get();
  auto r = run_process_pair({
      .first = [&] { return receive_pattern(fd, bytes, options); },
      .second = [&] { return send_pattern(port, bytes, options); },
      .first_cpu = cores->first,
      .second_cpu = cores->second,
  });
  if (!r) return Run::fail(r.error());
  const double seconds = (r->first - r->second) / 1e9;
  if (seconds <= 0) return Run::fail("no time elapsed");
  return Run::of(static_cast<double>(bytes) * 8 / seconds / 1e9);
}

Run kernel_process_round_trip(std::uint64_t iterations) {
  if (iterations == 0 || iterations > kMaxIterations) {
    return Run::fail("iterations must be 1 to " + std::to_string(kMaxIterations));
  }
  const auto cores = cores_for(false);
  if (!cores) return Run::skip("this process may run on fewer than two CPUs");
  const TcpOptions options{.cubic = false, .nodelay = true, .timeout_ms = 5000};
  auto listener = tcp_listen("127.0.0.1", 0, options, 1);
  if (!listener) return Run::fail(listener.error());
  const std::uint16_t port = local_port(listener->get());
  const int fd = listener->get();
  // A few round trips first, untimed, so the connection is past its first-packet costs.
  const std::uint64_t warm_up = std::min<std::uint64_t>(iterations / 10, 1000);
  auto r = run_process_pair({
      .first = [&] { return answer(fd, warm_up + iterations, options); },
      .second = [&] { return ask(port, warm_up, iterations, options); },
      .first_cpu = cores->first,
      .second_cpu = cores->second,
  });
  if (!r) return Run::fail(r.error());
  return Run::of(r->second);
}

}  // namespace synack::bench
