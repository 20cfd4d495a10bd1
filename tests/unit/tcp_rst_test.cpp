// Resets: what the stack answers to segments no connection expects (RFC 9293 §3.10.7.1
// CLOSED, §3.10.7.2 LISTEN, §3.10.7.3 SYN-SENT) and what an arriving RST does in each state
// (§3.10.7.4 second, with RFC 5961 §3.2: only an RST at exactly RCV.NXT resets, and
// RFC 1337: none ends TIME_WAIT).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/raw_peer.hpp"
#include "support/trace_recorder.hpp"

namespace synack::testing {
namespace {

using tcp::State;

// --- CLOSED: nobody on the port --------------------------------------------------------------

TEST(ClosedPort, SynGetsRstAckFromSeqZeroAckingTheWholeSegment) {
  RawPeer p;
  p.inject({.flags = SYN, .seq = 777, .payload = "hello", .dst_port = 81});
  p.expect({.flags = RST | ACK, .seq = 0, .ack = 777 + 1 + 5, .window = 0, .len = 0});
  p.expect_nothing();
  EXPECT_EQ(p.counters().tcp.no_port, 1u);
  EXPECT_EQ(p.counters().tcp.out_rsts, 1u);
}

TEST(ClosedPort, AckGetsRstAtTheAckNumber) {
  RawPeer p;
  p.inject({.flags = ACK, .seq = 100, .ack = 123456, .dst_port = 81});
  p.expect({.flags = RST, .seq = 123456, .ack = 0, .window = 0, .len = 0});
  EXPECT_EQ(p.counters().tcp.no_port, 1u);
}

TEST(ClosedPort, FinWithoutAckGetsRstAckCountingTheFin) {
  RawPeer p;
  p.inject({.flags = FIN, .seq = 100, .dst_port = 81});
  p.expect({.flags = RST | ACK, .seq = 0, .ack = 101, .window = 0, .len = 0});
}

TEST(ClosedPort, RstIsNeverAnswered) {
  RawPeer p;
  p.inject({.flags = RST, .seq = 100, .dst_port = 81});
  p.inject({.flags = RST | ACK, .seq = 100, .ack = 200, .dst_port = 81});
  p.expect_nothing();
  EXPECT_EQ(p.counters().tcp.no_port, 2u);
  EXPECT_EQ(p.counters().tcp.out_rsts, 0u);
}

// --- LISTEN -----------------------------------------------------------------------------------

TEST(Listen, AckGetsRstAtTheAckNumber) {
  RawPeer p;
  p.listen(80);
  p.inject({.flags = ACK, .seq = 1000, .ack = 4242});
  p.expect({.flags = RST, .seq = 4242, .ack = 0, .window = 0, .len = 0});
  EXPECT_EQ(p.counters().tcp.bad_ack, 1u);
  EXPECT_EQ(p.stack().connection_count(), 0u);
}

TEST(Listen, RstIsIgnored) {
  RawPeer p;
  const SocketId l = p.listen(80);
  p.inject({.flags = RST, .seq = 1000});
  p.expect_nothing();
  EXPECT_EQ(p.counters().tcp.rst_ignored, 1u);
  EXPECT_EQ(p.stack().tcp_state(l), State::Listen);
}

TEST(Listen, SegmentWithNeitherSynNorAckIsDropped) {
  RawPeer p;
  p.listen(80);
  p.inject({.flags = FIN, .seq = 1000});
  p.inject({.flags = PSH, .seq = 1000, .payload = "data"});
  p.expect_nothing();
  EXPECT_EQ(p.stack().connection_count(), 0u);
}

// --- SYN_SENT (3.10.7.3) ----------------------------------------------------------------------

TEST(SynSent, RstAckingOurSynRefusesTheConnection) {
  RawPeer p;
  const SocketId s = p.connect_from_stack();
  const std::uint32_t iss = p.expect({.flags = SYN}).header.seq;
  p.inject({.flags = RST | ACK, .seq = 0, .ack = iss + 1, .window = 0});
  p.expect_nothing();
  EXPECT_EQ(p.stack().tcp_state(s), State::Closed);
  EXPECT_EQ(p.counters().tcp.in_rsts, 1u);
  EXPECT_EQ(p.counters().tcp.attempt_fails, 1u);
  const Readiness r = p.stack().readiness(s);
  EXPECT_TRUE(r.error);
  EXPECT_TRUE(r.hangup);
  std::string got;
  EXPECT_EQ(p.read(s, got), std::errc::connection_refused);
  EXPECT_FALSE(p.read(s, got)) << "then end of stream";
  EXPECT_EQ(p.write(s, "x"), std::errc::broken_pipe);
  p.advance(seconds(10));
  p.expect_nothing();  // no SYN retransmitted
}

TEST(SynSent, RstWithAnUnacceptableAckIsIgnored) {
  RawPeer p;
  const SocketId s = p.connect_from_stack();
  const std::uint32_t iss = p.expect({.flags = SYN}).header.seq;
  p.inject({.flags = RST | ACK, .seq = 0, .ack = iss});  // does not acknowledge the SYN
  p.inject({.flags = RST | ACK, .seq = 0, .ack = iss + 2});
  p.expect_nothing();  // an RST is never answered
  EXPECT_EQ(p.stack().tcp_state(s), State::SynSent);
  EXPECT_EQ(p.counters().tcp.bad_ack, 2u);
  EXPECT_FALSE(p.stack().socket_error(s));
}

TEST(SynSent, RstWithoutAckIsIgnored) {
  RawPeer p;
  const SocketId s = p.connect_from_stack();
  const std::uint32_t iss = p.expect({.flags = SYN}).header.seq;
  p.inject({.flags = RST, .seq = 0});
  p.expect_nothing();
  EXPECT_EQ(p.stack().tcp_state(s), State::SynSent);
  EXPECT_EQ(p.counters().tcp.rst_ignored, 1u);
  p.inject({.flags = SYN | ACK, .seq = 5000, .ack = iss + 1});
  p.expect({.flags = ACK, .seq = iss + 1, .ack = 5001});
  EXPECT_EQ(p.stack().tcp_state(s), State::Established);
}

TEST(SynSent, AckNotForOurSynGetsRstAtItsAckNumber) {
  RawPeer p;
  const SocketId s = p.connect_from_stack();
  const std::uint32_t iss = p.expect({.flags = SYN}).header.seq;
  p.inject({.flags = SYN | ACK, .seq = 5000, .ack = iss + 100});
  p.expect({.flags = RST, .seq = iss + 100, .ack = 0, .window = 0, .len = 0});
  EXPECT_EQ(p.stack().tcp_state(s), State::SynSent);
  EXPECT_EQ(p.counters().tcp.bad_ack, 1u);
}

// --- SYN_RECEIVED -----------------------------------------------------------------------------

TEST(SynReceived, RstInWindowButNotAtRcvNxtGetsChallengeAck) {
  // RFC 5961 §3.2 holds in SYN_RECEIVED too (Linux resets a half-open child on any
  // in-window RST instead).
  RawPeer p;
  p.listen(80);
  p.inject({.flags = SYN, .seq = 1000});
  const std::uint32_t iss = p.expect({.flags = SYN | ACK, .ack = 1001}).header.seq;
  p.inject({.flags = RST, .seq = 1500});
  p.expect({.flags = ACK, .seq = iss + 1, .ack = 1001, .window = 65535, .len = 0});
  EXPECT_EQ(p.in_state(State::SynReceived), 1u);
  EXPECT_EQ(p.counters().tcp.rst_ignored, 1u);
  EXPECT_EQ(p.counters().tcp.challenge_acks, 1u);
}

TEST(SynReceived, RstOutsideTheWindowIsIgnoredSilently) {
  RawPeer p;
  p.listen(80);
  p.inject({.flags = SYN, .seq = 1000});
  p.expect({.flags = SYN | ACK, .ack = 1001});
  p.inject({.flags = RST, .seq = 1001 + 70000});
  p.expect_nothing();
  EXPECT_EQ(p.in_state(State::SynReceived), 1u);
  EXPECT_EQ(p.counters().tcp.out_of_window, 1u);
}

TEST(SynReceived, AckOfSomethingNotSentGetsRstAndTheChildStays) {
  // 3.10.7.4 fifth, SYN-RECEIVED: an unacceptable ACK gets <SEQ=SEG.ACK><CTL=RST>.
  RawPeer p;
  const SocketId l = p.listen(80);
  p.inject({.flags = SYN, .seq = 1000});
  const std::uint32_t iss = p.expect({.flags = SYN | ACK, .ack = 1001}).header.seq;
  p.inject({.flags = ACK, .seq = 1001, .ack = iss + 100});
  p.expect({.flags = RST, .seq = iss + 100, .ack = 0, .window = 0, .len = 0});
  EXPECT_EQ(p.counters().tcp.bad_ack, 1u);
  EXPECT_EQ(p.in_state(State::SynReceived), 1u);
  p.inject({.flags = ACK, .seq = 1001, .ack = iss + 1});
  SocketId c = -1;
  EXPECT_FALSE(p.stack().accept(l, c));
}

// --- ESTABLISHED ------------------------------------------------------------------------------

TEST(Established, RstAtRcvNxtResetsThenReadGivesEndOfStreamAndWriteBrokenPipe) {
  RawPeer p;
  const Opened c = p.accept_established();
  p.inject({.flags = RST, .seq = 1001});
  p.expect_nothing();
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::Closed);
  EXPECT_EQ(p.counters().tcp.in_rsts, 1u);
  EXPECT_EQ(p.counters().tcp.estab_resets, 1u);
  const Readiness r = p.stack().readiness(c.socket);
  EXPECT_TRUE(r.readable);
  EXPECT_TRUE(r.error);
  EXPECT_TRUE(r.hangup);
  std::string got;
  EXPECT_EQ(p.read(c.socket, got), std::errc::connection_reset);
  EXPECT_FALSE(p.read(c.socket, got));
  EXPECT_EQ(got, "") << "end of stream";
  EXPECT_EQ(p.write(c.socket, "x"), std::errc::broken_pipe);
  p.expect_nothing();
}

TEST(Established, WriteAfterResetReportsTheResetOnceThenBrokenPipe) {
  RawPeer p;
  const Opened c = p.accept_established();
  p.inject({.flags = RST | ACK, .seq = 1001, .ack = c.iss + 1});
  EXPECT_EQ(p.write(c.socket, "x"), std::errc::connection_reset);
  EXPECT_EQ(p.write(c.socket, "x"), std::errc::broken_pipe);
  EXPECT_FALSE(p.stack().socket_error(c.socket)) << "the error was taken by write()";
  p.expect_nothing();
}

TEST(Established, RstFlushesUnreadData) {
  // RFC 9293 3.10.7.4 second: "All segment queues should be flushed".
  RawPeer p;
  const Opened c = p.accept_established();
  p.inject({.flags = ACK | PSH, .seq = 1001, .ack = c.iss + 1, .payload = "unread"});
  p.inject({.flags = RST, .seq = 1007});
  std::string got;
  EXPECT_EQ(p.read(c.socket, got), std::errc::connection_reset);
  EXPECT_EQ(got, "");
  p.expect_nothing();  // nor the delayed ACK
  p.advance(seconds(1));
  p.expect_nothing();
}

TEST(Established, RstInWindowButNotAtRcvNxtGetsChallengeAck) {
  RawPeer p;
  const Opened c = p.accept_established();
  p.inject({.flags = RST, .seq = 1002});
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 1001, .window = 65535, .len = 0});
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::Established);
  EXPECT_EQ(p.counters().tcp.rst_ignored, 1u);
  EXPECT_EQ(p.counters().tcp.challenge_acks, 1u);
  EXPECT_EQ(p.counters().tcp.in_rsts, 0u);
  EXPECT_FALSE(p.stack().socket_error(c.socket));
}

