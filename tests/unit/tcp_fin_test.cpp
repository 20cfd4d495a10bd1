// FINs and the end of a connection: a FIN arriving in each state (RFC 9293 §3.10.7.4 eighth),
// data around the FIN, close() and its variants (unread data, SO_LINGER 0, orphans),
// shutdown(write), and TIME_WAIT's 2·MSL (§3.6).
#include <gtest/gtest.h>

#include "support/raw_peer.hpp"

namespace synack::testing {
namespace {

using tcp::State;

// --- A FIN in each state ----------------------------------------------------------------------

TEST(Fin, InEstablishedIsAckedAtOnceAndReadsAsEndOfStream) {
  RawPeer p;
  const Opened c = p.accept_established();
  p.inject({.flags = FIN | ACK, .seq = 1001, .ack = c.iss + 1});
  const Seen ack = p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 1002, .len = 0});
  EXPECT_EQ(ack.at, p.now()) << "a FIN is acknowledged without delay";
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::CloseWait);
  EXPECT_TRUE(p.stack().readiness(c.socket).readable);
  EXPECT_TRUE(p.stack().readiness(c.socket).writable) << "our half is still open";
  std::string got;
  EXPECT_FALSE(p.read(c.socket, got));
  EXPECT_EQ(got, "");
}

TEST(Fin, WithDataDeliversTheDataThenEndOfStream) {
  RawPeer p;
  const Opened c = p.accept_established();
  p.inject({.flags = FIN | PSH | ACK, .seq = 1001, .ack = c.iss + 1, .payload = "hello"});
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 1007, .len = 0});
  std::string got;
  EXPECT_FALSE(p.read(c.socket, got));
  EXPECT_EQ(got, "hello");
  EXPECT_FALSE(p.read(c.socket, got));
  EXPECT_EQ(got, "") << "then end of stream";
}

TEST(Fin, OutOfOrderIsNotTakenAndGetsADuplicateAck) {
  RawPeer p;
  const Opened c = p.accept_established();
  // The FIN says the stream ends at 1011, but 1001..1010 have not arrived.
  p.inject({.flags = FIN | ACK, .seq = 1011, .ack = c.iss + 1});
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 1001, .window = 65535, .len = 0});
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::Established);
  EXPECT_EQ(p.counters().tcp.out_of_order, 1u);
  std::string got;
  EXPECT_EQ(p.read(c.socket, got), std::errc::resource_unavailable_try_again);

  // There is no reassembly queue: the peer resends the hole and the FIN.
  p.inject({.flags = FIN | PSH | ACK, .seq = 1001, .ack = c.iss + 1, .payload = "0123456789"});
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 1012});
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::CloseWait);
}

TEST(Fin, OutOfOrderWithDataIsNotTaken) {
  RawPeer p;
  const Opened c = p.accept_established();
  p.inject({.flags = FIN | ACK, .seq = 1011, .ack = c.iss + 1, .payload = "late"});
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 1001, .len = 0});
  p.expect_nothing();
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::Established);
  EXPECT_EQ(p.counters().tcp.out_of_order, 1u);
}

TEST(Fin, AckWithFinCompletesTheHandshakeIntoCloseWait) {
  RawPeer p;
  const SocketId l = p.listen(80);
  p.inject({.flags = SYN, .seq = 1000});
  const std::uint32_t iss = p.expect({.flags = SYN | ACK, .ack = 1001}).header.seq;
  p.inject({.flags = FIN | ACK, .seq = 1001, .ack = iss + 1});
  p.expect({.flags = ACK, .seq = iss + 1, .ack = 1002, .len = 0});
  SocketId c = -1;
  ASSERT_FALSE(p.stack().accept(l, c));
  EXPECT_EQ(p.stack().tcp_state(c), State::CloseWait);
  std::string got;
  EXPECT_FALSE(p.read(c, got));
  EXPECT_EQ(got, "");
}

TEST(Fin, SynAckWithFinGoesFromSynSentToCloseWait) {
  RawPeer p;
  const SocketId s = p.connect_from_stack();
  const std::uint32_t iss = p.expect({.flags = SYN}).header.seq;
  p.inject({.flags = SYN | FIN | ACK, .seq = 5000, .ack = iss + 1});
  p.expect({.flags = ACK, .seq = iss + 1, .ack = 5002, .len = 0});
  p.expect_nothing();
  EXPECT_EQ(p.stack().tcp_state(s), State::CloseWait);
}

