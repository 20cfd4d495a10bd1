#include "bench/scenarios/memory.hpp"

#include <malloc.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "link/memory_link.hpp"
#include "stack/counters.hpp"
#include "synack/stack.hpp"
#include "synack/time.hpp"
#include "tcp/state.hpp"

namespace synack::bench {
namespace {

// What the heap holds now: small blocks in use plus mmapped ones.
std::size_t heap_in_use() {
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

constexpr Ipv4Address kClient(198, 18, 0, 1);
constexpr Ipv4Address kServer(198, 18, 0, 2);
constexpr std::uint16_t kFirstServerPort = 1000;
// One client address reaches one server port from at most the ephemeral range's ports:
// a million connections spread over several listening ports.
constexpr std::size_t kPerServerPort = 60'000;
// Connections opened between two pumps: their handshakes fit in the link's 1024 frame slots.
constexpr std::size_t kBatch = 256;

StackConfig config_for(Ipv4Address address, std::size_t n) {
  StackConfig c;
  c.address = address;
  c.ephemeral_low = 1024;
  c.ephemeral_high = 65535;
  c.max_sockets = n + 64;
  return c;
}

// Two stacks joined by a MemoryLink, driven on one virtual clock.
class Pair {
 public:
  explicit Pair(std::size_t n) : links_(link::MemoryLink::pair(1500, 1024)) {
    heap_before_client_ = heap_in_use();
    client_.emplace(*links_.first, clock_, config_for(kClient, n));
    heap_before_server_ = heap_in_use();
    server_.emplace(*links_.second, clock_, config_for(kServer, n));
    const std::size_t ports = (n + kPerServerPort - 1) / kPerServerPort;
    for (std::size_t p = 0; p < ports; ++p) {
      SocketId l = -1;
      if (server_->tcp_socket(l) ||
          server_->bind(l, {Ipv4Address(), static_cast<std::uint16_t>(kFirstServerPort + p)}) ||
          server_->listen(l, 4096)) {
        error_ = "listen";
        return;
      }
      listeners_.push_back(l);
    }
  }

  Stack& client() { return *client_; }
  Stack& server() { return *server_; }
  const std::string& error() const { return error_; }
  std::size_t heap_before_server() const { return heap_before_server_; }
  std::size_t listeners() const { return listeners_.size(); }

  // Delivers every frame in flight, moving time by a microsecond a round; false if the
  // stacks are still talking after the bound.
  bool pump() {
    for (int round = 0; round < 100'000; ++round) {
      now_ += microseconds(1);
      clock_.set(now_);
      client_->poll(now_);
      server_->poll(now_);
      if (!links_.first->has_pending() && !links_.second->has_pending()) return true;
    }
    error_ = "the stacks did not fall quiet";
    return false;
  }
  // Lets `d` of virtual time pass (delayed ACKs fire), then pumps.
  bool wait(Duration d) {
    now_ += d;
    return pump();
  }

  // Connection i: to server port kFirstServerPort + i / kPerServerPort.
  bool connect(std::size_t i, SocketId& out) {
    const auto port = static_cast<std::uint16_t>(kFirstServerPort + i / kPerServerPort);
    if (client_->tcp_socket(out)) return fail("socket");
    const std::error_code ec = client_->connect(out, {kServer, port});
    if (ec != std::errc::operation_in_progress) return fail("connect: " + ec.message());
    return true;
  }
  // Accepts everything queued on every listener into `out`.
  void accept_all(std::vector<SocketId>& out) {
    for (SocketId l : listeners_) {
      SocketId a = -1;
      for (std::size_t i = 0; i < 100'000 && !server_->accept(l, a); ++i) out.push_back(a);
    }
  }
  bool fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
    return false;
  }

 private:
  std::pair<std::unique_ptr<link::MemoryLink>, std::unique_ptr<link::MemoryLink>> links_;
  ManualClock clock_;
  Instant now_ = kEpoch;
  std::size_t heap_before_client_ = 0, heap_before_server_ = 0;
  std::optional<Stack> client_, server_;
  std::vector<SocketId> listeners_;
  std::string error_;
};

std::size_t in_state(const Stack& s, tcp::State st) {
  return s.counters().tcp.in_state[static_cast<std::size_t>(st)];
}

// Opens connections [first, first + count) and accepts them; false (with pair.error()) on
// any failure.
bool open(Pair& pair, std::size_t first, std::size_t count, std::vector<SocketId>& client,
          std::vector<SocketId>& server) {
  for (std::size_t i = first; i < first + count; i += kBatch) {
    for (std::size_t j = i; j < std::min(first + count, i + kBatch); ++j) {
      SocketId s = -1;
      if (!pair.connect(j, s)) return false;
      client.push_back(s);
    }
    if (!pair.pump()) return false;
    pair.accept_all(server);
  }
  return true;
}

}  // namespace

Run idle_connection_bytes(std::size_t n) {
  if (n == 0) return Run::fail("n must be positive");
  std::vector<SocketId> client, server;
  client.reserve(n);
  server.reserve(n);
  Pair pair(n);
  if (!pair.error().empty()) return Run::fail(pair.error());
  const std::size_t before = heap_in_use();
  if (!open(pair, 0, n, client, server)) return Run::fail(pair.error());
  // Idle: the last ACKs delivered, delayed ACKs fired, nothing queued or timed.
  if (!pair.wait(seconds(1))) return Run::fail(pair.error());
  const std::size_t after = heap_in_use();

  for (Stack* s : {&pair.client(), &pair.server()}) {
    if (s->connection_count() != n || in_state(*s, tcp::State::Established) != n) {
      return Run::fail("expected " + std::to_string(n) + " established connections, have " +
                       std::to_string(s->connection_count()) + " (" +
                       std::to_string(in_state(*s, tcp::State::Established)) + " established)");
    }
    if (s->timers_armed() != 0 || s->buffer_memory() != 0) {
      return Run::fail("not idle: " + std::to_string(s->timers_armed()) + " timers armed, " +
                       std::to_string(s->buffer_memory()) + " bytes buffered");
    }
  }
  if (server.size() != n) return Run::fail("accepted " + std::to_string(server.size()));
  return Run::of(static_cast<double>(after - before) / static_cast<double>(2 * n));
}

Run time_wait_bytes(std::size_t n) {
  if (n == 0) return Run::fail("n must be positive");
  constexpr std::size_t kWave = 1000;
  std::vector<SocketId> client, server;
  client.reserve(kWave);
  server.reserve(kWave);
  Pair pair(n);
  if (!pair.error().empty()) return Run::fail(pair.error());
  const std::size_t before = heap_in_use();
  for (std::size_t first = 0; first < n; first += kWave) {
    const std::size_t count = std::min(kWave, n - first);
    client.clear();
    server.clear();
    if (!open(pair, first, count, client, server)) return Run::fail(pair.error());
    if (server.size() != count) return Run::fail("accepted " + std::to_string(server.size()));
    // The client closes first (its ends go to TIME_WAIT); the server reads the end of
    // stream and closes in turn.
    for (SocketId s : client) {
      if (pair.client().close(s)) return Run::fail("close");
    }
    if (!pair.pump()) return Run::fail(pair.error());
    for (SocketId s : server) {
      std::uint8_t byte = 0;
      std::size_t got = 1;
      if (pair.server().read(s, {&byte, 1}, got) || got != 0) return Run::fail("no end of stream");
      if (pair.server().close(s)) return Run::fail("close");
    }
    if (!pair.wait(milliseconds(1))) return Run::fail(pair.error());
    if (pair.server().connection_count() != 0) {
      return Run::fail("the server still holds " +
                       std::to_string(pair.server().connection_count()) + " connections");
    }
  }
  const std::size_t after = heap_in_use();
  const Stack& c = pair.client();
  if (c.connection_count() != n || in_state(c, tcp::State::TimeWait) != n) {
    return Run::fail("expected " + std::to_string(n) + " connections in TIME_WAIT, have " +
                     std::to_string(in_state(c, tcp::State::TimeWait)) + " of " +
                     std::to_string(c.connection_count()));
  }
  return Run::of(static_cast<double>(after - before) / static_cast<double>(n));
}

}  // namespace synack::bench