TEST(Established, RstOutsideTheWindowIsIgnoredSilently) {
  RawPeer p;
  const Opened c = p.accept_established();
  p.inject({.flags = RST, .seq = 1001 + 65536});
  p.inject({.flags = RST, .seq = 1000});
  p.expect_nothing();
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::Established);
  EXPECT_EQ(p.counters().tcp.out_of_window, 2u);
}

TEST(Established, AckOfUnsentDataIsAnsweredWithAckAndTheSegmentDropped) {
  RawPeer p;
  const Opened c = p.accept_established();
  p.inject({.flags = ACK | PSH, .seq = 1001, .ack = c.iss + 100, .payload = "hello"});
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 1001, .window = 65535, .len = 0});
  EXPECT_EQ(p.counters().tcp.bad_ack, 1u);
  std::string got;
  EXPECT_EQ(p.read(c.socket, got), std::errc::resource_unavailable_try_again);
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::Established);
}

// RFC 5961 §5.2: the acceptable ACKs are SND.UNA - MAX.SND.WND =< SEG.ACK =< SND.NXT. The
// peer never offered more than 65535, so an ACK 65535 below SND.UNA may still be a late
// duplicate (its data is taken); one further back is a blind injection: dropped, data and
// all, with a challenge ACK.
TEST(Established, AckTooOldIsAnsweredWithAChallengeAckAndTheSegmentDropped) {
  RawPeer p;
  const Opened c = p.accept_established();
  p.inject({.flags = ACK | PSH, .seq = 1001, .ack = c.iss + 1 - 65536, .payload = "forged"});
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 1001, .window = 65535, .len = 0});
  EXPECT_EQ(p.counters().tcp.ack_too_old, 1u);
  EXPECT_EQ(p.counters().tcp.challenge_acks, 1u);
  std::string got;
  EXPECT_EQ(p.read(c.socket, got), std::errc::resource_unavailable_try_again);
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::Established);
}

