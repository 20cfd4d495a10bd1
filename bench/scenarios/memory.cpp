#include "bench/scenarios/memory.hpp"

#include <malloc.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/world.hpp"
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

constexpr Ipv4Address kServer(198, 18, 0, 1);
constexpr std::uint16_t kServerPort = 80;
// A client stack connects each socket from a port of its own (its ephemeral range): a
// million connections come from several client hosts, all to one server.
constexpr std::size_t kPerClient = 60'000;
// Connections opened between two runs of the network.
constexpr std::size_t kBatch = 1000;

StackConfig config_for(Ipv4Address address, std::size_t sockets) {
  StackConfig c;
  c.address = address;
  c.prefix_length = 15;  // 198.18.0.0/15: no host is the broadcast address of a /24
  c.ephemeral_low = 1024;
  c.ephemeral_high = 65535;
  c.max_sockets = sockets + 64;
  return c;
}

sim::ChannelParams fast_paths() {
  sim::ChannelParams p;
  p.delay = microseconds(50);
  return p;
}

// One server stack and as many client stacks as n needs, on the simulator.
class Net {
 public:
  explicit Net(std::size_t n) : world_(1, fast_paths()) {
    server_ = &world_.add_host(config_for(kServer, n)).stack;
    for (std::size_t c = 0; c * kPerClient < n; ++c) {
      const Ipv4Address a(198, 18, 1, static_cast<std::uint8_t>(1 + c));
      clients_.push_back(&world_.add_host(config_for(a, kPerClient)).stack);
    }
    if (server_->tcp_socket(listener_) || server_->bind(listener_, {Ipv4Address(), kServerPort}) ||
        server_->listen(listener_, 4096)) {
      error_ = "listen";
    }
  }

  Stack& server() { return *server_; }
  const std::vector<Stack*>& clients() const { return clients_; }
  Stack& client_of(std::size_t i) { return *clients_[i / kPerClient]; }
  const std::string& error() const { return error_; }

  // Lets `d` of virtual time pass.
  bool run(Duration d) {
    if (world_.run_for(d).stalled) return fail("the simulation stalled");
    return true;
  }
  // Connection i: from client i / kPerClient.
  bool connect(std::size_t i, SocketId& out) {
    Stack& c = client_of(i);
    if (c.tcp_socket(out)) return fail("socket");
    const std::error_code ec = c.connect(out, {kServer, kServerPort});
    if (ec != std::errc::operation_in_progress) return fail("connect: " + ec.message());
    return true;
  }
  // Accepts everything queued into `out`.
  void accept_all(std::vector<SocketId>& out) {
    SocketId a = -1;
    for (std::size_t i = 0; i < 100'000 && !server_->accept(listener_, a); ++i) out.push_back(a);
  }
  bool fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
    return false;
  }

 private:
  sim::World world_;
  Stack* server_ = nullptr;
  std::vector<Stack*> clients_;
  SocketId listener_ = -1;
  std::string error_;
};

std::size_t in_state(const Stack& s, tcp::State st) {
  return s.counters().tcp.in_state[static_cast<std::size_t>(st)];
}

// Opens connections [first, first + count) and accepts them; false (with net.error()) on
// any failure.
bool open(Net& net, std::size_t first, std::size_t count, std::vector<SocketId>& client,
          std::vector<SocketId>& server) {
  for (std::size_t i = first; i < first + count; i += kBatch) {
    for (std::size_t j = i; j < std::min(first + count, i + kBatch); ++j) {
      SocketId s = -1;
      if (!net.connect(j, s)) return false;
      client.push_back(s);
    }
    if (!net.run(milliseconds(1))) return false;
    net.accept_all(server);
  }
  return true;
}

}  // namespace

Run idle_connection_bytes(std::size_t n) {
  if (n == 0) return Run::fail("n must be positive");
  std::vector<SocketId> client, server;
  client.reserve(n);
  server.reserve(n);
  Net net(n);
  if (!net.error().empty()) return Run::fail(net.error());
  const std::size_t before = heap_in_use();
  if (!open(net, 0, n, client, server)) return Run::fail(net.error());
  // Idle: the last ACKs delivered, delayed ACKs fired, nothing queued or timed.
  if (!net.run(seconds(1))) return Run::fail(net.error());
  const std::size_t after = heap_in_use();

  std::size_t established = 0, connections = 0;
  for (Stack* s : net.clients()) {
    established += in_state(*s, tcp::State::Established);
    connections += s->connection_count();
  }
  Stack& srv = net.server();
  if (connections != n || established != n || srv.connection_count() != n ||
      in_state(srv, tcp::State::Established) != n || server.size() != n) {
    return Run::fail("expected " + std::to_string(n) + " established connections; clients have " +
                     std::to_string(established) + " of " + std::to_string(connections) +
                     ", the server " + std::to_string(in_state(srv, tcp::State::Established)) +
                     " of " + std::to_string(srv.connection_count()) + ", " +
                     std::to_string(server.size()) + " accepted");
  }
  for (Stack* s : net.clients()) {
    if (s->timers_armed() != 0 || s->buffer_memory() != 0) return Run::fail("a client is not idle");
  }
  if (srv.timers_armed() != 0 || srv.buffer_memory() != 0)
    return Run::fail("the server is not idle");
  return Run::of(static_cast<double>(after - before) / static_cast<double>(2 * n));
}

Run time_wait_bytes(std::size_t n) {
  if (n == 0) return Run::fail("n must be positive");
  constexpr std::size_t kWave = 1000;
  std::vector<SocketId> client, server;
  client.reserve(kWave);
  server.reserve(kWave);
  Net net(n);
  if (!net.error().empty()) return Run::fail(net.error());
  const std::size_t before = heap_in_use();
  for (std::size_t first = 0; first < n; first += kWave) {
    const std::size_t count = std::min(kWave, n - first);
    client.clear();
    server.clear();
    if (!open(net, first, count, client, server)) return Run::fail(net.error());
    if (server.size() != count) return Run::fail("accepted " + std::to_string(server.size()));
    // The client closes first (its ends go to TIME_WAIT); the server reads the end of
    // stream and closes in turn.
    for (std::size_t k = 0; k < count; ++k) {
      if (net.client_of(first + k).close(client[k])) return Run::fail("close");
    }
    if (!net.run(milliseconds(1))) return Run::fail(net.error());
    for (SocketId s : server) {
      std::uint8_t byte = 0;
      std::size_t got = 1;
      if (net.server().read(s, {&byte, 1}, got) || got != 0) return Run::fail("no end of stream");
      if (net.server().close(s)) return Run::fail("close");
    }
    if (!net.run(milliseconds(1))) return Run::fail(net.error());
    if (net.server().connection_count() != 0) {
      return Run::fail("the server still holds " + std::to_string(net.server().connection_count()) +
                       " connections");
    }
  }
  const std::size_t after = heap_in_use();
  std::size_t time_wait = 0, connections = 0;
  for (Stack* s : net.clients()) {
    time_wait += in_state(*s, tcp::State::TimeWait);
    connections += s->connection_count();
  }
  if (connections != n || time_wait != n) {
    return Run::fail("expected " + std::to_string(n) + " connections in TIME_WAIT, have " +
                     std::to_string(time_wait) + " of " + std::to_string(connections));
  }
  return Run::of(static_cast<double>(after - before) / static_cast<double>(n));
}

}  // namespace synack::bench
