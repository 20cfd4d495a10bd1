// TCP_USER_TIMEOUT (RFC 5482's user timeout, as Linux implements it): in milliseconds, 0
// off. Data unacknowledged since its first retransmission for that long ends the
// connection with timed_out, instead of data_retries; the retransmission timer is clamped
// so the end comes when the timeout does, not a backed-off RTO later. A SYN stops at
// whichever of syn_retries and the timeout (from the first SYN) comes first. It also bounds
// a window that stays shut, and keepalive probing.
#include <gtest/gtest.h>

#include "support/raw_peer.hpp"

namespace synack::testing {
namespace {

using tcp::State;

// The segment at `seq` is retransmitted at exactly `when`, and not a microsecond before.
void expect_retransmission_at(RawPeer& p, Instant when, std::uint32_t seq) {
  p.advance_to(when - microseconds(1));
  p.expect_nothing();
  p.advance_to(when);
  p.expect({.flags = PSH | ACK, .seq = seq});
}

// The connection is alive until just before `when` and over, with timed_out and no
// segment sent (as Linux's tcp_write_err), at `when`.
void expect_timed_out_at(RawPeer& p, SocketId s, Instant when) {
  p.advance_to(when - microseconds(1));
  p.expect_nothing();
  EXPECT_NE(p.stack().tcp_state(s), State::Closed);
  p.advance_to(when);
  p.expect_nothing();
  EXPECT_EQ(p.stack().tcp_state(s), State::Closed);
  EXPECT_EQ(p.stack().socket_error(s), std::errc::timed_out);
}

// --- The option --------------------------------------------------------------------------------

TEST(UserTimeout, IsMillisecondsOffByDefaultAndSetBeforeOrAfterConnecting) {
  RawPeer p;
  SocketId s = -1;
  ASSERT_FALSE(p.stack().tcp_socket(s));
  int value = -1;
  ASSERT_FALSE(p.stack().getsockopt(s, Option::user_timeout, value));
  EXPECT_EQ(value, 0);
  ASSERT_FALSE(p.stack().setsockopt(s, Option::user_timeout, 3000));
  ASSERT_FALSE(p.stack().getsockopt(s, Option::user_timeout, value));
  EXPECT_EQ(value, 3000);
  EXPECT_EQ(p.stack().setsockopt(s, Option::user_timeout, -1), std::errc::invalid_argument);
  ASSERT_FALSE(p.stack().getsockopt(s, Option::user_timeout, value));
  EXPECT_EQ(value, 3000);

  const Opened c = p.accept_established();
  ASSERT_FALSE(p.stack().setsockopt(c.socket, Option::user_timeout, 1500));
  ASSERT_FALSE(p.stack().getsockopt(c.socket, Option::user_timeout, value));
  EXPECT_EQ(value, 1500);
  ASSERT_FALSE(p.stack().setsockopt(c.socket, Option::user_timeout, 0));
  ASSERT_FALSE(p.stack().getsockopt(c.socket, Option::user_timeout, value));
  EXPECT_EQ(value, 0);

  SocketId u = -1;
  ASSERT_FALSE(p.stack().udp_socket(u));
  EXPECT_EQ(p.stack().setsockopt(u, Option::user_timeout, 1000), std::errc::no_protocol_option);
}

// --- Data ----------------------------------------------------------------------------------------

TEST(UserTimeout, DataIsGivenUpWhenTheTimeoutEndsCountedFromTheFirstRetransmission) {
  // RTO 200 ms (the handshake measured 0), doubling as RFC 6298 (5.5) says: retransmissions
  // at 200, 600, 1400 and 3000 ms. The timeout counts from the first, at 200 ms, so it ends
  // at 3200 ms: the timer, due at 6200 ms, is brought forward to then.
  RawPeer p;
  const Opened c = p.accept_established();
  ASSERT_FALSE(p.stack().setsockopt(c.socket, Option::user_timeout, 3000));
  ASSERT_FALSE(p.write(c.socket, "hello"));
  const Instant t0 = p.expect({.flags = PSH | ACK, .seq = c.iss + 1, .payload = "hello"}).at;
  for (const int at : {200, 600, 1400, 3000}) {
    expect_retransmission_at(p, t0 + milliseconds(at), c.iss + 1);
  }
  expect_timed_out_at(p, c.socket, t0 + milliseconds(3200));
  EXPECT_EQ(p.counters().tcp.retrans_segs, 4u);
  EXPECT_EQ(p.counters().tcp.timeouts, 5u);
}

TEST(UserTimeout, ReplacesTheRetryCountForData) {
  // Two retransmissions would be the end without it; with it they go on until the time is
  // up, here 8 s after the first: at 200, 600, 1400, 3000 and 6200 ms, and the end at 8200.
  tcp::Config cfg = RawPeer::test_config();
  cfg.data_retries = 2;
  RawPeer p(cfg);
  const Opened c = p.accept_established();
  ASSERT_FALSE(p.stack().setsockopt(c.socket, Option::user_timeout, 8000));
  ASSERT_FALSE(p.write(c.socket, "hello"));
  const Instant t0 = p.expect({.flags = PSH | ACK, .seq = c.iss + 1}).at;
  for (const int at : {200, 600, 1400, 3000, 6200}) {
    expect_retransmission_at(p, t0 + milliseconds(at), c.iss + 1);
  }
  expect_timed_out_at(p, c.socket, t0 + milliseconds(8200));
}

TEST(UserTimeout, AnAckOfProgressStartsTheClockAgain) {
  // "a" goes at 0 and again at 200 and 600 ms; its ACK at 1000 ms is progress, so the clock
  // that started at 200 ms stops. "b", sent then with the backed-off RTO of 800 ms (Karn:
  // the ACK of a retransmission measures nothing), is retransmitted at 1800 and 3400 ms,
  // and the timeout, counted from 1800 ms, ends at 4800 ms, not at 3200.
  RawPeer p;
  const Opened c = p.accept_established();
  ASSERT_FALSE(p.stack().setsockopt(c.socket, Option::user_timeout, 3000));
  ASSERT_FALSE(p.write(c.socket, "a"));
  const Instant t0 = p.expect({.flags = PSH | ACK, .seq = c.iss + 1}).at;
  expect_retransmission_at(p, t0 + milliseconds(200), c.iss + 1);
  expect_retransmission_at(p, t0 + milliseconds(600), c.iss + 1);
  p.advance_to(t0 + milliseconds(1000));
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 2});
  ASSERT_FALSE(p.write(c.socket, "b"));
  p.expect({.flags = PSH | ACK, .seq = c.iss + 2, .payload = "b"});
  expect_retransmission_at(p, t0 + milliseconds(1800), c.iss + 2);
  expect_retransmission_at(p, t0 + milliseconds(3400), c.iss + 2);
  expect_timed_out_at(p, c.socket, t0 + milliseconds(4800));
}