TEST(Established, AckOneMaxWindowOldIsStillAcceptableAndItsDataTaken) {
  RawPeer p;
  const Opened c = p.accept_established();
  p.inject({.flags = ACK | PSH, .seq = 1001, .ack = c.iss + 1 - 65535, .payload = "late"});
  EXPECT_EQ(p.counters().tcp.ack_too_old, 0u);
  EXPECT_EQ(p.counters().tcp.old_ack, 1u);
  std::string got;
  EXPECT_FALSE(p.read(c.socket, got));
  EXPECT_EQ(got, "late");
}

TEST(Established, SegmentWithoutAckIsDropped) {
  RawPeer p;
  const Opened c = p.accept_established();
  p.inject({.flags = PSH, .seq = 1001, .payload = "hello"});
  p.expect_nothing();
  EXPECT_EQ(p.counters().tcp.no_ack_flag, 1u);
  std::string got;
  EXPECT_EQ(p.read(c.socket, got), std::errc::resource_unavailable_try_again);
}

// --- The closing states -----------------------------------------------------------------------

TEST(FinWait1, RstAtRcvNxtResetsTheConnection) {
  RawPeer p;
  const Opened c = p.accept_in_state(State::FinWait1);
  p.inject({.flags = RST, .seq = 1001});
  p.expect_nothing();
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::Closed);
  EXPECT_EQ(p.stack().socket_error(c.socket), std::errc::connection_reset);
  EXPECT_EQ(p.counters().tcp.estab_resets, 0u) << "counted for ESTABLISHED and CLOSE_WAIT only";
  p.advance(seconds(10));
  p.expect_nothing();  // the FIN is not retransmitted
}

