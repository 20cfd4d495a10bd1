// Ten thousand connections one after another from one client to one server port, reusing
// the client's ephemeral ports through TIME_WAIT. The ports come from RFC 6056 selection
// (src/stack/ports.cpp); the test keeps its own books of every TIME_WAIT on both sides and
// checks, cycle by cycle, that no port is taken while its 4-tuple waits in TIME_WAIT at
// the client, and that both stacks hold exactly the TIME_WAIT entries they should.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>

#include "stack/counters.hpp"
#include "support/flow.hpp"

namespace synack::testing {
namespace {

using tcp::State;

constexpr std::uint16_t kPort = 7;
constexpr Duration kDelay = milliseconds(5);
constexpr Duration kTimeWait = seconds(60);  // 2·MSL with the default MSL of 30 s

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::size_t time_wait_count(const Stack& s) {
  return s.counters().tcp.in_state[static_cast<std::size_t>(State::TimeWait)];
}

// Where TIME_WAIT entries begin and end, by port: [from, until) in virtual time.
struct TimeWaitBook {
  struct Entry {
    Instant from, until;
  };
  std::map<std::uint16_t, Entry> entries;
  void add(std::uint16_t port, Instant from) { entries[port] = {from, from + kTimeWait}; }
  bool alive(std::uint16_t port, Instant now) const {
    const auto it = entries.find(port);
    return it != entries.end() && it->second.from <= now && now < it->second.until;
  }
  std::size_t count(Instant now) const {
    std::size_t n = 0;
    for (const auto& [port, e] : entries) n += e.from <= now && now < e.until ? 1u : 0u;
    return n;
  }
};

struct PortReuse : ::testing::Test {
  sim::World world{11, sim::ChannelParams{.delay = kDelay}};
  sim::Host& client;
  sim::Host& server = world.add_host(kServerAddr);
  SocketId listener = -1;

  explicit PortReuse(std::uint16_t low = 40000, std::uint16_t high = 41499)
      : client(world.add_host(
            StackConfig{.address = kClientAddr, .ephemeral_low = low, .ephemeral_high = high})) {}

  void SetUp() override {
    ASSERT_FALSE(server.stack.tcp_socket(listener));
    ASSERT_FALSE(server.stack.bind(listener, {Ipv4Address(), kPort}));
    ASSERT_FALSE(server.stack.listen(listener, 16));
  }

  // connect() until accept() returns and the client is writable; the client's port.
  std::uint16_t open(SocketId& c, SocketId& s) {
    EXPECT_FALSE(client.stack.tcp_socket(c));
    EXPECT_EQ(client.stack.connect(c, {kServerAddr, kPort}), std::errc::operation_in_progress);
    EXPECT_TRUE(
        world.run_until([&] { return !server.stack.accept(listener, s); }, seconds(1)).done);
    EXPECT_TRUE(
        world.run_until([&] { return client.stack.readiness(c).writable; }, seconds(1)).done);
    Endpoint local;
    EXPECT_FALSE(client.stack.getsockname(c, local));
    return local.port;
  }

  void echo(SocketId c, SocketId s, const std::string& message) {
    std::size_t n = 0;
    ASSERT_FALSE(client.stack.write(c, bytes_of(message), n));
    ASSERT_EQ(n, message.size());
    const std::string got = read_n(world, server, s, message.size(), seconds(1));
    ASSERT_FALSE(server.stack.write(s, bytes_of(got), n));
    ASSERT_EQ(read_n(world, client, c, message.size(), seconds(1)), message);
  }

