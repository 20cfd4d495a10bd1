// The listener (RFC 9293 §3.10.7.2): old duplicate SYNs (§3.5, Figure 9), SYN,ACK
// retransmission, the backlog and its counters, a SYN reopening a TIME_WAIT 4-tuple
// (RFC 9293 §3.6.1, RFC 6191), and closing a listener.
#include <gtest/gtest.h>

#include <vector>

#include "support/raw_peer.hpp"
#include "tcp/seq.hpp"

namespace synack::testing {
namespace {

using tcp::State;

// --- Old duplicate SYNs -----------------------------------------------------------------------

TEST(OldDuplicateSyn, IsResetByThePeerAndLeavesNoTrace) {
  // Figure 9: the peer (TCP A) has sent SYN 100, but an old SYN 90 arrives first.
  RawPeer p;
  const SocketId l = p.listen(80);
  p.inject({.flags = SYN, .seq = 90});
  p.expect({.flags = SYN | ACK, .ack = 91, .window = 65535, .len = 0});
  EXPECT_EQ(p.in_state(State::SynReceived), 1u);
  // A, in SYN_SENT, finds ACK 91 unacceptable and answers <SEQ=91><CTL=RST> (line 5).
  p.inject({.flags = RST, .seq = 91});
  p.expect_nothing();
  EXPECT_EQ(p.stack().connection_count(), 0u);
  EXPECT_FALSE(p.stack().readiness(l).readable);
  SocketId c = -1;
  EXPECT_EQ(p.stack().accept(l, c), std::errc::resource_unavailable_try_again);

  // Lines 6 to 8: the real SYN 100 arrives and the handshake completes.
  p.inject({.flags = SYN, .seq = 100});
  const std::uint32_t iss = p.expect({.flags = SYN | ACK, .ack = 101, .len = 0}).header.seq;
  p.inject({.flags = ACK, .seq = 101, .ack = iss + 1});
  p.expect_nothing();
  ASSERT_FALSE(p.stack().accept(l, c));
  EXPECT_EQ(p.stack().tcp_state(c), State::Established);
  EXPECT_EQ(p.counters().tcp.passive_opens, 2u);
  EXPECT_EQ(p.counters().tcp.attempt_fails, 1u);
}

TEST(OldDuplicateSyn, OnAnEstablishedConnectionGetsAnAckAndChangesNothing) {
  RawPeer p;
  const Opened c = p.accept_established();
  p.inject({.flags = SYN, .seq = 90});  // below RCV.NXT: not acceptable
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 1001, .window = 65535, .len = 0});
  EXPECT_EQ(p.counters().tcp.out_of_window, 1u);
  p.inject({.flags = SYN, .seq = 1500});  // in the window: RFC 5961 §4.2 challenge ACK
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 1001, .window = 65535, .len = 0});
  EXPECT_EQ(p.counters().tcp.challenge_acks, 1u);
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::Established);
  EXPECT_EQ(p.stack().connection_count(), 1u);

  p.inject({.flags = PSH | ACK, .seq = 1001, .ack = c.iss + 1, .payload = "still here"});
  std::string got;
  EXPECT_FALSE(p.read(c.socket, got));
  EXPECT_EQ(got, "still here");
}

// --- SYN_RECEIVED children --------------------------------------------------------------------

TEST(Listen, RetransmittedSynGetsTheSameSynAckAgain) {
  RawPeer p;
  p.listen(80);
  p.inject({.flags = SYN, .seq = 1000});
  const std::uint32_t iss = p.expect({.flags = SYN | ACK, .ack = 1001}).header.seq;
  p.inject({.flags = SYN, .seq = 1000});
  p.expect({.flags = SYN | ACK, .seq = iss, .ack = 1001, .window = 65535, .len = 0});
  p.expect_nothing();
  EXPECT_EQ(p.counters().tcp.passive_opens, 1u) << "no second child";
  EXPECT_EQ(p.counters().tcp.retrans_segs, 1u);
}

