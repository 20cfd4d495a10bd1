// Every transition of the RFC 9293 state diagram (§3.3.2, Figure 5), packet by packet, with
// the test playing the remote TCP. Sockets still open are watched with tcp_state(); closed
// (orphaned) ones through the per-state connection counters.
#include <gtest/gtest.h>

#include "support/raw_peer.hpp"

namespace synack::testing {
namespace {

using tcp::State;

// --- Opening ------------------------------------------------------------------------------------

TEST(Transitions, ConnectGoesFromClosedToSynSentAndSendsSyn) {
  RawPeer p;
  SocketId s = -1;
  ASSERT_FALSE(p.stack().tcp_socket(s));
  EXPECT_EQ(p.stack().tcp_state(s), State::Closed);
  EXPECT_EQ(p.stack().connect(s, {RawPeer::kRemote, RawPeer::kRemotePort}),
            std::errc::operation_in_progress);
  p.poll();
  p.expect({.flags = SYN, .ack = 0, .window = 65535, .len = 0});
  p.expect_nothing();
  EXPECT_EQ(p.stack().tcp_state(s), State::SynSent);
  EXPECT_EQ(p.counters().tcp.active_opens, 1u);
}

TEST(Transitions, SynAckGoesFromSynSentToEstablishedAndIsAcked) {
  RawPeer p;
  const SocketId s = p.connect_from_stack();
  const std::uint32_t iss = p.expect({.flags = SYN}).header.seq;
  p.inject({.flags = SYN | ACK, .seq = 5000, .ack = iss + 1, .window = 30000});
  p.expect({.flags = ACK, .seq = iss + 1, .ack = 5001, .window = 65535, .len = 0});
  p.expect_nothing();
  EXPECT_EQ(p.stack().tcp_state(s), State::Established);
  EXPECT_TRUE(p.stack().readiness(s).writable);
}

TEST(Transitions, SimultaneousOpenGoesFromSynSentThroughSynReceived) {
  RawPeer p;
  const SocketId s = p.connect_from_stack();
  const std::uint32_t iss = p.expect({.flags = SYN}).header.seq;
  // The peer's own SYN crosses ours: SYN,ACK from our ISS (3.10.7.3 fourth).
  p.inject({.flags = SYN, .seq = 5000});
  p.expect({.flags = SYN | ACK, .seq = iss, .ack = 5001, .window = 65535, .len = 0});
  EXPECT_EQ(p.stack().tcp_state(s), State::SynReceived);
  EXPECT_FALSE(p.stack().readiness(s).writable);

  p.inject({.flags = ACK, .seq = 5001, .ack = iss + 1});
  p.expect_nothing();
  EXPECT_EQ(p.stack().tcp_state(s), State::Established);
  EXPECT_TRUE(p.stack().readiness(s).writable);
}

TEST(Transitions, SimultaneousOpenCompletesOnThePeersSynAck) {
  // RFC 9293 Figure 8, line 6: the peer's SYN,ACK repeats its SYN and acknowledges ours.
  RawPeer p;
  const SocketId s = p.connect_from_stack();
  const std::uint32_t iss = p.expect({.flags = SYN}).header.seq;
  p.inject({.flags = SYN, .seq = 5000});
  p.expect({.flags = SYN | ACK, .seq = iss, .ack = 5001});
  p.inject({.flags = SYN | ACK, .seq = 5000, .ack = iss + 1});
  EXPECT_EQ(p.stack().tcp_state(s), State::Established);
  // The SYN in it is a duplicate: acknowledged, so a peer still in SYN_RECEIVED completes.
  p.expect({.flags = ACK, .seq = iss + 1, .ack = 5001, .window = 65535, .len = 0});
  p.expect_nothing();
}

TEST(Transitions, ListenGoesFromClosedToListen) {
  RawPeer p;
  SocketId l = -1;
  ASSERT_FALSE(p.stack().tcp_socket(l));
  ASSERT_FALSE(p.stack().bind(l, {Ipv4Address(), 80}));
  EXPECT_EQ(p.stack().tcp_state(l), State::Closed);
  ASSERT_FALSE(p.stack().listen(l, 16));
  EXPECT_EQ(p.stack().tcp_state(l), State::Listen);
  p.poll();
  p.expect_nothing();
}

TEST(Transitions, SynGoesFromListenToSynReceivedAndIsAnsweredWithSynAck) {
  RawPeer p;
  const SocketId l = p.listen(80);
  p.inject({.flags = SYN, .seq = 1000, .options = {.mss = 1460}});
  p.expect({.flags = SYN | ACK, .ack = 1001, .window = 65535, .len = 0});
  p.expect_nothing();
  EXPECT_EQ(p.in_state(State::SynReceived), 1u);
  EXPECT_EQ(p.counters().tcp.passive_opens, 1u);
  EXPECT_EQ(p.stack().tcp_state(l), State::Listen);
  SocketId c = -1;
  EXPECT_EQ(p.stack().accept(l, c), std::errc::resource_unavailable_try_again);
}

TEST(Transitions, AckOfSynGoesFromSynReceivedToEstablishedAndAccept) {
  RawPeer p;
  const SocketId l = p.listen(80);
  p.inject({.flags = SYN, .seq = 1000});
  const std::uint32_t iss = p.expect({.flags = SYN | ACK, .ack = 1001}).header.seq;
  p.inject({.flags = ACK, .seq = 1001, .ack = iss + 1});
  p.expect_nothing();
  EXPECT_EQ(p.in_state(State::SynReceived), 0u);
  EXPECT_EQ(p.in_state(State::Established), 1u);
  SocketId c = -1;
  ASSERT_FALSE(p.stack().accept(l, c));
  EXPECT_EQ(p.stack().tcp_state(c), State::Established);
}

TEST(Transitions, RstInSynReceivedReturnsToListenAndTheListenerCarriesOn) {
  RawPeer p;
  const SocketId l = p.listen(80);
  p.inject({.flags = SYN, .seq = 1000});
  p.expect({.flags = SYN | ACK, .ack = 1001});
  p.inject({.flags = RST, .seq = 1001});
  p.expect_nothing();
  EXPECT_EQ(p.stack().connection_count(), 0u) << "the child is gone";
  EXPECT_EQ(p.counters().tcp.attempt_fails, 1u);
  EXPECT_EQ(p.counters().tcp.in_rsts, 1u);
  EXPECT_EQ(p.stack().tcp_state(l), State::Listen);
  EXPECT_FALSE(p.stack().readiness(l).readable);
  p.advance(seconds(10));
  p.expect_nothing();  // no SYN,ACK retransmitted for the dead child

  p.handshake_to(80, 2000);  // the same peer connects again
  SocketId c = -1;
  ASSERT_FALSE(p.stack().accept(l, c));
  EXPECT_EQ(p.stack().tcp_state(c), State::Established);
}

TEST(Transitions, CloseInSynSentGoesToClosedWithoutSending) {
  RawPeer p;
  const SocketId s = p.connect_from_stack();
  const std::uint32_t iss = p.expect({.flags = SYN}).header.seq;
  ASSERT_FALSE(p.close(s));
  p.expect_nothing();
  EXPECT_EQ(p.stack().connection_count(), 0u);
  p.advance(seconds(10));
  p.expect_nothing();  // no SYN retransmitted
  // The SYN,ACK answering the abandoned SYN finds nobody: <SEQ=SEG.ACK><CTL=RST>.
  p.inject({.flags = SYN | ACK, .seq = 5000, .ack = iss + 1});
  p.expect({.flags = RST, .seq = iss + 1, .ack = 0, .window = 0, .len = 0});
}

TEST(Transitions, CloseInSynReceivedSendsFinAndGoesToFinWait1) {
  // Only an active open can be closed in SYN_RECEIVED: a listener's children are not
  // reachable before accept(). RFC 9293 §3.10.4: with nothing to send, FIN at once.
  RawPeer p;
  const SocketId s = p.connect_from_stack();
  const std::uint32_t iss = p.expect({.flags = SYN}).header.seq;
  p.inject({.flags = SYN, .seq = 5000});
  p.expect({.flags = SYN | ACK, .seq = iss, .ack = 5001});
  ASSERT_FALSE(p.shutdown(s, Shutdown::write));
  p.expect({.flags = FIN | ACK, .seq = iss + 1, .ack = 5001, .window = 65535, .len = 0});
  EXPECT_EQ(p.stack().tcp_state(s), State::FinWait1);

  p.inject({.flags = ACK, .seq = 5001, .ack = iss + 1});  // acknowledges the SYN only
  EXPECT_EQ(p.stack().tcp_state(s), State::FinWait1);
  p.inject({.flags = ACK, .seq = 5001, .ack = iss + 2});
  p.expect_nothing();
  EXPECT_EQ(p.stack().tcp_state(s), State::FinWait2);
}

TEST(Transitions, FinWait1FromSynReceivedRetransmitsTheUnackedSynAckThenTheFin) {
  RawPeer p;
  const SocketId s = p.connect_from_stack();
  const Seen syn = p.expect({.flags = SYN});
  const std::uint32_t iss = syn.header.seq;
  p.inject({.flags = SYN, .seq = 5000});
  p.expect({.flags = SYN | ACK, .seq = iss, .ack = 5001});
  ASSERT_FALSE(p.shutdown(s, Shutdown::write));
  p.expect({.flags = FIN | ACK, .seq = iss + 1});

  ASSERT_TRUE(p.advance_to_next_deadline());
  EXPECT_EQ(p.now(), syn.at + seconds(1)) << "the SYN's initial RTO";
  p.expect({.flags = SYN | ACK, .seq = iss, .ack = 5001, .len = 0});
  p.expect({.flags = FIN | ACK, .seq = iss + 1, .ack = 5001, .len = 0});
  p.expect_nothing();
  EXPECT_EQ(p.stack().tcp_state(s), State::FinWait1);
}

// --- Closing ------------------------------------------------------------------------------------

TEST(Transitions, ActiveCloseGoesThroughFinWait1FinWait2AndTimeWaitFor60Seconds) {
  RawPeer p;
  const Opened c = p.accept_established();
  ASSERT_FALSE(p.close(c.socket));
  p.expect({.flags = FIN | ACK, .seq = c.iss + 1, .ack = 1001, .window = 65535, .len = 0});
  EXPECT_EQ(p.in_state(State::FinWait1), 1u);

  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 2});
  p.expect_nothing();
  EXPECT_EQ(p.in_state(State::FinWait2), 1u);