TEST(FinWait1, DataAndFinFromThePeerAreReadAndTheStateIsClosing) {
  RawPeer p;
  const Opened c = p.accept_in_state(State::FinWait1);
  p.inject({.flags = FIN | PSH | ACK, .seq = 1001, .ack = c.iss + 1, .payload = "bye"});
  p.expect({.flags = ACK, .seq = c.iss + 2, .ack = 1005, .len = 0});
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::Closing);
  std::string got;
  EXPECT_FALSE(p.read(c.socket, got));
  EXPECT_EQ(got, "bye");
}

TEST(FinWait2, FinIsAckedAndStartsTimeWait) {
  RawPeer p;
  const Opened c = p.accept_in_state(State::FinWait2);
  p.inject({.flags = FIN | ACK, .seq = 1001, .ack = c.iss + 2});
  p.expect({.flags = ACK, .seq = c.iss + 2, .ack = 1002, .window = 65534, .len = 0});
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::TimeWait);
}

TEST(CloseWait, RetransmittedFinIsAckedAgain) {
  RawPeer p;
  const Opened c = p.accept_in_state(State::CloseWait);
  p.inject({.flags = FIN | ACK, .seq = 1001, .ack = c.iss + 1});
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 1002, .len = 0});
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::CloseWait);
  EXPECT_EQ(p.counters().tcp.out_of_window, 1u);
}

TEST(CloseWait, OurHalfStillSends) {
  // The server's classic flow: read to end of stream, then write the answer.
  RawPeer p;
  const Opened c = p.accept_in_state(State::CloseWait);
  ASSERT_FALSE(p.write(c.socket, "answer"));
  p.expect({.flags = PSH | ACK, .seq = c.iss + 1, .ack = 1002, .payload = "answer"});
  p.inject({.flags = ACK, .seq = 1002, .ack = c.iss + 7});
  p.expect_nothing();
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::CloseWait);
}

TEST(Closing, RetransmittedFinIsAckedAgain) {
  RawPeer p;
  const Opened c = p.accept_in_state(State::Closing);
  p.inject({.flags = FIN | ACK, .seq = 1001, .ack = c.iss + 1});
  p.expect({.flags = ACK, .seq = c.iss + 2, .ack = 1002, .len = 0});
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::Closing);
}

TEST(LastAck, RetransmittedFinIsAckedAgain) {
  RawPeer p;
  const Opened c = p.accept_in_state(State::LastAck);
  p.inject({.flags = FIN | ACK, .seq = 1001, .ack = c.iss + 1});
  p.expect({.flags = ACK, .seq = c.iss + 2, .ack = 1002, .len = 0});
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::LastAck);
}

TEST(TimeWait, RetransmittedFinIsAckedAndRestartsTimer) {
  RawPeer p;
  const Opened c = p.accept_in_state(State::TimeWait);
  const Instant first_expiry = p.now() + seconds(60);
  p.advance(seconds(20));
  p.inject({.flags = FIN | ACK, .seq = 1001, .ack = c.iss + 2});
  p.expect({.flags = ACK, .seq = c.iss + 2, .ack = 1002, .window = 65534, .len = 0});
  const Instant new_expiry = p.now() + seconds(60);

  p.advance_to(first_expiry);
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::TimeWait) << "the first 2·MSL was restarted";
  p.advance_to(new_expiry - microseconds(1));
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::TimeWait);
  p.advance_to(new_expiry);
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::Closed);
  p.expect_nothing();
}

TEST(TimeWait, OtherSegmentsGetAnAckButDoNotRestartTheTimer) {
  RawPeer p;
  const Opened c = p.accept_in_state(State::TimeWait);
  const Instant expiry = p.now() + seconds(60);
  p.advance(seconds(20));
  p.inject({.flags = ACK, .seq = 990, .ack = c.iss + 2, .payload = "old"});
  p.expect({.flags = ACK, .seq = c.iss + 2, .ack = 1002, .len = 0});
  p.advance_to(expiry);
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::Closed);
}

// --- Data around the FIN ----------------------------------------------------------------------

TEST(CloseWait, DataPastTheFinIsIgnoredSilently) {
  // 3.10.7.4 seventh, CLOSE-WAIT: "ignore the segment text". Linux drops it without an ACK
  // too (tcp_rcv_state_process, step 7).
  RawPeer p;
  const Opened c = p.accept_in_state(State::CloseWait);
  p.inject({.flags = PSH | ACK, .seq = 1002, .ack = c.iss + 1, .payload = "after the end"});
  p.expect_nothing();
  std::string got;
  EXPECT_FALSE(p.read(c.socket, got));
  EXPECT_EQ(got, "") << "end of stream, nothing after it";
  // RCV.NXT did not move: a duplicate still gets the ACK for the FIN.
  p.inject({.flags = FIN | ACK, .seq = 1001, .ack = c.iss + 1});
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 1002, .len = 0});
}