TEST(UserTimeout, OffByDefaultSoTheRetryCountDecides) {
  tcp::Config cfg = RawPeer::test_config();
  cfg.data_retries = 2;
  RawPeer p(cfg);
  const Opened c = p.accept_established();
  ASSERT_FALSE(p.write(c.socket, "hello"));
  const Instant t0 = p.expect({.flags = PSH | ACK, .seq = c.iss + 1}).at;
  expect_retransmission_at(p, t0 + milliseconds(200), c.iss + 1);
  expect_retransmission_at(p, t0 + milliseconds(600), c.iss + 1);
  expect_timed_out_at(p, c.socket, t0 + milliseconds(1400));
}

// --- Connecting ----------------------------------------------------------------------------------

// connect() with TCP_USER_TIMEOUT set on the socket first; returns the socket, the SYN sent.
SocketId connect_with_user_timeout(RawPeer& p, int ms) {
  SocketId s = -1;
  EXPECT_FALSE(p.stack().tcp_socket(s));
  EXPECT_FALSE(p.stack().setsockopt(s, Option::user_timeout, ms));
  EXPECT_EQ(p.stack().connect(s, {RawPeer::kRemote, RawPeer::kRemotePort}),
            std::errc::operation_in_progress);
  p.poll();
  return s;
}

TEST(UserTimeout, ASynIsGivenUpWhenTheTimeoutEndsCountedFromTheFirstSyn) {
  // The SYN at 0 and again at 1 s; the next would go at 3 s, but 2.5 s after the first SYN
  // the connection is given up (Linux: retrans_stamp is set by tcp_connect).
  RawPeer p;
  const SocketId s = connect_with_user_timeout(p, 2500);
  const Seen syn = p.expect({.flags = SYN});
  p.advance_to(syn.at + seconds(1));
  p.expect({.flags = SYN, .seq = syn.header.seq});
  expect_timed_out_at(p, s, syn.at + milliseconds(2500));
  EXPECT_EQ(p.counters().tcp.attempt_fails, 1u);
}

