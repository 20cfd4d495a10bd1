#include "bench/peers/kernel_process_pair.hpp"

#include <algorithm>
#include <chrono>

#include "bench/peers/kernel_affinity.hpp"
#include "bench/peers/kernel_bulk.hpp"
#include "bench/peers/kernel_round_trip.hpp"
#include "bench/peers/kernel_tcp.hpp"
#include "bench/process_pair.hpp"

namespace synack::bench {
namespace {

// A side still at it after this long fails (the pair's own limit kills it later).
constexpr auto kLimit = std::chrono::seconds(60);
constexpr std::uint64_t kMaxIterations = 10'000'000;

SideResult failed(std::string why) {
  return Unexpected(std::move(why));
}

// A time point as the figure a side reports: nanoseconds of the monotonic clock, which both
// processes share.
double ns(Deadline t) {
  return std::chrono::duration<double, std::nano>(t.time_since_epoch()).count();
}

Deadline deadline() {
  return std::chrono::steady_clock::now() + kLimit;
}

// The receiving process: the time of the last byte.
SideResult receiver(int listener, std::uint64_t bytes, const TcpOptions& options) {
  auto conn = tcp_accept(listener, options);
  if (!conn) return failed(conn.error());
  Deadline last_byte{};
  if (auto e = receive_pattern(conn->get(), bytes, deadline(), last_byte)) return failed(*e);
  return ns(last_byte);
}

// The sending process: the time of the first write.
SideResult sender(std::uint16_t port, std::uint64_t bytes, const TcpOptions& options) {
  auto conn = tcp_connect("127.0.0.1", port, options);
  if (!conn) return failed(conn.error());
  Deadline first_write{};
  if (auto e = send_pattern(conn->get(), bytes, deadline(), first_write)) return failed(*e);
  return ns(first_write);
}

SideResult answerer(int listener, std::uint64_t total, const TcpOptions& options) {
  auto conn = tcp_accept(listener, options);
  if (!conn) return failed(conn.error());
  if (auto e = answer_round_trips(conn->get(), total)) return failed(*e);
  return 0.0;
}

// Microseconds per round trip.
SideResult asker(std::uint16_t port, std::uint64_t warm_up, std::uint64_t iterations,
                 const TcpOptions& options) {
  auto conn = tcp_connect("127.0.0.1", port, options);
  if (!conn) return failed(conn.error());
  double us = 0;
  if (auto e = ask_round_trips(conn->get(), warm_up, iterations, deadline(), us)) {
    return failed(*e);
  }
  return us;
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
      .first = [&] { return receiver(fd, bytes, options); },
      .second = [&] { return sender(port, bytes, options); },
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
      .first = [&] { return answerer(fd, warm_up + iterations, options); },
      .second = [&] { return asker(port, warm_up, iterations, options); },
      .first_cpu = cores->first,
      .second_cpu = cores->second,
  });
  if (!r) return Run::fail(r.error());
  return Run::of(r->second);
}

}  // namespace synack::bench
