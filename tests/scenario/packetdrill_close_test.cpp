// packetdrill scripts of the close through libsynack_packetdrill.so: both orders, the RST
// of a close() that leaves data unread, and the retransmitted FIN on the virtual-time line.
#include <gtest/gtest.h>

#include "support/packetdrill_driver.hpp"
#include "support/packetdrill_scripts.hpp"

namespace synack::testing {
namespace {

// We close first: FIN_WAIT_1 -> FIN_WAIT_2 -> TIME_WAIT (60 s) -> CLOSED. Every window is
// 512: the SYN,ACK's 65535 kept, rounded up to 65536 = 512 << 7. The peer's FIN takes one
// of it and the 65535 left rounds up to 512 again; TIME_WAIT, its buffer released, keeps
// that edge (nothing can arrive after a FIN), so the ACKs of retransmitted FINs say 512.
// +0   close(4) = 0
// +0   > F. 1:1(0) ack 1
// +.1  < . 1:1(0) ack 2 win 257                  (FIN_WAIT_2)
// +.1  < F. 1:1(0) ack 2 win 257
// +0   > . 2:2(0) ack 2                           (TIME_WAIT)
// +1   < F. 1:1(0) ack 2 win 257                  (a retransmitted FIN is ACKed again)
// +0   > . 2:2(0) ack 2
// +60.001 < F. 1:1(0) ack 2 win 257             (TIME_WAIT is over: no connection)
// +0   > R 2:2(0) win 0
TEST(PacketdrillClose, WeCloseFirstThroughTimeWait) {
  Packetdrill pd(SYNACK_PACKETDRILL_SO);
  const auto a = passive_open(pd, false);
  ASSERT_GE(a.fd, 0);
  ASSERT_EQ(pd.close(a.fd), 0);
  pd.expect("F. 1:1(0) ack 1 win 512");
  pd.at(200ms);
  pd.inject(". 1:1(0) ack 2 win 257");
  pd.at(300ms);
  pd.inject("F. 1:1(0) ack 2 win 257");
  pd.expect(". 2:2(0) ack 2 win 512");
  pd.at(1300ms);
  pd.inject("F. 1:1(0) ack 2 win 257");
  pd.expect(". 2:2(0) ack 2 win 512");
  pd.at(1300ms + 60s + 1ms);
  pd.inject("F. 1:1(0) ack 2 win 257");
  pd.expect("R 2:2(0) win 0");
}

// The same close with shutdown(SHUT_WR), the socket kept: read() sees the peer's FIN as
// EOF in FIN_WAIT_2's successor, TIME_WAIT.
TEST(PacketdrillClose, ShutdownWriteThenEofFromThePeer) {
  Packetdrill pd(SYNACK_PACKETDRILL_SO);
  const auto a = passive_open(pd, true);
  ASSERT_GE(a.fd, 0);
  ASSERT_EQ(pd.shutdown(a.fd, SHUT_WR), 0);
  pd.expect("F. 1:1(0) ack 1 win 512 <nop,nop,TS val * ecr 200>");
  pd.at(200ms);
  pd.inject(". 1:1(0) ack 2 win 257 <nop,nop,TS val 300 ecr *>");
  pd.inject("F. 1:1(0) ack 2 win 257 <nop,nop,TS val 310 ecr *>");
  pd.expect(". 2:2(0) ack 2 win 512 <nop,nop,TS val * ecr 310>");
  char c = 0;
  EXPECT_EQ(pd.read(a.fd, &c, 1), 0) << "EOF";
  errno = 0;
  EXPECT_EQ(pd.write(a.fd, "x"), -1);
  EXPECT_EQ(errno, EPIPE);
  EXPECT_EQ(pd.close(a.fd), 0);
}

// The peer closes first: CLOSE_WAIT -> LAST_ACK -> CLOSED. (synack ACKs the FIN at once;
// Linux, which enters its "ping-pong" mode on a FIN, may delay that ACK by ~40 ms.)
// +0   < F. 1:1(0) ack 1 win 257
// +0   > . 1:1(0) ack 2
// +0   read(4, ..., 100) = 0
// +.1  close(4) = 0
// +0   > F. 1:1(0) ack 2
// +.1  < . 2:2(0) ack 2 win 257                  (CLOSED: nothing more)
TEST(PacketdrillClose, PeerClosesFirstThroughLastAck) {
  Packetdrill pd(SYNACK_PACKETDRILL_SO);
  const auto a = passive_open(pd, false);
  ASSERT_GE(a.fd, 0);
  pd.at(200ms);
  pd.inject("F. 1:1(0) ack 1 win 257");
  pd.expect(". 1:1(0) ack 2 win 512");
  char buf[100];
  EXPECT_EQ(pd.read(a.fd, buf, sizeof buf), 0);
  pd.at(300ms);
  ASSERT_EQ(pd.close(a.fd), 0);
  pd.expect("F. 1:1(0) ack 2 win 512");
  pd.at(400ms);
  pd.inject(". 2:2(0) ack 2 win 257");
  pd.expect_nothing();
  // The connection is gone: a segment for it is answered with a reset.
  pd.inject(". 2:2(0) ack 2 win 257");
  pd.expect("R 2:2(0) win 0");
}

// close() with data unread aborts (RFC 2525 §2.17, as Linux does): a RST, no FIN. (Linux's
// RST here carries its receive window, not 0, and the timestamps option when in use.)
// +0   < P. 1:101(100) ack 1 win 257
// +.04 > . 1:1(0) ack 101
// +0   close(4) = 0
// +0   > R. 1:1(0) ack 101 win 0
TEST(PacketdrillClose, CloseWithUnreadDataResets) {
  Packetdrill pd(SYNACK_PACKETDRILL_SO);
  const auto a = passive_open(pd, false);
  ASSERT_GE(a.fd, 0);
  pd.at(200ms);
  pd.inject("P. 1:101(100) ack 1 win 257", pattern(100));
  // The kept window, 65536 - 101 = 65435, rounded up: 65536 >> 7 = 512 (100 octets past
  // the 65436 free, within the 127 of slack).
  pd.expect_at(240ms, ". 1:1(0) ack 101 win 512");
  ASSERT_EQ(pd.close(a.fd), 0);
  pd.expect("R. 1:1(0) ack 101 win 0");
  pd.inject(". 1:1(0) ack 1 win 257");
  pd.expect("R 1:1(0) win 0");
}

// Our FIN is never acknowledged: it goes again after each retransmission timeout, the
// timeout doubling each time. The handshake measured 100 ms, so the RTO is 300 ms
// (RFC 6298: SRTT + 4 * RTTVAR = 100 + 4 * 50), as Linux computes it too. (Linux 6.x first
// sends a tail loss probe, RFC 8985, and backs off only from the second timeout: about
// +0.33, +0.32, +0.64, +1.28 s.)
// +.1  close(4) = 0
// +0   > F. 1:1(0) ack 1
// +.3  > F. 1:1(0) ack 1
// +.6  > F. 1:1(0) ack 1
// +1.2 > F. 1:1(0) ack 1
// +2.4 > F. 1:1(0) ack 1
// +.1  < . 1:1(0) ack 2 win 257
TEST(PacketdrillClose, FinIsRetransmittedOnTheVirtualClock) {
  Packetdrill pd(SYNACK_PACKETDRILL_SO);
  const auto a = passive_open(pd, false);
  ASSERT_GE(a.fd, 0);
  pd.at(200ms);
  ASSERT_EQ(pd.close(a.fd), 0);
  pd.expect_at(200ms, "F. 1:1(0) ack 1 win 512");
  pd.expect_at(500ms, "F. 1:1(0) ack 1 win 512");
  pd.expect_at(1100ms, "F. 1:1(0) ack 1 win 512");
  pd.expect_at(2300ms, "F. 1:1(0) ack 1 win 512");
  pd.expect_at(4700ms, "F. 1:1(0) ack 1 win 512");
  pd.at(4800ms);
  pd.inject(". 1:1(0) ack 2 win 257");
  pd.expect_nothing();
}

}  // namespace
}  // namespace synack::testing