TEST(Listen, SynAckIsRetransmittedWithBackoffThenTheChildGivesUp) {
  tcp::Config cfg = RawPeer::test_config();
  cfg.synack_retries = 2;
  RawPeer p(cfg);
  p.listen(80, /*backlog=*/1);
  p.inject({.flags = SYN, .seq = 1000});
  const Seen first = p.expect({.flags = SYN | ACK, .ack = 1001});
  p.advance_to(first.at + seconds(1));
  p.expect({.flags = SYN | ACK, .seq = first.header.seq, .ack = 1001, .len = 0});
  p.advance_to(first.at + seconds(1 + 2));
  p.expect({.flags = SYN | ACK, .seq = first.header.seq, .ack = 1001, .len = 0});
  p.advance_to(first.at + seconds(1 + 2 + 4) - microseconds(1));
  EXPECT_EQ(p.in_state(State::SynReceived), 1u);
  p.advance_to(first.at + seconds(1 + 2 + 4));
  p.expect_nothing();
  EXPECT_EQ(p.stack().connection_count(), 0u);
  EXPECT_EQ(p.counters().tcp.attempt_fails, 1u);
  // Its place in the backlog is free again.
  p.inject({.flags = SYN, .seq = 2000, .src_port = 40001});
  p.expect({.flags = SYN | ACK, .ack = 2001});
}

TEST(Listen, SynWithDataGetsASynAckForTheSynOnly) {
  // No TCP Fast Open: the SYN's data is not taken; the client sends it again.
  RawPeer p;
  p.listen(80);
  p.inject({.flags = SYN, .seq = 1000, .payload = "early"});
  p.expect({.flags = SYN | ACK, .ack = 1001, .window = 65535, .len = 0});
}

TEST(Listen, DataOnTheFinalAckIsDeliveredAfterAccept) {
  RawPeer p;
  const SocketId l = p.listen(80);
  p.inject({.flags = SYN, .seq = 1000});
  const std::uint32_t iss = p.expect({.flags = SYN | ACK, .ack = 1001}).header.seq;
  p.inject({.flags = PSH | ACK, .seq = 1001, .ack = iss + 1, .payload = "GET /"});
  p.expect_nothing();  // the ACK of the data is delayed
  SocketId c = -1;
  ASSERT_FALSE(p.stack().accept(l, c));
  std::string got;
  EXPECT_FALSE(p.read(c, got));
  EXPECT_EQ(got, "GET /");
}

TEST(Listen, ConnectionResetBeforeAcceptIsStillAcceptedAndReportsTheReset) {
  // As on Linux: accept() returns it, and its first read reports the reset.
  RawPeer p;
  const SocketId l = p.listen(80);
  p.handshake_to(80, 1000);
  EXPECT_TRUE(p.stack().readiness(l).readable);
  p.inject({.flags = RST, .seq = 1001});
  p.expect_nothing();
  EXPECT_TRUE(p.stack().readiness(l).readable);
  SocketId c = -1;
  ASSERT_FALSE(p.stack().accept(l, c));
  EXPECT_EQ(p.stack().tcp_state(c), State::Closed);
  std::vector<std::uint8_t> buf(16);
  std::size_t n = 0;
  EXPECT_EQ(p.stack().read(c, buf, n), std::errc::connection_reset);
  EXPECT_EQ(p.stack().read(c, buf, n), std::error_code{}) << "then end of stream";
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(p.counters().tcp.estab_resets, 1u);
  p.stack().close(c);
  EXPECT_EQ(p.stack().connection_count(), 0u);
}

// --- The backlog ------------------------------------------------------------------------------

TEST(Backlog, SynsBeyondTheBacklogAreDroppedWithoutSynCookies) {
  tcp::Config config = RawPeer::test_config();
  config.syn_cookies = false;  // with them, tcp_syn_cookie_test.cpp
  RawPeer p(config);
  p.listen(80, /*backlog=*/2);
  p.inject({.flags = SYN, .seq = 1000, .src_port = 40001});
  p.expect({.flags = SYN | ACK, .ack = 1001});
  p.inject({.flags = SYN, .seq = 2000, .src_port = 40002});
  p.expect({.flags = SYN | ACK, .ack = 2001});
  p.inject({.flags = SYN, .seq = 3000, .src_port = 40003});
  p.expect_nothing();  // the client will retry
  EXPECT_EQ(p.counters().tcp.syn_dropped, 1u);
  EXPECT_EQ(p.counters().tcp.passive_opens, 2u);
  EXPECT_EQ(p.in_state(State::SynReceived), 2u);
}