  p.inject({.flags = FIN | ACK, .seq = 1001, .ack = c.iss + 2});
  p.expect({.flags = ACK, .seq = c.iss + 2, .ack = 1002, .window = 65534, .len = 0});
  EXPECT_EQ(p.in_state(State::TimeWait), 1u);

  const Instant expiry = p.now() + seconds(60);  // 2·MSL, MSL = 30 s
  p.advance_to(expiry - microseconds(1));
  EXPECT_EQ(p.in_state(State::TimeWait), 1u);
  p.advance_to(expiry);
  EXPECT_EQ(p.in_state(State::TimeWait), 0u);
  EXPECT_EQ(p.stack().connection_count(), 0u);
  p.expect_nothing();
}

TEST(Transitions, HalfCloseShowsEveryStateOnTheOpenSocket) {
  RawPeer p;
  const Opened c = p.accept_established();
  ASSERT_FALSE(p.shutdown(c.socket, Shutdown::write));
  p.expect({.flags = FIN | ACK, .seq = c.iss + 1, .ack = 1001});
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::FinWait1);
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 2});
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::FinWait2);
  p.inject({.flags = FIN | ACK, .seq = 1001, .ack = c.iss + 2});
  p.expect({.flags = ACK, .seq = c.iss + 2, .ack = 1002});
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::TimeWait);
  p.advance(seconds(60));
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::Closed);
  EXPECT_TRUE(p.stack().readiness(c.socket).hangup);
  EXPECT_FALSE(p.stack().socket_error(c.socket)) << "an orderly close reports no error";
}