TEST(CloseWait, RetransmittedDataWithFinIsAckedAgain) {
  RawPeer p;
  const Opened c = p.accept_established();
  p.inject({.flags = FIN | PSH | ACK, .seq = 1001, .ack = c.iss + 1, .payload = "hello"});
  p.expect({.flags = ACK, .ack = 1007});
  p.inject({.flags = FIN | PSH | ACK, .seq = 1001, .ack = c.iss + 1, .payload = "hello"});
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 1007, .len = 0});
  std::string got;
  EXPECT_FALSE(p.read(c.socket, got));
  EXPECT_EQ(got, "hello") << "delivered once";
}

// --- close() and its variants -----------------------------------------------------------------

TEST(Close, DataArrivingAfterCloseIsAnsweredWithRst) {
  // RFC 1122 4.2.2.13: data for a closed socket cannot be delivered. Linux resets the
  // connection and answers <SEQ=SEG.ACK><CTL=RST>.
  RawPeer p;
  const Opened c = p.accept_established();
  ASSERT_FALSE(p.close(c.socket));
  p.expect({.flags = FIN | ACK, .seq = c.iss + 1, .ack = 1001});
  p.inject({.flags = PSH | ACK, .seq = 1001, .ack = c.iss + 2, .payload = "too late"});
  p.expect({.flags = RST, .seq = c.iss + 2, .ack = 0, .window = 0, .len = 0});
  p.expect_nothing();
  EXPECT_EQ(p.stack().connection_count(), 0u);
  EXPECT_EQ(p.counters().tcp.out_rsts, 1u);
}

TEST(Close, DataInFinWait2AfterCloseIsAnsweredWithRstAtTheAckNumber) {
  RawPeer p;
  const Opened c = p.accept_established();
  ASSERT_FALSE(p.close(c.socket));
  p.expect({.flags = FIN | ACK, .seq = c.iss + 1});
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 2});
  EXPECT_EQ(p.in_state(State::FinWait2), 1u);
  p.inject({.flags = PSH | ACK, .seq = 1001, .ack = c.iss + 2, .payload = "x"});
  p.expect({.flags = RST, .seq = c.iss + 2, .ack = 0, .window = 0, .len = 0});
  EXPECT_EQ(p.stack().connection_count(), 0u);
}

TEST(Close, WithUnreadDataSendsRstAckInsteadOfFin) {
  // Linux and RFC 2525 §2.17: the peer learns its data was not consumed.
  RawPeer p;
  const Opened c = p.accept_established();
  p.inject({.flags = PSH | ACK, .seq = 1001, .ack = c.iss + 1, .payload = "unread"});
  ASSERT_FALSE(p.close(c.socket));
  p.expect({.flags = RST | ACK, .seq = c.iss + 1, .ack = 1007, .window = 0, .len = 0});
  p.expect_nothing();
  EXPECT_EQ(p.stack().connection_count(), 0u);
  EXPECT_EQ(p.counters().tcp.out_rsts, 1u);
  p.advance(seconds(1));
  p.expect_nothing();  // nor the delayed ACK for the data
}

TEST(Close, WithLingerZeroSendsRstAck) {
  RawPeer p;
  const Opened c = p.accept_established();
  ASSERT_FALSE(p.stack().setsockopt(c.socket, Option::linger, 0));
  ASSERT_FALSE(p.close(c.socket));
  p.expect({.flags = RST | ACK, .seq = c.iss + 1, .ack = 1001, .window = 0, .len = 0});
  p.expect_nothing();
  EXPECT_EQ(p.stack().connection_count(), 0u);
  EXPECT_EQ(p.in_state(State::TimeWait), 0u) << "an abort leaves no TIME_WAIT";
}

TEST(Close, WithLingerZeroDiscardsUnsentData) {
  RawPeer p;
  const Opened c = p.accept_established(1000, /*window=*/0);
  ASSERT_FALSE(p.write(c.socket, "never sent"));
  p.expect_nothing();  // the peer's window is closed
  ASSERT_FALSE(p.stack().setsockopt(c.socket, Option::linger, 0));
  ASSERT_FALSE(p.close(c.socket));
  p.expect({.flags = RST | ACK, .seq = c.iss + 1, .ack = 1001, .window = 0, .len = 0});
  p.expect_nothing();
}