TEST(FinWait1, RstOnAnOrphanFreesTheConnection) {
  RawPeer p;
  const Opened c = p.accept_established();
  ASSERT_FALSE(p.close(c.socket));
  p.expect({.flags = FIN | ACK, .seq = c.iss + 1});
  p.inject({.flags = RST, .seq = 1001});
  p.expect_nothing();
  EXPECT_EQ(p.stack().connection_count(), 0u);
}

TEST(FinWait2, RstAtRcvNxtResetsTheConnection) {
  RawPeer p;
  const Opened c = p.accept_in_state(State::FinWait2);
  p.inject({.flags = RST, .seq = 1001});
  p.expect_nothing();
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::Closed);
  std::string got;
  EXPECT_EQ(p.read(c.socket, got), std::errc::connection_reset);
}

TEST(CloseWait, RstAfterThePeersFinResetsTheConnection) {
  // RFC 9293: CLOSE_WAIT reports "reset" like ESTABLISHED (Linux reports EPIPE here).
  RawPeer p;
  const Opened c = p.accept_in_state(State::CloseWait);
  p.inject({.flags = RST, .seq = 1002});  // RCV.NXT is past the FIN
  p.expect_nothing();
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::Closed);
  EXPECT_EQ(p.counters().tcp.estab_resets, 1u);
  EXPECT_EQ(p.write(c.socket, "x"), std::errc::connection_reset);
  EXPECT_EQ(p.write(c.socket, "x"), std::errc::broken_pipe);
}