TEST(Transitions, SimultaneousCloseGoesFromFinWait1ThroughClosingToTimeWait) {
  RawPeer p;
  const Opened c = p.accept_established();
  ASSERT_FALSE(p.shutdown(c.socket, Shutdown::write));
  p.expect({.flags = FIN | ACK, .seq = c.iss + 1, .ack = 1001});
  // The peer's FIN crosses ours: it does not acknowledge our FIN.
  p.inject({.flags = FIN | ACK, .seq = 1001, .ack = c.iss + 1});
  p.expect({.flags = ACK, .seq = c.iss + 2, .ack = 1002, .len = 0});
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::Closing);

  p.inject({.flags = ACK, .seq = 1002, .ack = c.iss + 2});
  p.expect_nothing();
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::TimeWait);
}

TEST(Transitions, FinAckingOurFinGoesFromFinWait1StraightToTimeWait) {
  RawPeer p;
  const Opened c = p.accept_established();
  ASSERT_FALSE(p.shutdown(c.socket, Shutdown::write));
  p.expect({.flags = FIN | ACK, .seq = c.iss + 1, .ack = 1001});
  p.inject({.flags = FIN | ACK, .seq = 1001, .ack = c.iss + 2});
  p.expect({.flags = ACK, .seq = c.iss + 2, .ack = 1002, .len = 0});
  p.expect_nothing();
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::TimeWait);
}

