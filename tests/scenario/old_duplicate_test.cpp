// The delayed old duplicate SYN of RFC 9293 §3.5 (figure 9), stack against stack: the
// network holds the client's first SYN back, the connection is made with the
// retransmitted one, and the old SYN arrives later: during the connection, after the
// connection is over, and while the client still waits in TIME_WAIT. It must never make a
// second connection, disturb the live one, or hand accept() a connection nobody asked for.
#include <gtest/gtest.h>

#include "stack/counters.hpp"
#include "support/flow.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"

namespace synack::testing {
namespace {

using tcp::State;

constexpr std::uint16_t kPort = 80;

// A TCP segment with SYN and without ACK: an active open's SYN.
bool is_syn(wire::Bytes frame) {
  auto ip = wire::Ipv4View::parse(frame);
  if (!ip || ip->protocol() != wire::kTcp) return false;
  auto tcp = wire::TcpView::parse(ip->payload());
  return tcp && tcp->flags().has(wire::TcpFlags::syn) && !tcp->flags().has(wire::TcpFlags::ack);
}

struct OldDuplicateSyn : ::testing::Test {
  sim::World world{13, sim::ChannelParams{.delay = milliseconds(5)}};
  sim::Host& client = world.add_host(kClientAddr);
  sim::Host& server = world.add_host(kServerAddr);
  SocketId listener = -1;
  SocketId c = -1, s = -1;

  void SetUp() override {
    ASSERT_FALSE(server.stack.tcp_socket(listener));
    ASSERT_FALSE(server.stack.bind(listener, {Ipv4Address(), kPort}));
    ASSERT_FALSE(server.stack.listen(listener, 8));
  }

  // Holds the client's first SYN back by `hold`, then connects: the SYN retransmitted
  // after the initial RTO (1 s) makes the connection.
  void connect_with_first_syn_held(Duration hold) {
    world.net().channel(kClientAddr.to_u32(), kServerAddr.to_u32()).hold_matching(is_syn, hold, 1);
    ASSERT_FALSE(client.stack.tcp_socket(c));
    ASSERT_EQ(client.stack.connect(c, {kServerAddr, kPort}), std::errc::operation_in_progress);
    ASSERT_TRUE(
        world.run_until([&] { return !server.stack.accept(listener, s); }, seconds(2)).done);
    // 1 s RTO, then SYN (5 ms), SYN,ACK (5 ms), ACK (5 ms).
    EXPECT_EQ(world.now(), kEpoch + seconds(1) + milliseconds(15));
    EXPECT_EQ(client.stack.counters().tcp.retrans_segs, 1u);
    EXPECT_EQ(server.stack.counters().tcp.passive_opens, 1u);
  }

