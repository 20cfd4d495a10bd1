// packetdrill scripts of the byte stream through libsynack_packetdrill.so: data both ways
// with exact sequence numbers, acknowledgments and windows, Linux's layout of timestamps
// (`NOP, NOP, timestamps`) and SACK blocks (after `NOP, NOP`) on data segments, and a
// 64 KB packet taken whole.
#include <gtest/gtest.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>

#include "support/packetdrill_driver.hpp"
#include "support/packetdrill_scripts.hpp"

namespace synack::testing {
namespace {

TEST(PacketdrillData, BothWaysWithTimestamps) {
  Packetdrill pd(SYNACK_PACKETDRILL_SO);
  const auto a = passive_open(pd, true);
  ASSERT_GE(a.fd, 0);

  // +.1  < P. 1:1001(1000) ack 1 win 257 <nop,nop,TS val 300 ecr *>
  // +.04 > . 1:1(0) ack 1001 <nop,nop,TS val * ecr 300>        (the delayed ACK)
  // (Linux ACKs here at +0: the first data segments of a connection find it in quick-ACK
  // mode. synack delays every lone in-order segment's ACK by 40 ms.)
  pd.at(200ms);
  const std::string in = pattern(1000);
  pd.inject("P. 1:1001(1000) ack 1 win 257 <nop,nop,TS val 300 ecr *>", in);
  int queued = -1;
  EXPECT_EQ(pd.ifc().ioctl(pd.userdata(), a.fd, FIONREAD, &queued), 0);
  EXPECT_EQ(queued, 1000);
  // The SYN,ACK's right edge, 1 + 65535, kept: 64535 from 1001, rounded up to a unit of
  // 128 so as not to shrink it: 64640 >> 7 = 505 (104 octets past the 64536 free, within
  // the buffer's 127 of slack).
  pd.expect_at(240ms, ". 1:1(0) ack 1001 win 505 <nop,nop,TS val * ecr 300>");
  EXPECT_EQ(read_all(pd, a.fd, 1000), in);
  // Reading the 1000 octets frees the whole buffer, 65536, but the edge offered already
  // stands 64640 past 1001: moving it would gain 896 octets, less than the peer's MSS
  // (1000), so it stays and no window update goes (RFC 9293 §3.8.6.2.2). (Linux waits
  // until its advertised window has fallen to half and can double.)
  pd.expect_nothing();

  // +0   write(4, ..., 10) = 10
  // +0   > P. 1:11(10) ack 1001 <nop,nop,TS val * ecr 300>
  // +.01 < . 1001:1001(0) ack 11 win 257 <nop,nop,TS val 400 ecr *>
  EXPECT_EQ(pd.write(a.fd, "0123456789"), 10);
  const auto out = pd.expect("P. 1:11(10) ack 1001 win 505 <nop,nop,TS val * ecr 300>");
  ASSERT_TRUE(out);
  EXPECT_EQ(out->payload_text(), "0123456789");
  int unacked = -1;
  EXPECT_EQ(pd.ifc().ioctl(pd.userdata(), a.fd, SIOCOUTQ, &unacked), 0);
  EXPECT_EQ(unacked, 10);
  pd.at(250ms);
  pd.inject(". 1001:1001(0) ack 11 win 257 <nop,nop,TS val 400 ecr *>");
  EXPECT_EQ(pd.ifc().ioctl(pd.userdata(), a.fd, SIOCOUTQ, &unacked), 0);
  EXPECT_EQ(unacked, 0);

  // A hole: 2001:3001 arrives before 1001:2001. The duplicate ACK carries a SACK block
  // after the timestamps: NOP, NOP, timestamps, NOP, NOP, SACK.
  // +0   < P. 2001:3001(1000) ack 11 win 257 <nop,nop,TS val 410 ecr *>
  // +0   > . 11:11(0) ack 1001 <nop,nop,TS val * ecr 400,nop,nop,sack 2001:3001>
  // +.01 < P. 1001:2001(1000) ack 11 win 257 <nop,nop,TS val 420 ecr *>
  // +0   > . 11:11(0) ack 3001 <nop,nop,TS val * ecr 420>
  pd.inject("P. 2001:3001(1000) ack 11 win 257 <nop,nop,TS val 410 ecr *>", pattern(1000));
  pd.expect(". 11:11(0) ack 1001 win 505 <nop,nop,TS val * ecr 400,nop,nop,sack 2001:3001>");
  pd.at(260ms);
  pd.inject("P. 1001:2001(1000) ack 11 win 257 <nop,nop,TS val 420 ecr *>", pattern(1000));
  // The edge, 1001 + 64640 = 65641, kept: 62640 from 3001, rounded up to 62720 = 490 << 7
  // (80 octets past the 63536 free).
  pd.expect(". 11:11(0) ack 3001 win 490 <nop,nop,TS val * ecr 420>");
  EXPECT_EQ(read_all(pd, a.fd, 2000).size(), 2000u);
  // Now the edge can move by 65536 - 62720 = 2816 octets, more than an MSS: the window
  // update goes at once, the whole buffer, 65536 >> 7 = 512.
  pd.expect(". 11:11(0) ack 3001 win 512 <nop,nop,TS val * ecr 420>");
}

// Without timestamps data segments carry no options, and a SACK block follows NOP, NOP.
TEST(PacketdrillData, SackBlocksWithoutTimestamps) {
  Packetdrill pd(SYNACK_PACKETDRILL_SO);
  const auto a = passive_open(pd, false);
  ASSERT_GE(a.fd, 0);
  pd.inject("P. 1001:2001(1000) ack 1 win 257", pattern(1000));
  // The SYN,ACK's 65535 kept, rounded up: 65536 >> 7 = 512. Data out of order leaves it.
  pd.expect(". 1:1(0) ack 1 win 512 <nop,nop,sack 1001:2001>");
  pd.inject("P. 3001:4001(1000) ack 1 win 257", pattern(1000));
  // Newest block first (RFC 2018 §4).
  pd.expect(". 1:1(0) ack 1 win 512 <nop,nop,sack 3001:4001 1001:2001>");
  pd.inject("P. 1:1001(1000) ack 1 win 257", pattern(1000));
  // The edge, 1 + 65536, kept: 63536 from 2001, rounded up to 63616 = 497 << 7 (80 octets
  // past the 63536 free).
  pd.expect(". 1:1(0) ack 2001 win 497 <nop,nop,sack 3001:4001>");

  EXPECT_EQ(pd.write(a.fd, "x"), 1);
  pd.expect("P. 1:2(1) ack 2001 win 497 <nop,nop,sack 3001:4001>");
}

// netdev_send takes a packet far above the MTU (here the largest IPv4 packet, 65535
// bytes) whole: all of it is acknowledged and readable.
TEST(PacketdrillData, A64KilobytePacketIsTakenWhole) {
  Packetdrill pd(SYNACK_PACKETDRILL_SO);
  const auto a = passive_open(pd, false);
  ASSERT_GE(a.fd, 0);
  const std::size_t n = 65535 - 40;
  const std::string big = pattern(n);
  pd.inject("P. 1:" + std::to_string(n + 1) + "(" + std::to_string(n) + ") ack 1 win 257", big);
  const auto ack = pd.receive();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->line.substr(0, ack->line.find(" win")), ". 1:1(0) ack " + std::to_string(n + 1));
  int queued = -1;
  EXPECT_EQ(pd.ifc().ioctl(pd.userdata(), a.fd, FIONREAD, &queued), 0);
  EXPECT_EQ(queued, static_cast<int>(n));
  EXPECT_EQ(read_all(pd, a.fd, n), big);
}

// A read() the script marks as blocking sleeps on the tool's second thread while virtual
// time passes, and wakes when the data is injected.
// +0   read(4, ..., 100) = 5                    (blocking: on the second thread)
// +1   < P. 1:6(5) ack 1 win 257
// +.04 > . 1:1(0) ack 6 win 512     (5 bytes read is no SWS step: the window kept, 65530
//                                     from 6, rounded up to 65536 = 512 << 7)
TEST(PacketdrillData, ReadSleepsUntilDataArrives) {
  Packetdrill pd(SYNACK_PACKETDRILL_SO);
  const auto a = passive_open(pd, false);
  ASSERT_GE(a.fd, 0);
  char buf[100] = {};
  BlockingCall read([&] { return long{pd.read(a.fd, buf, sizeof buf)}; });
  EXPECT_TRUE(read.sleeping());
  pd.at(1100ms);
  EXPECT_FALSE(read.returned());
  EXPECT_TRUE(read.sleeping());
  pd.inject("P. 1:6(5) ack 1 win 257", "hello");
  EXPECT_EQ(read.wait(), 5);
  EXPECT_EQ(std::string(buf, 5), "hello");
  pd.expect_at(1140ms, ". 1:1(0) ack 6 win 512");
}

// SO_RCVTIMEO runs on the virtual clock: the blocked read() gives up (EAGAIN) exactly when
// the script's usleep carries time past it.
TEST(PacketdrillData, ReceiveTimeoutExpiresInVirtualTime) {
  Packetdrill pd(SYNACK_PACKETDRILL_SO);
  const auto a = passive_open(pd, false);
  ASSERT_GE(a.fd, 0);
  const timeval timeout{.tv_sec = 0, .tv_usec = 500'000};
  ASSERT_EQ(
      pd.ifc().setsockopt(pd.userdata(), a.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout),
      0);
  char c = 0;
  BlockingCall read([&] { return long{pd.read(a.fd, &c, 1)}; });
  EXPECT_TRUE(read.sleeping());
  pd.at(pd.now() + 499ms);
  EXPECT_TRUE(read.sleeping()) << "1 ms before the timeout";
  pd.at(pd.now() + 1ms);
  EXPECT_EQ(read.wait(), -1);
  EXPECT_EQ(read.error(), EAGAIN);
}

}  // namespace
}  // namespace synack::testing