TEST(Transitions, PassiveCloseGoesThroughCloseWaitAndLastAckToClosed) {
  RawPeer p;
  const Opened c = p.accept_established();
  p.inject({.flags = FIN | ACK, .seq = 1001, .ack = c.iss + 1});
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 1002, .window = 65534, .len = 0});
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::CloseWait);
  std::string got;
  EXPECT_FALSE(p.read(c.socket, got));
  EXPECT_EQ(got, "") << "end of stream";

  ASSERT_FALSE(p.close(c.socket));
  p.expect({.flags = FIN | ACK, .seq = c.iss + 1, .ack = 1002, .len = 0});
  EXPECT_EQ(p.in_state(State::LastAck), 1u);
  p.inject({.flags = ACK, .seq = 1002, .ack = c.iss + 2});
  p.expect_nothing();
  EXPECT_EQ(p.in_state(State::LastAck), 0u);
  EXPECT_EQ(p.stack().connection_count(), 0u) << "no TIME_WAIT on the passive side";
}

TEST(Transitions, ClosingAListenerGoesToClosedAndFreesThePort) {
  RawPeer p;
  const SocketId l = p.listen(80);
  ASSERT_FALSE(p.close(l));
  p.inject({.flags = SYN, .seq = 1000});
  p.expect({.flags = RST | ACK, .seq = 0, .ack = 1001, .window = 0, .len = 0});
  EXPECT_EQ(p.counters().tcp.no_port, 1u);
  SocketId again = -1;
  ASSERT_FALSE(p.stack().tcp_socket(again));
  EXPECT_FALSE(p.stack().bind(again, {Ipv4Address(), 80}));
}

TEST(Transitions, ListenToSynSentIsNotOfferedByTheSocketApi) {
  // Figure 5's LISTEN --SEND--> SYN_SENT has no BSD-socket call: connect() on a listener
  // is EINVAL, as on Linux.
  RawPeer p;
  const SocketId l = p.listen(80);
  EXPECT_EQ(p.stack().connect(l, {RawPeer::kRemote, RawPeer::kRemotePort}),
            std::errc::invalid_argument);
  p.poll();
  p.expect_nothing();
  EXPECT_EQ(p.stack().tcp_state(l), State::Listen);
}

}  // namespace
}  // namespace synack::testing