  // No second connection reached accept(), now or pending.
  void expect_nothing_to_accept() {
    SocketId extra = -1;
    EXPECT_EQ(server.stack.accept(listener, extra), std::errc::resource_unavailable_try_again);
    EXPECT_FALSE(server.stack.readiness(listener).readable);
  }
};

TEST_F(OldDuplicateSyn, ArrivingDuringTheConnectionItChangesNothing) {
  connect_with_first_syn_held(seconds(30));

  // A stream in both directions across the old SYN's arrival at 30.005 s: every 100 ms
  // each side writes a chunk of its own pattern and reads what came.
  const std::string up = pattern(400 * 700, 1), down = pattern(400 * 300, 2);
  std::string got_up, got_down;
  std::uint64_t old_segments_before = 0;
  bool old_syn_seen = false;
  for (std::size_t i = 0; i < 400; ++i) {  // 40 s
    std::size_t n = 0;
    ASSERT_FALSE(client.stack.write(
        c, std::span(reinterpret_cast<const std::uint8_t*>(up.data()) + i * 700, 700), n));
    ASSERT_EQ(n, 700u);
    ASSERT_FALSE(server.stack.write(
        s, std::span(reinterpret_cast<const std::uint8_t*>(down.data()) + i * 300, 300), n));
    ASSERT_EQ(n, 300u);
    if (world.now() + milliseconds(100) > kEpoch + seconds(30) && !old_syn_seen) {
      old_segments_before =
          server.stack.counters().tcp.out_of_window + server.stack.counters().tcp.paws_rejected;
      old_syn_seen = true;
    }
    world.run_for(milliseconds(100));
    std::uint8_t buf[4096];
    while (!server.stack.read(s, buf, n) && n > 0) got_up.append(reinterpret_cast<char*>(buf), n);
    while (!client.stack.read(c, buf, n) && n > 0) {
      got_down.append(reinterpret_cast<char*>(buf), n);
    }
  }
  world.run_for(milliseconds(100));
  got_up += read_n(world, server, s, up.size() - got_up.size());
  got_down += read_n(world, client, c, down.size() - got_down.size());
  EXPECT_TRUE(same_bytes(got_up, up));
  EXPECT_TRUE(same_bytes(got_down, down));

  // The old SYN was held exactly once and delivered; the server saw it as an old segment
  // of the live connection (its timestamp is older than TS.Recent, so PAWS rejects it;
  // without timestamps its sequence number, the IRS, is outside the window), answered
  // with an ACK, and nothing else happened.
  EXPECT_EQ(world.net().channel(kClientAddr.to_u32(), kServerAddr.to_u32()).stats().held, 1u);
  const auto& tcp = server.stack.counters().tcp;
  EXPECT_EQ(tcp.out_of_window + tcp.paws_rejected, old_segments_before + 1);
  EXPECT_EQ(server.stack.counters().tcp.passive_opens, 1u);
  EXPECT_EQ(server.stack.connection_count(), 1u);
  expect_nothing_to_accept();
  EXPECT_EQ(client.stack.tcp_state(c), State::Established);
  EXPECT_EQ(server.stack.tcp_state(s), State::Established);
  for (const sim::Host* h : {&client, &server}) {
    EXPECT_EQ(h->stack.counters().tcp.out_rsts, 0u);
    EXPECT_EQ(h->stack.counters().tcp.in_rsts, 0u);
    EXPECT_EQ(h->stack.counters().tcp.estab_resets, 0u);
  }
  EXPECT_EQ(client.stack.counters().tcp.retrans_segs, 1u) << "only the SYN was resent";

  ASSERT_FALSE(client.stack.close(c));
  EXPECT_EQ(read_to_eof(world, server, s), "");
  ASSERT_FALSE(server.stack.close(s));
  ASSERT_TRUE(run_until_no_connections(world, {&client, &server}, seconds(61)));
}

// The connection is made, used, closed, and its TIME_WAIT is over long before the old SYN
// arrives (200 s). To the listener it looks like a new connection request: a child in
// SYN_RECEIVED answers SYN,ACK; the client has no such connection and answers RST; the
// child goes away. accept() never sees it (RFC 9293 §3.5, figure 9).
TEST_F(OldDuplicateSyn, ArrivingAfterTheConnectionIsGoneItIsResetAndNeverAccepted) {
  connect_with_first_syn_held(seconds(200));
  const std::string request = pattern(5000, 3);
  write_all(world, client, c, request);
  EXPECT_TRUE(same_bytes(read_n(world, server, s, request.size()), request));
  ASSERT_FALSE(client.stack.close(c));
  EXPECT_EQ(read_to_eof(world, server, s), "");
  ASSERT_FALSE(server.stack.close(s));
  ASSERT_TRUE(run_until_no_connections(world, {&client, &server}, seconds(62)));
  ASSERT_LT(world.now(), kEpoch + seconds(100));

  ASSERT_TRUE(
      world.run_until([&] { return server.stack.counters().tcp.passive_opens == 2; }, seconds(200))
          .done);
  EXPECT_EQ(world.now(), kEpoch + seconds(200) + milliseconds(5)) << "the old SYN arrived";
  EXPECT_EQ(server.stack.connection_count(), 1u);  // the child, in SYN_RECEIVED
  expect_nothing_to_accept();

  // SYN,ACK there (5 ms), RST back (5 ms): the child is gone.
  ASSERT_TRUE(run_until_no_connections(world, {&server}, milliseconds(10)));
  EXPECT_EQ(world.now(), kEpoch + seconds(200) + milliseconds(15));
  expect_nothing_to_accept();
  EXPECT_EQ(client.stack.counters().tcp.no_port, 1u);
  EXPECT_EQ(client.stack.counters().tcp.out_rsts, 1u);
  EXPECT_EQ(server.stack.counters().tcp.in_rsts, 1u);
  EXPECT_EQ(server.stack.counters().tcp.attempt_fails, 1u);
  EXPECT_EQ(client.stack.connection_count(), 0u);
  world.run_for(seconds(120));  // nothing more happens: no retransmitted SYN,ACK
  EXPECT_EQ(server.stack.counters().tcp.passive_opens, 2u);
  expect_nothing_to_accept();
  EXPECT_EQ(server.stack.timers_armed() + client.stack.timers_armed(), 0u);
}

// The old SYN arrives at 30 s, when the server has closed and forgotten the connection but
// the client still waits in TIME_WAIT (from about 1 s to 61 s) for the same 4-tuple. The
// exchange:
//   30.005  server: a child in SYN_RECEIVED answers SYN,ACK (a fresh ISS)
//   30.010  client (TIME_WAIT): the SYN,ACK is outside its window: an ACK of its old state
//   30.015  server: that ACK acknowledges nothing the child sent: RST <SEQ=SEG.ACK>
//   30.020  client: the RST is exactly at RCV.NXT, but RFC 1337 §3 (TH1) has TIME_WAIT
//           ignore every RST (RFC 9293 §3.10.7.4, and Linux with tcp_rfc1337 = 0, would
//           end the wait here): dropped
// The same again for each retransmitted SYN,ACK (31, 33, 37, 45 and 61 s): six in all, the
// last just before the client's TIME_WAIT ends. The child gives up after its last RTO, at
// 93 s. No connection reaches accept() at any point.
TEST_F(OldDuplicateSyn, ArrivingDuringTheClientsTimeWaitItIsNeverAccepted) {
  connect_with_first_syn_held(seconds(30));
  ASSERT_FALSE(client.stack.close(c));
  EXPECT_EQ(read_to_eof(world, server, s), "");
  ASSERT_FALSE(server.stack.close(s));
  ASSERT_TRUE(run_until_no_connections(world, {&server}, seconds(1)));
  ASSERT_EQ(client.stack.counters().tcp.in_state[static_cast<int>(State::TimeWait)], 1u);

  ASSERT_TRUE(
      world.run_until([&] { return server.stack.counters().tcp.passive_opens == 2; }, seconds(30))
          .done);
  EXPECT_EQ(world.now(), kEpoch + seconds(30) + milliseconds(5));
  for (int i = 0; i < 20; ++i) {  // 2 s, looking every 100 ms
    expect_nothing_to_accept();
    world.run_for(milliseconds(100));
  }
  ASSERT_TRUE(run_until_no_connections(world, {&client, &server}, seconds(120)));
  EXPECT_EQ(world.now(), kEpoch + seconds(93) + milliseconds(5)) << "the child's last RTO";
  expect_nothing_to_accept();

  const Counters& cc = client.stack.counters();
  const Counters& sc = server.stack.counters();
  EXPECT_EQ(cc.tcp.out_of_window, 6u);   // each SYN,ACK in TIME_WAIT
  EXPECT_EQ(sc.tcp.bad_ack, 6u);         // each ACK of it in SYN_RECEIVED
  EXPECT_EQ(sc.tcp.out_rsts, 6u);        // ... answered by an RST
  EXPECT_EQ(cc.tcp.time_wait_rsts, 6u);  // ... which TIME_WAIT dropped (RFC 1337)
  EXPECT_EQ(cc.tcp.in_rsts, 0u);
  EXPECT_EQ(cc.tcp.no_port, 0u);
  EXPECT_EQ(cc.tcp.out_rsts, 0u);
  EXPECT_EQ(sc.tcp.in_rsts, 0u);
  EXPECT_EQ(sc.tcp.retrans_segs, 5u);  // synack_retries
  EXPECT_EQ(sc.tcp.passive_opens, 2u);
  EXPECT_EQ(sc.tcp.attempt_fails, 1u);  // the child timed out
  EXPECT_EQ(server.stack.timers_armed() + client.stack.timers_armed(), 0u);
}

}  // namespace
}  // namespace synack::testing
