#include "bench/peers/kernel_round_trip.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "bench/peers/kernel_affinity.hpp"
#include "bench/peers/kernel_tcp.hpp"

namespace synack::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::uint64_t kMaxIterations = 10'000'000;
constexpr auto kLimit = std::chrono::seconds(60);

}  // namespace

Run kernel_round_trip(std::uint64_t iterations) {
  if (iterations == 0 || iterations > kMaxIterations) {
    return Run::fail("iterations must be 1 to " + std::to_string(kMaxIterations));
  }
  const auto cores = cores_for(true);
  if (!cores) return Run::skip("no CPU in this process's affinity mask");
  const TcpOptions options{.cubic = false, .nodelay = true, .timeout_ms = 5000};
  auto listener = tcp_listen("127.0.0.1", 0, options, 1);
  if (!listener) return Run::fail(listener.error());
  const std::uint16_t port = local_port(listener->get());
  // A few round trips first, untimed, so the connection is past its first-packet costs.
  const std::uint64_t warm_up = std::min<std::uint64_t>(iterations / 10, 1000);
  const auto deadline = Clock::now() + kLimit;

  double us = 0;
  std::optional<std::string> client_error, server_error;

  std::thread server([&] {
    if ((server_error = pin_this_thread(cores->first))) return;
    auto conn = tcp_accept(listener->get(), options);
    if (!conn) {
      server_error = conn.error();
      return;
    }
    server_error = answer_round_trips(conn->get(), warm_up + iterations);
  });

  std::thread client([&] {
    if ((client_error = pin_this_thread(cores->second))) return;
    auto conn = tcp_connect("127.0.0.1", port, options);
    if (!conn) {
      client_error = conn.error();
      return;
    }
    client_error = ask_round_trips(conn->get(), warm_up, iterations, deadline, us);
  });

  client.join();
  server.join();
  if (client_error) return Run::fail("client: " + *client_error);
  if (server_error) return Run::fail("server: " + *server_error);
  return Run::of(us);
}

std::optional<std::string> answer_round_trips(int fd, std::uint64_t total) {
  for (std::uint64_t i = 0; i < total; ++i) {
    std::uint8_t byte;
    if (auto e = recv_exact(fd, &byte, 1)) return e;
    if (byte != static_cast<std::uint8_t>(i)) {
      return "request " + std::to_string(i) + " brought the wrong byte";
    }
    const auto answer = static_cast<std::uint8_t>(byte + 1);
    if (auto e = send_all(fd, &answer, 1)) return e;
  }
  return std::nullopt;
}

std::optional<std::string> ask_round_trips(int fd, std::uint64_t warm_up, std::uint64_t iterations,
                                           Deadline deadline, double& us) {
  Clock::time_point start = Clock::now();
  for (std::uint64_t i = 0; i < warm_up + iterations; ++i) {
    if (i == warm_up) start = Clock::now();
    if ((i & 1023) == 0 && Clock::now() > deadline) {
      return "timed out after " + std::to_string(i) + " round trips";
    }
    const auto request = static_cast<std::uint8_t>(i);
    if (auto e = send_all(fd, &request, 1)) return e;
    std::uint8_t answer;
    if (auto e = recv_exact(fd, &answer, 1)) return e;
    if (answer != static_cast<std::uint8_t>(request + 1)) {
      return "round trip " + std::to_string(i) + " got the wrong answer";
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  us = seconds * 1e6 / static_cast<double>(iterations);
  return std::nullopt;
}

}  // namespace synack::bench
