// The host's virtual clock as the C ABI shows it: synack_gettimeofday, synack_usleep, and
// synack_netdev_receive moving time to the next timer, each packet stamped with the
// instant its timer fired.
#include <gtest/gtest.h>
#include <sys/time.h>

#include "support/capi_peer.hpp"

namespace synack::testing {
namespace {

constexpr long long kEpochSeconds = 1'767'225'600;  // 2026-01-01, virtual time 0

TEST(CapiTime, GettimeofdayStartsAtTheFixedDateAndMovesOneMicrosecondACall) {
  CapiPeer p;
  timeval tv{};
  ASSERT_EQ(synack_gettimeofday(p.host(), &tv, nullptr), 0);
  EXPECT_EQ(tv.tv_sec, kEpochSeconds);
  EXPECT_EQ(tv.tv_usec, 1);
  struct timezone tz {
    60, 1
  };
  ASSERT_EQ(synack_gettimeofday(p.host(), &tv, &tz), 0);
  EXPECT_EQ(tv.tv_usec, 2);
  EXPECT_EQ(tz.tz_minuteswest, 0);
  EXPECT_EQ(tz.tz_dsttime, 0);
  ASSERT_EQ(synack_usleep(p.host(), 2'000'000), 0);
  ASSERT_EQ(synack_gettimeofday(p.host(), &tv, nullptr), 0);
  EXPECT_EQ(tv.tv_sec, kEpochSeconds + 2);
  EXPECT_EQ(tv.tv_usec, 3);
}

TEST(CapiTime, NetdevReceiveWithNothingPendingReturnsNoPacketAndLeavesTime) {
  CapiPeer p;
  std::uint8_t buf[100];
  std::size_t count = sizeof buf;
  long long at = -1;
  ASSERT_EQ(synack_netdev_receive(p.host(), buf, &count, &at), 0);
  EXPECT_EQ(count, 0u);
  timeval tv{};
  synack_gettimeofday(p.host(), &tv, nullptr);
  EXPECT_EQ(tv.tv_usec, 1);
}

TEST(CapiTime, NetdevSendRefusesEmptyAndOversizedPackets) {
  CapiPeer p;
  std::uint8_t buf[1] = {};
  errno = 0;
  EXPECT_EQ(synack_netdev_send(p.host(), buf, 0), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(synack_netdev_send(p.host(), buf, 65536), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(synack_netdev_send(p.host(), buf, 1), 0);  // malformed: the stack's to drop
}

// RFC 6298 with the handshake's one sample R = 100 ms: SRTT = R, RTTVAR = R/2, so
// RTO = SRTT + 4·RTTVAR = 300 ms (above the 200 ms floor), doubled at every expiry.
TEST(CapiTime, AnUnansweredFinIsRetransmittedAtEachDoubledRto) {
  CapiPeer p;
  const auto c = p.accept_established(8080, 1000, milliseconds(100));
  const Instant closed = kEpoch + milliseconds(100);
  ASSERT_EQ(synack_close(p.host(), c.fd), 0);
  const Seen fin = p.expect({.flags = FIN | ACK, .seq = c.iss + 1, .ack = c.peer_iss + 1});
  EXPECT_EQ(fin.at, closed);
  Instant expected = closed;
  Duration rto = milliseconds(300);
  for (int i = 0; i < 4; ++i) {
    expected += rto;
    rto *= 2;
    const Seen again = p.expect({.flags = FIN | ACK, .seq = c.iss + 1});
    EXPECT_EQ(again.at, expected) << "retransmission " << i + 1;
  }
}

TEST(CapiTime, UsleepFiresEveryTimerOnTheWayAtItsOwnInstant) {
  CapiPeer p;
  const auto c = p.accept_established(8080, 1000, milliseconds(100));
  ASSERT_EQ(synack_close(p.host(), c.fd), 0);
  ASSERT_EQ(synack_usleep(p.host(), 1'000'000), 0);  // to 1.1 s: the FIN, then two more
  const Instant closed = kEpoch + milliseconds(100);
  EXPECT_EQ(p.expect({.flags = FIN | ACK}).at, closed);
  EXPECT_EQ(p.expect({.flags = FIN | ACK}).at, closed + milliseconds(300));
  EXPECT_EQ(p.expect({.flags = FIN | ACK}).at, closed + milliseconds(900));
  // The next is due at 2.2 s: netdev_receive moves time on to it.
  EXPECT_EQ(p.expect({.flags = FIN | ACK}).at, closed + milliseconds(2100));
}

}  // namespace
}  // namespace synack::testing