TEST(Close, OrphanInFinWait2GivesUpAfter60SecondsSilently) {
  // Linux's tcp_fin_timeout: a closed socket does not wait for the peer's FIN forever.
  RawPeer p;
  const Opened c = p.accept_established();
  ASSERT_FALSE(p.close(c.socket));
  p.expect({.flags = FIN | ACK, .seq = c.iss + 1});
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 2});
  const Instant expiry = p.now() + seconds(60);
  p.advance_to(expiry - microseconds(1));
  EXPECT_EQ(p.in_state(State::FinWait2), 1u);
  p.advance_to(expiry);
  EXPECT_EQ(p.stack().connection_count(), 0u);
  p.expect_nothing();
}

TEST(Close, ClosedInFinWait2AfterShutdownGivesUpAfter60Seconds) {
  // The same timeout for a socket half-closed first: shutdown(SHUT_WR) reaches FIN_WAIT_2
  // with the socket open (no timer: the application may wait for the peer as long as it
  // likes), and close() makes it an orphan, which Linux's tcp_close gives tcp_fin_timeout.
  RawPeer p;
  const Opened c = p.accept_in_state(State::FinWait2);
  p.advance(seconds(120));
  EXPECT_EQ(p.in_state(State::FinWait2), 1u);  // open: it waits
  ASSERT_FALSE(p.close(c.socket));
  p.expect_nothing();
  const Instant expiry = p.now() + seconds(60);
  p.advance_to(expiry - microseconds(1));
  EXPECT_EQ(p.in_state(State::FinWait2), 1u);
  p.advance_to(expiry);
  EXPECT_EQ(p.stack().connection_count(), 0u);
  p.expect_nothing();
}

TEST(Close, FinIsRetransmittedUntilAcked) {
  RawPeer p;
  const Opened c = p.accept_established();  // RTT 0: the RTO is its 200 ms minimum
  ASSERT_FALSE(p.close(c.socket));
  const Seen fin = p.expect({.flags = FIN | ACK, .seq = c.iss + 1, .ack = 1001});
  p.advance_to(fin.at + milliseconds(200));
  p.expect({.flags = FIN | ACK, .seq = c.iss + 1, .ack = 1001, .len = 0});
  p.advance_to(fin.at + milliseconds(200 + 400));
  p.expect({.flags = FIN | ACK, .seq = c.iss + 1, .ack = 1001, .len = 0});
  EXPECT_EQ(p.counters().tcp.retrans_segs, 2u);
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 2});
  EXPECT_EQ(p.in_state(State::FinWait2), 1u);
  p.advance(seconds(5));
  p.expect_nothing();
}

// --- shutdown(write): the half-close ----------------------------------------------------------

TEST(HalfClose, ShutdownWriteKeepsReceivingUntilThePeersFin) {
  RawPeer p;
  const Opened c = p.accept_in_state(State::FinWait2);
  p.inject({.flags = PSH | ACK, .seq = 1001, .ack = c.iss + 2, .payload = "still coming"});
  std::string got;
  EXPECT_FALSE(p.read(c.socket, got));
  EXPECT_EQ(got, "still coming");
  p.advance(milliseconds(40));
  p.expect({.flags = ACK, .seq = c.iss + 2, .ack = 1013, .len = 0});
  p.inject({.flags = FIN | ACK, .seq = 1013, .ack = c.iss + 2});
  p.expect({.flags = ACK, .seq = c.iss + 2, .ack = 1014, .len = 0});
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::TimeWait);
  EXPECT_FALSE(p.read(c.socket, got));
  EXPECT_EQ(got, "");
}

TEST(HalfClose, WriteAfterShutdownIsBrokenPipe) {
  RawPeer p;
  const Opened c = p.accept_in_state(State::FinWait1);
  EXPECT_FALSE(p.stack().readiness(c.socket).writable);
  EXPECT_EQ(p.write(c.socket, "x"), std::errc::broken_pipe);
  p.expect_nothing();
}

TEST(HalfClose, FinRidesOnTheLastDataWrittenBeforeTheShutdown) {
  RawPeer p;
  const Opened c = p.accept_established();
  const std::string data = "abc";
  std::size_t n = 0;
  ASSERT_FALSE(p.stack().write(
      c.socket, std::span(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()), n));
  ASSERT_FALSE(p.shutdown(c.socket, Shutdown::write));
  p.expect({.flags = FIN | PSH | ACK, .seq = c.iss + 1, .ack = 1001, .payload = "abc"});
  p.expect_nothing();
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 5});
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::FinWait2);
}

}  // namespace
}  // namespace synack::testing
