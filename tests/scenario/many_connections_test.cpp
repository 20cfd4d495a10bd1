// A thousand connections at once between one client host and one echo server: every
// connect completes, every message comes back byte for byte, every connection closes,
// and when TIME_WAIT is over both stacks are empty: no connections, no timers, and the
// counters add up.
#include <gtest/gtest.h>

#include <vector>

#include "stack/counters.hpp"
#include "support/flow.hpp"

namespace synack::testing {
namespace {

using tcp::State;

constexpr int kConnections = 1000;
constexpr std::uint16_t kPort = 7;  // echo

// Connection i's message: its number, then a pattern of its own, 1000 to 4000 bytes long.
std::string message_for(int i) {
  std::string m = "connection " + std::to_string(i) + ":";
  const std::size_t size = 1000 + static_cast<std::size_t>(i * 613 % 3001);
  for (std::size_t k = m.size(); k < size; ++k) {
    m.push_back(static_cast<char>('!' + (static_cast<std::size_t>(i) * 31 + k * 7) % 90));
  }
  return m;
}

std::span<const std::uint8_t> bytes_of(const std::string& s, std::size_t from = 0) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()) + from, s.size() - from};
}

// Reads what is there into `out`; true at end of stream.
bool drain(Stack& stack, SocketId s, std::string& out) {
  std::uint8_t buf[8192];
  for (;;) {
    std::size_t n = 0;
    const auto ec = stack.read(s, buf, n);
    if (ec == std::errc::resource_unavailable_try_again) return false;
    EXPECT_FALSE(ec) << ec.message();
    if (ec || n == 0) return true;
    out.append(reinterpret_cast<const char*>(buf), n);
  }
}

// One client connection's life: connect, write the message, read the echo, close.
struct ClientConn {
  SocketId socket = -1;
  std::string message;
  std::size_t written = 0;
  std::string echoed;
  bool connected = false;
  bool closed = false;
};

// The echo server's view of one accepted connection.
struct ServerConn {
  SocketId socket = -1;
  std::string pending;  // read, not yet written back
  bool eof = false;
  bool closed = false;
};

struct ManyConnections : ::testing::Test {
  sim::World world{7, sim::ChannelParams{.delay = milliseconds(5)}};
  sim::Host& client = world.add_host(kClientAddr);
  sim::Host& server = world.add_host(kServerAddr);
  SocketId listener = -1;
  std::vector<ClientConn> clients;
  std::vector<ServerConn> served;
  int clients_done = 0;
  int servers_done = 0;

  // One turn of both applications' event loops, as after epoll_wait: every ready socket
  // gets its due.
  void serve() {
    Stack& s = server.stack;
    for (;;) {
      ServerConn c;
      if (s.accept(listener, c.socket)) break;
      served.push_back(std::move(c));
    }
    for (ServerConn& c : served) {
      if (c.closed) continue;
      if (s.readiness(c.socket).readable) c.eof = drain(s, c.socket, c.pending);
      if (!c.pending.empty()) {
        std::size_t n = 0;
        const auto ec = s.write(c.socket, bytes_of(c.pending), n);
        EXPECT_TRUE(!ec || ec == std::errc::resource_unavailable_try_again) << ec.message();
        c.pending.erase(0, n);
      }
      if (c.eof && c.pending.empty()) {
        EXPECT_FALSE(s.close(c.socket));
        c.closed = true;
        ++servers_done;
      }
    }
    Stack& cs = client.stack;
    for (ClientConn& c : clients) {
      if (c.closed) continue;
      const Readiness r = cs.readiness(c.socket);
      if (!c.connected) {
        if (!r.writable) continue;
        EXPECT_FALSE(cs.socket_error(c.socket));
        c.connected = true;
      }
      if (c.written < c.message.size() && r.writable) {
        std::size_t n = 0;
        cs.write(c.socket, bytes_of(c.message, c.written), n);
        c.written += n;
      }
      if (r.readable) {
        EXPECT_FALSE(drain(cs, c.socket, c.echoed)) << "EOF before the echo";
      }
      if (c.echoed.size() >= c.message.size()) {
        EXPECT_FALSE(cs.close(c.socket));  // the client closes first: TIME_WAIT is its
        c.closed = true;
        ++clients_done;
      }
    }
  }
};