TEST(Closing, RstClosesWithoutAnError) {
  // 3.10.7.4 second, CLOSING, LAST-ACK, TIME-WAIT: enter CLOSED, delete the TCB, return.
  RawPeer p;
  const Opened c = p.accept_in_state(State::Closing);
  p.inject({.flags = RST, .seq = 1002});
  p.expect_nothing();
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::Closed);
  EXPECT_FALSE(p.stack().socket_error(c.socket));
  EXPECT_EQ(p.counters().tcp.in_rsts, 1u);
  p.advance(seconds(10));
  p.expect_nothing();  // our FIN is not retransmitted
}

TEST(LastAck, RstClosesWithoutAnError) {
  RawPeer p;
  const Opened c = p.accept_in_state(State::LastAck);
  p.inject({.flags = RST, .seq = 1002});
  p.expect_nothing();
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::Closed);
  EXPECT_FALSE(p.stack().socket_error(c.socket));
  std::string got;
  EXPECT_FALSE(p.read(c.socket, got)) << "end of stream, as before the RST";
}

TEST(TimeWait, RstIsDroppedAndTheWaitStillEndsAtTwoMsl) {
  // RFC 1337 §3 (fix TH1): an RST in TIME_WAIT must not end it, or an old duplicate RST
  // could "assassinate" the wait. Unlike Linux's default (net.ipv4.tcp_rfc1337 = 0), every
  // RST is dropped: at RCV.NXT, with ACK, or elsewhere in the window (no challenge ACK).
  // The 2·MSL timer is not touched.
  RawPeer p;
  TraceRecorder trace(p.stack());
  const Opened c = p.accept_in_state(State::TimeWait);
  const Instant began = p.now();
  ASSERT_FALSE(p.close(c.socket));
  EXPECT_EQ(p.in_state(State::TimeWait), 1u);
  p.advance(seconds(10));
  p.inject({.flags = RST, .seq = 1002});  // exactly at RCV.NXT
  p.inject({.flags = RST | ACK, .seq = 1002, .ack = c.iss + 2});
  p.inject({.flags = RST, .seq = 1500});  // in the window, not at RCV.NXT
  p.expect_nothing();
  EXPECT_EQ(p.in_state(State::TimeWait), 1u);
  EXPECT_EQ(p.counters().tcp.time_wait_rsts, 3u);
  EXPECT_EQ(p.counters().tcp.in_rsts, 0u);
  EXPECT_EQ(p.counters().tcp.challenge_acks, 0u);
  EXPECT_EQ(trace.drops(), std::vector<std::string>(3, "tcp: RST in TIME_WAIT (RFC 1337)"));

  p.advance_to(began + seconds(60) - microseconds(1));
  EXPECT_EQ(p.in_state(State::TimeWait), 1u) << "the RSTs did not cut the wait short";
  p.advance_to(began + seconds(60));
  EXPECT_EQ(p.in_state(State::TimeWait), 0u) << "... nor lengthen it";
  EXPECT_EQ(p.stack().connection_count(), 0u);
  p.expect_nothing();
}

TEST(TimeWait, RstBelowRcvNxtIsIgnored) {
  RawPeer p;
  const Opened c = p.accept_in_state(State::TimeWait);
  p.inject({.flags = RST, .seq = 1001});
  p.expect_nothing();
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::TimeWait);
  EXPECT_EQ(p.counters().tcp.out_of_window, 1u);
}

}  // namespace
}  // namespace synack::testing
