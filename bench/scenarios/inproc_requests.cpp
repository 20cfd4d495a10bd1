// Short request/response exchanges between two in-process stacks: a new connection for
// each (inproc_connections) or 1-byte ping-pong on one (inproc_round_trip).
#include <array>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "bench/pattern.hpp"
#include "bench/scenarios/inproc.hpp"
#include "bench/scenarios/stack_pair.hpp"

namespace synack::bench {

namespace {

using Steady = std::chrono::steady_clock;

double seconds_since(Steady::time_point start) {
  return std::chrono::duration<double>(Steady::now() - start).count();
}

// Reads exactly out.size() bytes from `s`, stepping the pair while none are there.
bool read_exactly(StackPair& pair, Stack& stack, SocketId s, std::span<std::uint8_t> out) {
  std::size_t got = 0;
  for (int i = 0; i < 1000 && got < out.size(); ++i) {
    std::size_t n = 0;
    if (!stack.read(s, out.subspan(got), n) && n > 0) {
      got += n;
      continue;
    }
    pair.step();
  }
  return got == out.size();
}

}  // namespace

Run inproc_connections(std::uint64_t count) {
  // The kernel peer's loop (bench/peers/kernel_connections.cpp), step for step: the client
  // closes first and keeps TIME_WAIT, so the connections go round a listening port per
  // 8,000 of them and the client never runs short of ephemeral ports.
  constexpr std::uint64_t kPerListener = 8000;
  const std::uint64_t listeners = (count + kPerListener - 1) / kPerListener;
  StackPair pair({.buffer = 64 * 1024, .max_sockets = 2 * count + listeners + 16});
  std::vector<SocketId> listening;
  for (std::uint64_t l = 0; l < listeners; ++l) {
    listening.push_back(pair.listen(static_cast<std::uint16_t>(StackPair::kServerPort + l), 128));
    if (listening.back() < 0) return Run::fail("listen failed");
  }
  std::array<std::uint8_t, 64> request{}, response{}, echo{};
  const Pattern pattern(request.size());
  std::array<std::uint8_t, 1> after_fin{};
  const auto start = Steady::now();
  for (std::uint64_t i = 0; i < count; ++i) {
    Stack& client = pair.client();
    Stack& server = pair.server();
    std::memcpy(request.data(), pattern.at(i), request.size());  // each connection its own
    const std::size_t which = i % listeners;
    SocketId c = -1, s = -1;
    std::size_t n = 0;
    if (client.tcp_socket(c) || client.connect(c, pair.server_endpoint(static_cast<std::uint16_t>(
                                                      StackPair::kServerPort + which))) !=
                                    std::errc::operation_in_progress) {
      return Run::fail("connect failed at connection " + std::to_string(i));
    }
    pair.step();  // SYN, SYN+ACK
    pair.step();  // ACK: established both ends
    if (server.accept(listening[which], s)) {
      return Run::fail("accept failed at " + std::to_string(i));
    }
    if (client.write(c, request, n) || n != request.size()) return Run::fail("write failed");
    if (!read_exactly(pair, server, s, echo)) return Run::fail("request lost");
    if (server.write(s, echo, n) || n != echo.size()) return Run::fail("echo failed");
    if (!read_exactly(pair, client, c, response) || response != request) {
      return Run::fail("response differs from the request");
    }
    if (client.close(c)) return Run::fail("close failed");
    pair.step();  // FIN
    if (server.read(s, after_fin, n) || n != 0) return Run::fail("expected the client's FIN");
    if (server.close(s) || !pair.settle()) return Run::fail("close did not finish");
  }
  const double secs = seconds_since(start);
  if (pair.server().connection_count() != 0) return Run::fail("server connections left over");
  return Run::of(static_cast<double>(count) / secs);
}

Run inproc_round_trip(std::uint64_t iterations) {
  StackPair pair({.buffer = 64 * 1024, .nodelay = true});
  const SocketId listener = pair.listen(StackPair::kServerPort, 4);
  const auto conns = pair.open(listener, StackPair::kServerPort, 1);
  if (conns.size() != 1) return Run::fail("could not open the connection");
  const auto [c, s] = conns[0];
  std::array<std::uint8_t, 1> ping{}, pong{};
  const Pattern pattern(ping.size());
  const auto start = Steady::now();
  for (std::uint64_t i = 0; i < iterations; ++i) {
    ping[0] = *pattern.at(i);
    std::size_t n = 0;
    if (pair.client().write(c, ping, n) || n != 1) return Run::fail("write failed");
    if (!read_exactly(pair, pair.server(), s, pong) || pong != ping) {
      return Run::fail("request lost");
    }
    if (pair.server().write(s, pong, n) || n != 1) return Run::fail("write failed");
    if (!read_exactly(pair, pair.client(), c, pong) || pong != ping) {
      return Run::fail("response lost");
    }
  }
  return Run::of(seconds_since(start) * 1e6 / static_cast<double>(iterations));
}

}  // namespace synack::bench
