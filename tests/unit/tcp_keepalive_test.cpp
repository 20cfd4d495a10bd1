// Keepalive (RFC 1122 §4.2.3.6; Linux's SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL,
// TCP_KEEPCNT): after `idle` with nothing received, a probe every `interval`; an answer
// keeps the connection, `count` unanswered probes end it with timed_out.
#include <gtest/gtest.h>

#include "support/raw_peer.hpp"
#include "support/trace_recorder.hpp"

namespace synack::testing {
namespace {

using tcp::State;

// Keepalive on an established socket: idle 10 s, interval 5 s, 3 probes.
void enable(RawPeer& p, SocketId s, int idle = 10, int interval = 5, int count = 3) {
  ASSERT_FALSE(p.stack().setsockopt(s, Option::keepalive, 1));
  ASSERT_FALSE(p.stack().setsockopt(s, Option::keep_idle, idle));
  ASSERT_FALSE(p.stack().setsockopt(s, Option::keep_interval, interval));
  ASSERT_FALSE(p.stack().setsockopt(s, Option::keep_count, count));
  p.poll();
}

// A keepalive probe (SEG.SEQ = SND.UNA - 1, no data) at exactly `at`, not before.
void expect_probe_at(RawPeer& p, const Opened& c, Instant at) {
  p.advance_to(at - microseconds(1));
  p.expect_nothing();
  p.advance_to(at);
  p.expect({.flags = ACK, .seq = c.iss, .ack = 1001, .window = 65535, .len = 0});
}

TEST(Keepalive, UnansweredProbesEndTheConnectionWithTimedOut) {
  // Probes at 10, 15 and 20 s; at 25 s the third has gone unanswered for an interval and
  // the connection is given up (as Linux, which also sends an RST then; we send nothing).
  RawPeer p;
  const Opened c = p.accept_established();
  const Instant t0 = p.now();
  TraceRecorder trace(p.stack());
  enable(p, c.socket);
  expect_probe_at(p, c, t0 + seconds(10));
  expect_probe_at(p, c, t0 + seconds(15));
  expect_probe_at(p, c, t0 + seconds(20));
  p.advance_to(t0 + seconds(25) - microseconds(1));
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::Established);
  p.advance_to(t0 + seconds(25));
  p.expect_nothing();
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::Closed);
  EXPECT_EQ(p.stack().socket_error(c.socket), std::errc::timed_out);
  EXPECT_EQ(trace.causes(), (std::vector<std::string>(3, "keepalive probe")));
  EXPECT_EQ(p.counters().tcp.zero_window_probes, 0u);
}

TEST(Keepalive, AnAnsweredProbeKeepsTheConnectionAndRestartsTheIdleTime) {
  RawPeer p;
  const Opened c = p.accept_established();
  const Instant t0 = p.now();
  enable(p, c.socket);
  for (int round = 1; round <= 5; ++round) {
    expect_probe_at(p, c, t0 + seconds(10 * round));
    p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 1});  // the peer is alive
    p.expect_nothing();
  }
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::Established);
}

TEST(Keepalive, AnAnswerToTheLastProbeStillSavesTheConnection) {
  RawPeer p;
  const Opened c = p.accept_established();
  const Instant t0 = p.now();
  enable(p, c.socket);
  expect_probe_at(p, c, t0 + seconds(10));
  expect_probe_at(p, c, t0 + seconds(15));
  expect_probe_at(p, c, t0 + seconds(20));
  p.advance_to(t0 + seconds(24));
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 1});
  expect_probe_at(p, c, t0 + seconds(34));  // idle again from the answer
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::Established);
}

TEST(Keepalive, TrafficFromThePeerPostponesTheFirstProbe) {
  RawPeer p;
  const Opened c = p.accept_established();
  const Instant t0 = p.now();
  enable(p, c.socket);
  p.advance_to(t0 + seconds(6));
  p.inject({.flags = PSH | ACK, .seq = 1001, .ack = c.iss + 1, .payload = "hi"});
  p.advance(milliseconds(40));
  p.expect({.flags = ACK, .ack = 1003});
  p.advance_to(t0 + seconds(16) - microseconds(1));
  p.expect_nothing();
  p.advance_to(t0 + seconds(16));
  p.expect({.flags = ACK, .seq = c.iss, .ack = 1003, .len = 0});
}