TEST(Backlog, SynIsDroppedWhileTheAcceptQueueIsFullAndTakenOnceAcceptMakesRoom) {
  RawPeer p;
  const SocketId l = p.listen(80, /*backlog=*/1);
  p.handshake_to(80, 1000);
  p.inject({.flags = SYN, .seq = 2000, .src_port = 40002});
  p.expect_nothing();
  EXPECT_EQ(p.counters().tcp.syn_dropped, 1u);
  SocketId c = -1;
  ASSERT_FALSE(p.stack().accept(l, c));
  p.inject({.flags = SYN, .seq = 2000, .src_port = 40002});  // the client's retry
  p.expect({.flags = SYN | ACK, .ack = 2001});
}

TEST(Backlog, FinalAckFindingTheAcceptQueueFullIsDroppedUntilAcceptMakesRoom) {
  RawPeer p;
  const SocketId l = p.listen(80, /*backlog=*/2);
  const auto syn = [&](std::uint16_t port, std::uint32_t seq) {
    p.inject({.flags = SYN, .seq = seq, .src_port = port});
    return p.expect({.flags = SYN | ACK, .ack = seq + 1});
  };
  const auto ack = [&](std::uint16_t port, std::uint32_t seq, const Seen& synack) {
    p.inject({.flags = ACK, .seq = seq + 1, .ack = synack.header.seq + 1, .src_port = port});
  };
  const Seen a = syn(40001, 1000);
  const Seen b = syn(40002, 2000);
  ack(40001, 1000, a);
  const Seen c = syn(40003, 3000);  // one half-open and one queued: room for it
  ack(40002, 2000, b);              // the accept queue is now full
  ack(40003, 3000, c);
  p.expect_nothing();
  EXPECT_EQ(p.counters().tcp.listen_overflows, 1u);
  EXPECT_EQ(p.in_state(State::SynReceived), 1u) << "C stays half-open";

  // Linux (tcp_abort_on_overflow = 0): C's SYN,ACK is retransmitted on its timer ...
  p.advance_to(c.at + seconds(1));
  p.expect({.flags = SYN | ACK, .seq = c.header.seq, .ack = 3001, .len = 0});
  // ... and the peer's answer completes the handshake once accept() has made room.
  SocketId s = -1;
  Endpoint peer;
  ASSERT_FALSE(p.stack().accept(l, s, &peer));
  EXPECT_EQ(peer.port, 40001);
  ack(40003, 3000, c);
  p.expect_nothing();
  EXPECT_EQ(p.in_state(State::SynReceived), 0u);
  ASSERT_FALSE(p.stack().accept(l, s, &peer));
  EXPECT_EQ(peer.port, 40002);
  ASSERT_FALSE(p.stack().accept(l, s, &peer));
  EXPECT_EQ(peer.port, 40003);
  EXPECT_EQ(p.stack().tcp_state(s), State::Established);
}

// --- A new SYN for a 4-tuple in TIME_WAIT ------------------------------------------------------

// The server closes first, so the TIME_WAIT is on our side while the listener stays.
Opened server_time_wait(RawPeer& p) {
  const Opened c = p.accept_established();
  EXPECT_FALSE(p.close(c.socket));
  p.expect({.flags = FIN | ACK, .seq = c.iss + 1, .ack = 1001});
  p.inject({.flags = FIN | ACK, .seq = 1001, .ack = c.iss + 2});
  p.expect({.flags = ACK, .seq = c.iss + 2, .ack = 1002});
  EXPECT_EQ(p.in_state(State::TimeWait), 1u);
  return c;
}

TEST(TimeWait, NewSynAboveRcvNxtReopensTheConnectionWithAnIssPastTheOld) {
  RawPeer p;
  const Opened old = server_time_wait(p);
  const std::uint32_t old_snd_nxt = old.iss + 2;
  p.inject({.flags = SYN, .seq = 50000});
  const Seen synack = p.expect({.flags = SYN | ACK, .ack = 50001, .window = 65535, .len = 0});
  // Past the old SND.NXT by more than any window the old peer could have been offered,
  // so no old duplicate can be taken for part of the new connection.
  EXPECT_TRUE(tcp::after(tcp::Seq(synack.header.seq), tcp::Seq(old_snd_nxt + 65535)))
      << synack.header.seq << " vs old SND.NXT " << old_snd_nxt;
  EXPECT_EQ(p.counters().tcp.time_wait_reused, 1u);
  EXPECT_EQ(p.in_state(State::TimeWait), 0u);

  p.inject({.flags = ACK, .seq = 50001, .ack = synack.header.seq + 1});
  p.expect_nothing();
  SocketId s = -1;
  ASSERT_FALSE(p.stack().accept(old.listener, s));
  EXPECT_EQ(p.stack().tcp_state(s), State::Established);
}