TEST_F(ManyConnections, AThousandConcurrentEchoesCompleteAndLeaveNothingBehind) {
  ASSERT_FALSE(server.stack.tcp_socket(listener));
  ASSERT_FALSE(server.stack.bind(listener, {Ipv4Address(), kPort}));
  ASSERT_FALSE(server.stack.listen(listener, kConnections));  // room for every SYN at once

  clients.resize(kConnections);
  for (int i = 0; i < kConnections; ++i) {
    ClientConn& c = clients[static_cast<std::size_t>(i)];
    c.message = message_for(i);
    ASSERT_FALSE(client.stack.tcp_socket(c.socket));
    ASSERT_EQ(client.stack.connect(c.socket, {kServerAddr, kPort}),
              std::errc::operation_in_progress);
  }

  // The bound, 50 ms of virtual time, and the exact run (5 ms each way; the longest
  // message is 4000 bytes = 1460 + 1460 + 1080):
  //    0 ms  SYNs out              5 ms  SYN,ACKs out
  //   10 ms  connect() done: two full segments out, Nagle holds the 1080-byte tail
  //   15 ms  accept(); the server echoes 2920 bytes (two segments: ACK at once)
  //   20 ms  the ACK releases the tail         25 ms  the tail echoed
  //   30 ms  the echo is whole: close(), FIN   35 ms  EOF at the server: close(), FIN
  const auto r = world.run_until(
      [&] {
        serve();
        return clients_done == kConnections && servers_done == kConnections;
      },
      milliseconds(50));
  ASSERT_TRUE(r.done) << clients_done << " clients and " << servers_done
                      << " server connections done at " << to_nanos(world.now()) / 1000000 << " ms";
  EXPECT_EQ(world.now(), kEpoch + milliseconds(35));

  for (int i = 0; i < kConnections; ++i) {
    const ClientConn& c = clients[static_cast<std::size_t>(i)];
    ASSERT_EQ(c.echoed, c.message) << "connection " << i;
  }
  EXPECT_EQ(served.size(), static_cast<std::size_t>(kConnections));

  // Every client connection waits in TIME_WAIT from the server's FIN (40 ms); the server
  // keeps nothing once the ACK of its FIN is in (45 ms).
  ASSERT_TRUE(
      world.run_until([&] { return server.stack.connection_count() == 0; }, milliseconds(20)).done);
  EXPECT_EQ(world.now(), kEpoch + milliseconds(45));
  const Counters& cc = client.stack.counters();
  const Counters& sc = server.stack.counters();
  EXPECT_EQ(cc.tcp.in_state[static_cast<int>(State::TimeWait)], std::size_t{kConnections});
  EXPECT_EQ(client.stack.connection_count(), std::size_t{kConnections});

  // 2·MSL later, nothing is left anywhere.
  ASSERT_TRUE(run_until_no_connections(world, {&client, &server}, seconds(61)));
  EXPECT_EQ(world.now(), kEpoch + milliseconds(40) + seconds(60));
  EXPECT_EQ(client.stack.timers_armed(), 0u);
  EXPECT_EQ(server.stack.timers_armed(), 0u);
  EXPECT_EQ(client.stack.next_deadline(), std::nullopt);
  EXPECT_EQ(server.stack.next_deadline(), std::nullopt);

  EXPECT_EQ(cc.tcp.active_opens, std::uint64_t{kConnections});
  EXPECT_EQ(sc.tcp.passive_opens, std::uint64_t{kConnections});
  EXPECT_EQ(cc.tcp.passive_opens, 0u);
  EXPECT_EQ(sc.tcp.active_opens, 0u);
  for (std::size_t st = 0; st < tcp::kStateCount; ++st) {
    EXPECT_EQ(cc.tcp.in_state[st], 0u) << tcp::to_string(static_cast<State>(st));
    EXPECT_EQ(sc.tcp.in_state[st], 0u) << tcp::to_string(static_cast<State>(st));
  }
  // A clean link: nothing failed, nothing was lost, reset or sent twice.
  for (const Counters* c : {&cc, &sc}) {
    EXPECT_EQ(c->tcp.attempt_fails, 0u);
    EXPECT_EQ(c->tcp.estab_resets, 0u);
    EXPECT_EQ(c->tcp.retrans_segs, 0u);
    EXPECT_EQ(c->tcp.timeouts, 0u);
    EXPECT_EQ(c->tcp.out_rsts, 0u);
    EXPECT_EQ(c->tcp.in_rsts, 0u);
    EXPECT_EQ(c->tcp.syn_dropped, 0u);
    EXPECT_EQ(c->tcp.out_of_window, 0u);
    EXPECT_EQ(c->ip.in_hdr_errors + c->ip.in_bad_checksum + c->tcp.bad_checksum, 0u);
  }
  // Every segment one side sent, the other received.
  EXPECT_EQ(cc.tcp.out_segs, sc.tcp.in_segs);
  EXPECT_EQ(sc.tcp.out_segs, cc.tcp.in_segs);

  // The listener is still there, and now the last socket goes too.
  EXPECT_FALSE(server.stack.close(listener));
}

}  // namespace
}  // namespace synack::testing