TEST(UserTimeout, TheSynRetryCountStillEndsAConnectFirst) {
  // Linux's tcp_write_timeout: for a SYN the count and the timeout both apply.
  tcp::Config cfg = RawPeer::test_config();
  cfg.syn_retries = 1;
  RawPeer p(cfg);
  const SocketId s = connect_with_user_timeout(p, 10'000);
  const Seen syn = p.expect({.flags = SYN});
  p.advance_to(syn.at + seconds(1));
  p.expect({.flags = SYN, .seq = syn.header.seq});
  expect_timed_out_at(p, s, syn.at + seconds(3));
}

TEST(UserTimeout, AListenersChildRetransmitsItsSynAckByCountAndInheritsTheOption) {
  // On Linux the child in SYN_RECEIVED is a request socket, which resends its SYN,ACK
  // tcp_synack_retries times whatever the listener's user timeout; the accepted socket
  // then has the listener's value.
  RawPeer p;
  const SocketId l = p.listen(80);
  ASSERT_FALSE(p.stack().setsockopt(l, Option::user_timeout, 500));
  p.inject({.flags = SYN, .seq = 1000});
  const Seen synack = p.expect({.flags = SYN | ACK, .ack = 1001});
  p.advance_to(synack.at + seconds(1));
  p.expect({.flags = SYN | ACK, .seq = synack.header.seq});
  p.advance_to(synack.at + seconds(3));
  p.expect({.flags = SYN | ACK, .seq = synack.header.seq});
  p.inject({.flags = ACK, .seq = 1001, .ack = synack.header.seq + 1});
  SocketId s = -1;
  ASSERT_FALSE(p.stack().accept(l, s));
  int value = 0;
  ASSERT_FALSE(p.stack().getsockopt(s, Option::user_timeout, value));
  EXPECT_EQ(value, 500);
}

// --- A shut window and keepalive -------------------------------------------------------------

TEST(UserTimeout, AWindowShutLongerThanTheTimeoutEndsTheConnectionThoughProbesAreAnswered) {
  // Linux's tcp_probe_timer: counted from the first zero-window probe (200 ms), the window
  // may stay shut 3 s. Probes at 200, 600, 1400 and 3000 ms are answered with a zero
  // window; the next, due at 6200 ms, is brought forward to the end, 3200 ms.
  RawPeer p;
  const Opened c = p.accept_established(1000, /*window=*/0);
  ASSERT_FALSE(p.stack().setsockopt(c.socket, Option::user_timeout, 3000));
  ASSERT_FALSE(p.write(c.socket, "hello"));
  const Instant t0 = p.now();
  for (const int at : {200, 600, 1400, 3000}) {
    p.advance_to(t0 + milliseconds(at) - microseconds(1));
    p.expect_nothing();
    p.advance_to(t0 + milliseconds(at));
    p.expect({.flags = ACK, .seq = c.iss, .ack = 1001, .len = 0});
    p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 1, .window = 0});
  }
  expect_timed_out_at(p, c.socket, t0 + milliseconds(3200));
  EXPECT_EQ(p.counters().tcp.zero_window_probes, 4u);
}

TEST(UserTimeout, KeepaliveGivesUpOnTimeRatherThanOnTheProbeCount) {
  // Linux's tcp_keepalive_timer: with the option set, the connection ends at the first
  // keepalive expiry with a probe out and nothing received for the timeout. Idle 10 s,
  // interval 5 s, count 3, timeout 30 s: probes at 10, 15, 20 and 25 s (past the count),
  // and the end at 30 s.
  RawPeer p;
  const Opened c = p.accept_established();
  const Instant t0 = p.now();
  ASSERT_FALSE(p.stack().setsockopt(c.socket, Option::keepalive, 1));
  ASSERT_FALSE(p.stack().setsockopt(c.socket, Option::keep_idle, 10));
  ASSERT_FALSE(p.stack().setsockopt(c.socket, Option::keep_interval, 5));
  ASSERT_FALSE(p.stack().setsockopt(c.socket, Option::keep_count, 3));
  ASSERT_FALSE(p.stack().setsockopt(c.socket, Option::user_timeout, 30'000));
  p.poll();
  for (const int at : {10, 15, 20, 25}) {
    p.advance_to(t0 + seconds(at) - microseconds(1));
    p.expect_nothing();
    p.advance_to(t0 + seconds(at));
    p.expect({.flags = ACK, .seq = c.iss, .ack = 1001, .len = 0});
  }
  expect_timed_out_at(p, c.socket, t0 + seconds(30));
}

}  // namespace
}  // namespace synack::testing