TEST(TimeWait, ClosingTheOldSocketAfterAReopenLeavesTheNewConnectionItsSegments) {
  RawPeer p;
  // TIME_WAIT with the application's socket still open (shutdown, not close).
  const Opened old = p.accept_in_state(State::TimeWait);
  p.inject({.flags = SYN, .seq = 50000});
  const Seen synack = p.expect({.flags = SYN | ACK, .ack = 50001, .window = 65535, .len = 0});
  EXPECT_EQ(p.counters().tcp.time_wait_reused, 1u);
  p.inject({.flags = ACK, .seq = 50001, .ack = synack.header.seq + 1});
  p.expect_nothing();
  // The old incarnation's socket closes now: the 4-tuple is the new connection's.
  ASSERT_FALSE(p.close(old.socket));
  p.inject({.flags = ACK | PSH, .seq = 50001, .ack = synack.header.seq + 1, .payload = "hi"});
  p.expect_nothing();  // taken by the new connection (its ACK delayed), not a RST
  SocketId s = -1;
  ASSERT_FALSE(p.stack().accept(old.listener, s));
  std::string got;
  ASSERT_FALSE(p.read(s, got));
  EXPECT_EQ(got, "hi");
}

TEST(TimeWait, SynAtOrBelowRcvNxtGetsTheTimeWaitAck) {
  RawPeer p;
  const Opened old = server_time_wait(p);
  p.inject({.flags = SYN, .seq = 500});
  p.expect({.flags = ACK, .seq = old.iss + 2, .ack = 1002, .len = 0});
  p.inject({.flags = SYN, .seq = 1002});  // at RCV.NXT: not above it
  p.expect({.flags = ACK, .seq = old.iss + 2, .ack = 1002, .len = 0});
  p.expect_nothing();
  EXPECT_EQ(p.in_state(State::TimeWait), 1u);
  EXPECT_EQ(p.counters().tcp.time_wait_reused, 0u);
  EXPECT_EQ(p.counters().tcp.passive_opens, 1u);
}

TEST(TimeWait, SynWithoutAListenerGetsTheTimeWaitAck) {
  RawPeer p;
  const Opened c = p.connect_established();
  ASSERT_FALSE(p.close(c.socket));
  p.expect({.flags = FIN | ACK, .seq = c.iss + 1, .ack = 5001});
  p.inject({.flags = FIN | ACK, .seq = 5001, .ack = c.iss + 2});
  p.expect({.flags = ACK, .seq = c.iss + 2, .ack = 5002});
  p.inject({.flags = SYN, .seq = 90000});
  p.expect({.flags = ACK, .seq = c.iss + 2, .ack = 5002, .len = 0});
  EXPECT_EQ(p.in_state(State::TimeWait), 1u);
}

// --- Closing a listener -----------------------------------------------------------------------

TEST(Listen, ClosingResetsAConnectionWaitingToBeAccepted) {
  RawPeer p;
  const SocketId l = p.listen(80);
  const std::uint32_t iss = p.handshake_to(80, 1000);
  ASSERT_FALSE(p.close(l));
  p.expect({.flags = RST | ACK, .seq = iss + 1, .ack = 1001, .window = 0, .len = 0});
  p.expect_nothing();
  EXPECT_EQ(p.stack().connection_count(), 0u);
}

TEST(Listen, ClosingResetsAHalfOpenChild) {
  // Linux drops its request sockets silently here; we reset them like the queued ones.
  RawPeer p;
  const SocketId l = p.listen(80);
  p.inject({.flags = SYN, .seq = 1000});
  const std::uint32_t iss = p.expect({.flags = SYN | ACK, .ack = 1001}).header.seq;
  ASSERT_FALSE(p.close(l));
  p.expect({.flags = RST | ACK, .seq = iss + 1, .ack = 1001, .window = 0, .len = 0});
  EXPECT_EQ(p.stack().connection_count(), 0u);
  p.advance(seconds(5));
  p.expect_nothing();
}

}  // namespace
}  // namespace synack::testing
