// RFC 5961 §7: challenge ACKs are rate-limited, and per connection (tcp::Config's
// challenge_ack_limit per challenge_ack_window: 10 a second by default). A limit shared by
// all connections, as Linux's tcp_challenge_ack_limit, is the side channel of
// CVE-2016-5696, so exhausting one connection's budget must leave every other's alone.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/raw_peer.hpp"
#include "support/trace_recorder.hpp"

namespace synack::testing {
namespace {

using tcp::State;

constexpr const char* kSuppressed = "tcp: challenge ACK rate limit (RFC 5961 §7)";

TEST(ChallengeAckLimit, TheDefaultIsTenPerSecond) {
  const tcp::Config config;
  EXPECT_EQ(config.challenge_ack_limit, 10u);
  EXPECT_EQ(config.challenge_ack_window, seconds(1));
}

TEST(ChallengeAckLimit, TwentyFiveRstsInASecondDrawTenChallengeAcks) {
  RawPeer p;
  const Opened c = p.accept_established();
  TraceRecorder trace(p.stack());
  const Instant first = p.now();
  for (std::uint32_t i = 0; i < 25; ++i) {  // 25 RSTs in 720 ms, in the window, not at RCV.NXT
    p.inject({.flags = RST, .seq = 1002 + i});
    if (i < 10) {
      p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 1001, .len = 0});
    } else {
      p.expect_nothing();
    }
    p.advance(milliseconds(30));
  }
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::Established);
  EXPECT_EQ(p.counters().tcp.rst_ignored, 25u);
  EXPECT_EQ(p.counters().tcp.challenge_acks, 10u);
  EXPECT_EQ(p.counters().tcp.challenge_acks_suppressed, 15u);
  EXPECT_EQ(p.counters().tcp.in_rsts, 0u);
  EXPECT_EQ(trace.drops(), std::vector<std::string>(15, kSuppressed));

  // The window is a second from the first challenge ACK: still shut just before it ends...
  p.advance_to(first + seconds(1) - microseconds(1));
  p.inject({.flags = RST, .seq = 1100});
  p.expect_nothing();
  EXPECT_EQ(p.counters().tcp.challenge_acks_suppressed, 16u);
  // ... and open again when it has: challenge ACKs resume, ten more of them.
  p.advance_to(first + seconds(1));
  for (std::uint32_t i = 0; i < 11; ++i) {
    p.inject({.flags = RST, .seq = 1200 + i});
    if (i < 10) {
      p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 1001, .len = 0});
    } else {
      p.expect_nothing();
    }
  }
  EXPECT_EQ(p.counters().tcp.challenge_acks, 20u);
  EXPECT_EQ(p.counters().tcp.challenge_acks_suppressed, 17u);
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::Established);
  EXPECT_FALSE(p.stack().socket_error(c.socket));
}

TEST(ChallengeAckLimit, SynsRstsAndAcksOfUnsentDataShareOneBudget) {
  RawPeer p;
  const Opened c = p.accept_established();
  for (std::uint32_t i = 0; i < 10; ++i) {  // RFC 5961 §4: SYN in ESTABLISHED
    p.inject({.flags = SYN, .seq = 1001 + i});
    p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 1001, .len = 0});
  }
  p.inject({.flags = RST, .seq = 1500});                       // §3
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 1000});  // §5: ACK too new
  p.inject({.flags = SYN, .seq = 1600});                       // §4
  p.expect_nothing();
  EXPECT_EQ(p.counters().tcp.challenge_acks, 10u);
  EXPECT_EQ(p.counters().tcp.challenge_acks_suppressed, 3u);
  EXPECT_EQ(p.counters().tcp.bad_ack, 1u);
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::Established);
}

TEST(ChallengeAckLimit, EachConnectionHasItsOwnBudget) {
  RawPeer p;
  const Opened a = p.accept_established(1000, 65535, RawPeer::default_syn_options(), 80);
  const Opened b = p.accept_established(7000, 65535, RawPeer::default_syn_options(), 81);
  // Exhaust a's budget (and more).
  for (std::uint32_t i = 0; i < 25; ++i) {
    p.inject({.flags = RST, .seq = 1002 + i, .dst_port = 80});
    if (i < 10) {
      p.expect({.flags = ACK, .seq = a.iss + 1, .ack = 1001, .len = 0});
    } else {
      p.expect_nothing();
    }
  }
  EXPECT_EQ(p.counters().tcp.challenge_acks_suppressed, 15u);
  // b still has all ten of its own.
  for (std::uint32_t i = 0; i < 11; ++i) {
    p.inject({.flags = RST, .seq = 7002 + i, .dst_port = 81});
    if (i < 10) {
      p.expect({.flags = ACK, .seq = b.iss + 1, .ack = 7001, .len = 0});
    } else {
      p.expect_nothing();
    }
  }
  // ... and using them up gave a nothing back.
  p.inject({.flags = RST, .seq = 1100, .dst_port = 80});
  p.expect_nothing();
  EXPECT_EQ(p.counters().tcp.challenge_acks, 20u);
  EXPECT_EQ(p.counters().tcp.challenge_acks_suppressed, 17u);
  EXPECT_EQ(p.stack().tcp_state(a.socket), State::Established);
  EXPECT_EQ(p.stack().tcp_state(b.socket), State::Established);
}

TEST(ChallengeAckLimit, TheLimitAndWindowAreConfigurableAndZeroMeansNoLimit) {
  tcp::Config config = RawPeer::test_config();
  config.challenge_ack_limit = 3;
  config.challenge_ack_window = milliseconds(200);
  RawPeer p(config);
  const Opened c = p.accept_established();
  for (std::uint32_t i = 0; i < 5; ++i) p.inject({.flags = RST, .seq = 1002 + i});
  EXPECT_EQ(p.counters().tcp.challenge_acks, 3u);
  EXPECT_EQ(p.counters().tcp.challenge_acks_suppressed, 2u);
  p.advance(milliseconds(200));
  p.inject({.flags = RST, .seq = 1010});
  EXPECT_EQ(p.counters().tcp.challenge_acks, 4u);
  while (p.next()) {
  }

  config.challenge_ack_limit = 0;
  RawPeer q(config);
  const Opened d = q.accept_established();
  for (std::uint32_t i = 0; i < 25; ++i) {
    q.inject({.flags = RST, .seq = 1002 + i});
    q.expect({.flags = ACK, .seq = d.iss + 1, .ack = 1001, .len = 0});
  }
  EXPECT_EQ(q.counters().tcp.challenge_acks, 25u);
  EXPECT_EQ(q.counters().tcp.challenge_acks_suppressed, 0u);
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::Established);
}

}  // namespace
}  // namespace synack::testing