TEST(Keepalive, LinuxDefaultsProbeAfterTwoHoursEvery75SecondsNineTimes) {
  // tcp_keepalive_time 7200 s, tcp_keepalive_intvl 75 s, tcp_keepalive_probes 9: the end
  // comes at 7200 + 9·75 = 7875 s.
  RawPeer p;
  const Opened c = p.accept_established();
  const Instant t0 = p.now();
  ASSERT_FALSE(p.stack().setsockopt(c.socket, Option::keepalive, 1));
  p.poll();
  for (int i = 0; i < 9; ++i) expect_probe_at(p, c, t0 + seconds(7200 + 75 * i));
  p.advance_to(t0 + seconds(7875) - microseconds(1));
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::Established);
  p.advance_to(t0 + seconds(7875));
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::Closed);
}

TEST(Keepalive, OffByDefault) {
  RawPeer p;
  const Opened c = p.accept_established();
  p.advance(seconds(3 * 3600));
  p.expect_nothing();
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::Established);
}

TEST(Keepalive, SetBeforeConnectStartsWhenTheConnectionIsEstablished) {
  RawPeer p;
  SocketId s = -1;
  ASSERT_FALSE(p.stack().tcp_socket(s));
  ASSERT_FALSE(p.stack().setsockopt(s, Option::keepalive, 1));
  ASSERT_FALSE(p.stack().setsockopt(s, Option::keep_idle, 30));
  ASSERT_EQ(p.stack().connect(s, {RawPeer::kRemote, RawPeer::kRemotePort}),
            std::errc::operation_in_progress);
  p.poll();
  Endpoint local;
  ASSERT_FALSE(p.stack().getsockname(s, local));
  const std::uint32_t iss = p.expect({.flags = SYN}).header.seq;
  p.advance(milliseconds(100));
  p.inject({.flags = SYN | ACK, .seq = 5000, .ack = iss + 1, .dst_port = local.port});
  p.expect({.flags = ACK, .seq = iss + 1, .ack = 5001});
  const Instant established = p.now();
  p.advance_to(established + seconds(30) - microseconds(1));
  p.expect_nothing();
  p.advance_to(established + seconds(30));
  p.expect({.flags = ACK, .seq = iss, .ack = 5001, .len = 0});
}

TEST(Keepalive, TurningItOffStopsTheProbes) {
  RawPeer p;
  const Opened c = p.accept_established();
  const Instant t0 = p.now();
  enable(p, c.socket);
  expect_probe_at(p, c, t0 + seconds(10));
  ASSERT_FALSE(p.stack().setsockopt(c.socket, Option::keepalive, 0));
  p.poll();
  p.advance(seconds(3600));
  p.expect_nothing();
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::Established);
}

// Keepalive runs in every synchronized state but TIME_WAIT, also in one reached without
// passing ESTABLISHED: a simultaneous open closed in SYN_RECEIVED goes to FIN_WAIT_1 (found
// by the sim_api fuzzer through the debug invariant check: no keepalive timer there).
TEST(Keepalive, ProbesAfterAShutdownInSynReceived) {
  RawPeer p;
  const SocketId s = p.connect_from_stack();
  const std::uint32_t iss = p.expect({.flags = SYN}).header.seq;
  enable(p, s);
  p.inject({.flags = SYN, .seq = 5000});
  p.expect({.flags = SYN | ACK, .seq = iss, .ack = 5001});
  ASSERT_FALSE(p.shutdown(s, Shutdown::write));
  p.expect({.flags = FIN | ACK, .seq = iss + 1, .ack = 5001});
  p.inject({.flags = ACK, .seq = 5001, .ack = iss + 2});
  EXPECT_EQ(p.stack().tcp_state(s), State::FinWait2);
  const Instant idle_from = p.now();
  p.advance_to(idle_from + seconds(10) - microseconds(1));
  p.expect_nothing();
  p.advance_to(idle_from + seconds(10));
  p.expect({.flags = ACK, .seq = iss + 1, .ack = 5001, .len = 0});
}

}  // namespace
}  // namespace synack::testing
