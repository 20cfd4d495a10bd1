// Short request/response exchanges between two in-process stacks: a new connection for
// each (inproc_connections) or 1-byte ping-pong on one (inproc_round_trip).
#include <array>
#include <chrono>
#include <string>

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
  StackPair pair({.buffer = 64 * 1024});
  // The server closes first (as an HTTP/1.0 server does), so TIME_WAIT is the server's and
  // the next SYN on the same 4-tuple reopens it (RFC 6191) instead of ports running out.
  const SocketId listener = pair.listen(StackPair::kServerPort, 128);
  if (listener < 0) return Run::fail("listen failed");
  std::array<std::uint8_t, 64> request{}, response{}, echo{};
  for (std::size_t i = 0; i < request.size(); ++i) request[i] = pattern_byte(i);
  const auto start = Steady::now();
  for (std::uint64_t i = 0; i < count; ++i) {
    Stack& client = pair.client();
    Stack& server = pair.server();
    SocketId c = -1, s = -1;
    std::size_t n = 0;
    if (client.tcp_socket(c) ||
        client.connect(c, pair.server_endpoint()) != std::errc::operation_in_progress) {
      return Run::fail("connect failed at connection " + std::to_string(i));
    }
    pair.step();  // SYN, SYN+ACK
    pair.step();  // ACK: established both ends
    if (server.accept(listener, s)) return Run::fail("accept failed at " + std::to_string(i));
    if (client.write(c, request, n) || n != request.size()) return Run::fail("write failed");
    if (!read_exactly(pair, server, s, echo)) return Run::fail("request lost");
    if (server.write(s, echo, n) || n != echo.size() || server.close(s)) {
      return Run::fail("echo failed");
    }
    if (!read_exactly(pair, client, c, response) || response != request) {
      return Run::fail("response differs from the request");
    }
    if (client.close(c)) return Run::fail("close failed");
    if (!pair.settle()) return Run::fail("close did not finish");
  }
  const double secs = seconds_since(start);
  if (pair.client().connection_count() != 0) return Run::fail("client connections left over");
  return Run::of(static_cast<double>(count) / secs);
}

Run inproc_round_trip(std::uint64_t iterations) {
  StackPair pair({.buffer = 64 * 1024, .nodelay = true});
  const SocketId listener = pair.listen(StackPair::kServerPort, 4);
  const auto conns = pair.open(listener, StackPair::kServerPort, 1);
  if (conns.size() != 1) return Run::fail("could not open the connection");
  const auto [c, s] = conns[0];
  std::array<std::uint8_t, 1> ping{}, pong{};
  const auto start = Steady::now();
  for (std::uint64_t i = 0; i < iterations; ++i) {
    ping[0] = pattern_byte(i);
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