  // The client closes first and keeps the TIME_WAIT: shutdown, then EOF from the server's
  // FIN puts it there, and close() leaves it to the stack. Returns when it began.
  Instant close_client_first(SocketId c, SocketId s) {
    EXPECT_FALSE(client.stack.shutdown(c, Shutdown::write));
    EXPECT_EQ(read_to_eof(world, server, s, seconds(1)), "");
    EXPECT_FALSE(server.stack.close(s));
    EXPECT_EQ(read_to_eof(world, client, c, seconds(1)), "");
    EXPECT_EQ(client.stack.tcp_state(c), State::TimeWait);
    EXPECT_FALSE(client.stack.close(c));
    return world.now();
  }
};

TEST_F(PortReuse, TenThousandSequentialConnectionsNeverMeetATimeWait) {
  constexpr int kCycles = 10000;
  constexpr std::uint16_t kLow = 40000, kHigh = 41499;  // 1500 ports
  const auto wall_start = std::chrono::steady_clock::now();

  // Three connections stay open throughout: their ports must be skipped at every wrap.
  std::set<std::uint16_t> held_ports;
  std::vector<std::pair<SocketId, SocketId>> held;
  for (int k = 0; k < 3; ++k) {
    SocketId c = -1, s = -1;
    held_ports.insert(open(c, s));
    held.emplace_back(c, s);
  }

  // RFC 6056 Algorithm 4 with random increments: the offset is a hash of the destination,
  // the same every time here, and each search starts between one and eight past where the
  // last one ended (RFC 6056 §3.3.4; Linux's random step of up to 8). So the next port is
  // usable (neither held nor in TIME_WAIT), and at most seven usable ports lie between it
  // and the previous one.
  auto next_in_range = [&](std::uint16_t p) {
    return p == kHigh ? kLow : static_cast<std::uint16_t>(p + 1);
  };
  std::uint16_t previous = *held_ports.rbegin();
  ASSERT_EQ(held_ports.size(), 3u);
  ASSERT_LE(*held_ports.rbegin() - *held_ports.begin(), 2 * 8) << "three searches, close by";

  TimeWaitBook client_tw, server_tw;
  std::map<std::uint16_t, int> uses;  // times each port was taken
  std::uint64_t stepped_over = 0;     // TIME_WAIT ports the searches skipped
  std::uint64_t expected_reuses = 0;  // SYNs that met the server's TIME_WAIT (RFC 6191)
  std::set<int> steps;                // usable ports passed over: random, so all of 0..7
  for (int i = 0; i < kCycles; ++i) {
    // Before each connect, both stacks hold exactly the TIME_WAIT entries the books say.
    ASSERT_EQ(time_wait_count(client.stack), client_tw.count(world.now())) << "cycle " << i;
    ASSERT_EQ(time_wait_count(server.stack), server_tw.count(world.now())) << "cycle " << i;

    const Instant connect_at = world.now();
    auto usable = [&](std::uint16_t p) {
      return !held_ports.contains(p) && !client_tw.alive(p, connect_at);
    };
    SocketId c = -1, s = -1;
    const std::uint16_t port = open(c, s);
    ASSERT_GE(port, kLow);
    ASSERT_LE(port, kHigh);
    ASSERT_FALSE(held_ports.contains(port)) << "cycle " << i << " took a port in use";
    ASSERT_FALSE(client_tw.alive(port, connect_at))
        << "cycle " << i << " took port " << port << " still in TIME_WAIT at the client";
    int usable_between = 0;
    for (std::uint16_t p = next_in_range(previous); p != port; p = next_in_range(p)) {
      if (usable(p)) {
        ++usable_between;
      } else if (!held_ports.contains(p)) {
        ++stepped_over;
      }
    }
    ASSERT_LE(usable_between, 7) << "cycle " << i << ": port " << port << " after " << previous;
    steps.insert(usable_between);
    previous = port;
    if (server_tw.alive(port, connect_at)) {
      ++expected_reuses;  // the new SYN ends the server's TIME_WAIT for the 4-tuple
      server_tw.entries.erase(port);
    }
    ++uses[port];

    echo(c, s, "cycle " + std::to_string(i) + std::string(static_cast<std::size_t>(i % 97), '.'));
    if (i % 2 == 0) {
      client_tw.add(port, close_client_first(c, s));
    } else {
      // The server closes first: its TIME_WAIT starts when the client's FIN arrives, and
      // the client's port is free one round trip after its close().
      ASSERT_FALSE(server.stack.close(s));
      EXPECT_EQ(read_to_eof(world, client, c, seconds(1)), "");
      ASSERT_FALSE(client.stack.close(c));
      server_tw.add(port, world.now() + kDelay);
    }
  }

  // 10,000 cycles over 1500 ports: every port went round several times, and the search
  // had to step over TIME_WAIT ports (the client-first cycles leave every other port in
  // TIME_WAIT when the search comes round after ~37 s).
  EXPECT_EQ(uses.size(), std::size_t{kHigh - kLow + 1} - held_ports.size());
  EXPECT_EQ(server.stack.counters().tcp.time_wait_reused, expected_reuses);
  EXPECT_GT(expected_reuses, 0u);
  EXPECT_GT(stepped_over, 1000u);
  EXPECT_EQ(steps.size(), 8u);
  RecordProperty("time_wait_ports_stepped_over", static_cast<int>(stepped_over));
  RecordProperty("server_time_wait_reuses", static_cast<int>(expected_reuses));

  // The held connections still work, then everything closes and nothing is left.
  for (auto [c, s] : held) {
    echo(c, s, "still here");
    ASSERT_FALSE(client.stack.close(c));
    ASSERT_FALSE(server.stack.close(s));
  }
  const Instant last = world.now();
  ASSERT_TRUE(run_until_no_connections(world, {&client, &server}, seconds(61)));
  EXPECT_LE(world.now() - last, kTimeWait + 2 * kDelay);
  EXPECT_EQ(client.stack.timers_armed(), 0u);
  EXPECT_EQ(server.stack.timers_armed(), 0u);
  for (const sim::Host* h : {&client, &server}) {
    for (std::size_t st = 0; st < tcp::kStateCount; ++st) {
      EXPECT_EQ(h->stack.counters().tcp.in_state[st], 0u) << tcp::to_string(static_cast<State>(st));
    }
    EXPECT_EQ(h->stack.counters().tcp.retrans_segs, 0u);
    EXPECT_EQ(h->stack.counters().tcp.out_rsts, 0u);
  }
  EXPECT_EQ(client.stack.counters().tcp.active_opens, std::uint64_t{kCycles + 3});
  EXPECT_EQ(server.stack.counters().tcp.passive_opens, std::uint64_t{kCycles + 3});
  EXPECT_EQ(client.stack.counters().tcp.attempt_fails, 0u);

  const auto wall = std::chrono::steady_clock::now() - wall_start;
  RecordProperty(
      "wall_ms",
      static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(wall).count()));
  RecordProperty("virtual_s", static_cast<int>(to_nanos(world.now()) / 1'000'000'000));
}

struct FewPorts : PortReuse {
  static constexpr std::uint16_t kLow = 50000, kHigh = 50099;
  FewPorts() : PortReuse(kLow, kHigh) {}
};

TEST_F(FewPorts, WithEveryPortInTimeWaitConnectFailsUntilTheOldestEnds) {
  std::vector<std::pair<std::uint16_t, Instant>> waits;  // port, TIME_WAIT began
  for (int i = 0; i < 100; ++i) {
    SocketId c = -1, s = -1;
    const std::uint16_t port = open(c, s);
    echo(c, s, "x");
    waits.emplace_back(port, close_client_first(c, s));
  }
  std::set<std::uint16_t> distinct;
  for (const auto& w : waits) distinct.insert(w.first);
  ASSERT_EQ(distinct.size(), 100u);
  ASSERT_EQ(time_wait_count(client.stack), 100u);

  // Every 4-tuple to the server is in TIME_WAIT: connect() fails at once, as Linux's
  // EADDRNOTAVAIL, and sends nothing.
  SocketId c = -1;
  ASSERT_FALSE(client.stack.tcp_socket(c));
  const std::uint64_t out_before = client.stack.counters().tcp.out_segs;
  EXPECT_EQ(client.stack.connect(c, {kServerAddr, kPort}), std::errc::address_not_available);
  EXPECT_EQ(client.stack.counters().tcp.out_segs, out_before);
  EXPECT_EQ(client.stack.counters().tcp.active_opens, 100u);
  Endpoint local;
  ASSERT_FALSE(client.stack.getsockname(c, local));
  EXPECT_EQ(local.port, 0) << "a failed connect binds nothing";

  // Another destination has its own 4-tuples: the same ports are free towards it.
  SocketId other = -1;
  ASSERT_FALSE(client.stack.tcp_socket(other));
  EXPECT_EQ(client.stack.connect(other, {kServerAddr, kPort + 1}),
            std::errc::operation_in_progress);
  ASSERT_FALSE(client.stack.getsockname(other, local));
  EXPECT_TRUE(distinct.contains(local.port));
  ASSERT_FALSE(client.stack.close(other));

  // Just before the oldest TIME_WAIT ends there is still no port; at its end, that port
  // and only that one is free again, and the same socket connects from it.
  const auto [oldest_port, oldest_from] = waits.front();
  world.run_until([] { return false; }, oldest_from + kTimeWait - microseconds(1) - world.now());
  EXPECT_EQ(time_wait_count(client.stack), 100u);
  EXPECT_EQ(client.stack.connect(c, {kServerAddr, kPort}), std::errc::address_not_available);
  world.run_for(microseconds(1));
  EXPECT_EQ(time_wait_count(client.stack), 99u);
  EXPECT_EQ(client.stack.connect(c, {kServerAddr, kPort}), std::errc::operation_in_progress);
  ASSERT_FALSE(client.stack.getsockname(c, local));
  EXPECT_EQ(local.port, oldest_port);
  SocketId s = -1;
  ASSERT_TRUE(world.run_until([&] { return !server.stack.accept(listener, s); }, seconds(1)).done);
  echo(c, s, "through");
  ASSERT_FALSE(client.stack.close(c));
  ASSERT_FALSE(server.stack.close(s));
  ASSERT_TRUE(run_until_no_connections(world, {&client, &server}, seconds(61)));
  EXPECT_EQ(client.stack.timers_armed(), 0u);
  EXPECT_EQ(server.stack.timers_armed(), 0u);
}

}  // namespace
}  // namespace synack::testing

namespace synack::testing {
namespace {

// As on Linux, a port connect() chose serves other connects to other peers: the 4-tuple
// tells them apart. So one client reaches more than its 28,232 ephemeral ports' worth of
// connections, over several server ports. bind() still may not take such a port.
struct OnePortRange : PortReuse {
  OnePortRange() : PortReuse(40000, 40000) {}
};

TEST_F(OnePortRange, ConnectsToOtherPeersShareTheEphemeralPortAndBindMayNot) {
  SocketId other_listener = -1;
  ASSERT_FALSE(server.stack.tcp_socket(other_listener));
  ASSERT_FALSE(server.stack.bind(other_listener, {Ipv4Address(), kPort + 1}));
  ASSERT_FALSE(server.stack.listen(other_listener, 16));

  SocketId a = -1, b = -1, sa = -1, sb = -1;
  EXPECT_EQ(open(a, sa), 40000);
  ASSERT_FALSE(client.stack.tcp_socket(b));
  ASSERT_EQ(client.stack.connect(b, {kServerAddr, kPort + 1}), std::errc::operation_in_progress);
  ASSERT_TRUE(
      world.run_until([&] { return !server.stack.accept(other_listener, sb); }, seconds(1)).done);
  Endpoint local;
  ASSERT_FALSE(client.stack.getsockname(b, local));
  EXPECT_EQ(local.port, 40000);
  echo(a, sa, "first");
  echo(b, sb, "second");

  // The same peer again: its 4-tuple is taken, and there is no other port.
  SocketId c = -1;
  ASSERT_FALSE(client.stack.tcp_socket(c));
  EXPECT_EQ(client.stack.connect(c, {kServerAddr, kPort}), std::errc::address_not_available);
  SocketId d = -1;
  ASSERT_FALSE(client.stack.tcp_socket(d));
  EXPECT_EQ(client.stack.bind(d, {Ipv4Address(), 40000}), std::errc::address_in_use);

  for (const SocketId s : {a, b, c, d}) ASSERT_FALSE(client.stack.close(s));
  for (const SocketId s : {sa, sb, listener, other_listener}) ASSERT_FALSE(server.stack.close(s));
  ASSERT_TRUE(run_until_no_connections(world, {&client, &server}, seconds(61)));
  // With every socket gone the port is free for bind() again.
  SocketId e = -1;
  ASSERT_FALSE(client.stack.tcp_socket(e));
  EXPECT_FALSE(client.stack.bind(e, {Ipv4Address(), 40000}));
}

}  // namespace
}  // namespace synack::testing
