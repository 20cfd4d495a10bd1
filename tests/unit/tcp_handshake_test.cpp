// The three-way handshake, packet by packet (RFC 9293 §3.5), both as server and as client.
#include <gtest/gtest.h>

#include "support/raw_peer.hpp"

namespace synack::testing {
namespace {

using tcp::State;

TEST(Handshake, PassiveOpenAnswersSynWithSynAckAndAcceptsAfterTheAck) {
  RawPeer p;
  const SocketId l = p.listen(80);
  p.inject({.flags = SYN, .seq = 1000, .window = 29200, .options = {.mss = 1400}});
  const Seen synack = p.expect({.flags = SYN | ACK, .ack = 1001, .window = 65535});
  EXPECT_EQ(synack.header.options.mss, 1460);
  EXPECT_FALSE(synack.header.options.window_scale) << "the peer did not offer scaling";
  SocketId c = -1;
  EXPECT_EQ(p.stack().accept(l, c), std::errc::resource_unavailable_try_again);
  EXPECT_FALSE(p.stack().readiness(l).readable);

  p.inject({.flags = ACK, .seq = 1001, .ack = synack.header.seq + 1});
  p.expect_nothing();
  EXPECT_TRUE(p.stack().readiness(l).readable);
  Endpoint peer;
  ASSERT_FALSE(p.stack().accept(l, c, &peer));
  EXPECT_EQ(peer, (Endpoint{RawPeer::kRemote, RawPeer::kRemotePort}));
  EXPECT_EQ(p.stack().tcp_state(c), State::Established);
  EXPECT_EQ(p.counters().tcp.passive_opens, 1u);
  int mss = 0;
  p.stack().getsockopt(c, Option::max_segment, mss);
  EXPECT_EQ(mss, 1400) << "the smaller of the two MSS values";
}

TEST(Handshake, ActiveOpenSendsSynAndCompletesOnSynAck) {
  RawPeer p;
  const SocketId s = p.connect_from_stack();
  const Seen syn = p.expect({.flags = SYN, .ack = 0, .window = 65535});
  EXPECT_EQ(syn.header.options.mss, 1460);
  EXPECT_EQ(p.stack().tcp_state(s), State::SynSent);
  EXPECT_FALSE(p.stack().readiness(s).writable);

  p.inject({.flags = SYN | ACK,
            .seq = 5000,
            .ack = syn.header.seq + 1,
            .window = 30000,
            .options = {.mss = 1200}});
  p.expect({.flags = ACK, .seq = syn.header.seq + 1, .ack = 5001, .window = 65535});
  EXPECT_EQ(p.stack().tcp_state(s), State::Established);
  EXPECT_TRUE(p.stack().readiness(s).writable);
  EXPECT_FALSE(p.stack().socket_error(s));
}

TEST(Handshake, RstAnsweringTheSynRefusesTheConnection) {
  RawPeer p;
  const SocketId s = p.connect_from_stack();
  const Seen syn = p.expect({.flags = SYN});
  p.inject({.flags = RST | ACK, .seq = 0, .ack = syn.header.seq + 1, .window = 0});
  p.expect_nothing();
  EXPECT_EQ(p.stack().tcp_state(s), State::Closed);
  EXPECT_TRUE(p.stack().readiness(s).error);
  EXPECT_EQ(p.stack().socket_error(s), std::errc::connection_refused);
}

TEST(Handshake, SynRetransmitsWithExponentialBackoffThenTimesOut) {
  tcp::Config cfg = RawPeer::test_config();
  cfg.syn_retries = 3;
  RawPeer p(cfg);
  const SocketId s = p.connect_from_stack();
  const Seen first = p.expect({.flags = SYN});
  const Instant start = p.now();
  Duration expected_gap = seconds(1);
  Instant expected_at = start;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(p.advance_to_next_deadline());
    expected_at += expected_gap;
    const Seen again = p.expect({.flags = SYN, .seq = first.header.seq});
    EXPECT_EQ(again.at, expected_at) << "retry " << i + 1;
    expected_gap *= 2;
  }
  ASSERT_TRUE(p.advance_to_next_deadline());
  EXPECT_EQ(p.now(), start + seconds(1 + 2 + 4 + 8));
  p.expect_nothing();
  EXPECT_EQ(p.stack().socket_error(s), std::errc::timed_out);
  EXPECT_EQ(p.counters().tcp.attempt_fails, 1u);
}

TEST(Handshake, SynToAClosedPortGetsRstAck) {
  RawPeer p;
  p.inject({.flags = SYN, .seq = 777, .dst_port = 81});
  p.expect({.flags = RST | ACK, .seq = 0, .ack = 778, .window = 0});
  EXPECT_EQ(p.counters().tcp.no_port, 1u);
}

}  // namespace
}  // namespace synack::testing
