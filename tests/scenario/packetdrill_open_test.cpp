// packetdrill scripts of the handshake, played through libsynack_packetdrill.so as the tool
// plays them: the passive open with accept() blocked on the tool's second thread, the
// active open with a non-blocking connect, a refused connect, and the option layouts Linux
// uses on SYNs (checked byte for byte).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>

#include "support/packetdrill_driver.hpp"
#include "support/packetdrill_scripts.hpp"

namespace synack::testing {
namespace {

// 0    socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
// +0   bind(3, ..., ...) = 0
// +0   listen(3, 1) = 0
// +0   accept(3, ..., ...) = 4          // blocking: runs on the second thread
// +0   < S 0:0(0) win 32792 <mss 1000,sackOK,TS val 100 ecr 0,nop,wscale 7>
// +0   > S. 0:0(0) ack 1 win 65535 <mss 1460,sackOK,TS val * ecr 100,nop,wscale 7>
// +.1  < . 1:1(0) ack 1 win 257 <nop,nop,TS val 200 ecr *>
TEST(PacketdrillOpen, AcceptSleepsOnItsThreadUntilTheFinalAck) {
  Packetdrill pd(SYNACK_PACKETDRILL_SO);
  const int listener = pd.socket();
  ASSERT_GE(listener, 0);
  ASSERT_EQ(pd.bind(listener), 0);
  ASSERT_EQ(pd.listen(listener, 1), 0);

  sockaddr_storage peer{};
  socklen_t peer_len = sizeof peer;
  BlockingCall accept(
      [&] { return long{pd.accept(listener, reinterpret_cast<sockaddr*>(&peer), &peer_len)}; });
  EXPECT_TRUE(accept.sleeping()) << "accept() must wait on a condition variable";

  pd.inject(kSynTs);
  pd.expect(kSynAckTs);
  // The handshake is half done and 100 ms of virtual time pass: accept() still sleeps.
  pd.at(100ms);
  EXPECT_FALSE(accept.returned());
  EXPECT_TRUE(accept.sleeping());

  pd.inject(". 1:1(0) ack 1 win 257 <nop,nop,TS val 200 ecr *>");
  const auto fd = accept.wait();
  ASSERT_TRUE(fd.has_value()) << "accept() did not return after the final ACK";
  EXPECT_GE(*fd, 0) << std::strerror(accept.error());
  EXPECT_NE(*fd, listener);
  EXPECT_EQ(peer_len, socklen_t{sizeof(sockaddr_in)});
  EXPECT_EQ(address_text(peer), "192.0.2.1:40000");
  EXPECT_EQ(pd.now(), 100ms) << "accept() moved no time";
}

// Without timestamps Linux pads SACK-permitted with NOPs: MSS, NOP, NOP, SACK-permitted,
// NOP, window scale. The shift, 7, is Linux's too (kSynAck).
TEST(PacketdrillOpen, SynAckWithoutTimestampsHasLinuxsLayout) {
  Packetdrill pd(SYNACK_PACKETDRILL_SO);
  const auto a = passive_open(pd, false);
  EXPECT_GE(a.fd, 0);
}

// A SYN with only an MSS is answered with only an MSS.
TEST(PacketdrillOpen, SynAckOffersOnlyWhatTheSynOffered) {
  Packetdrill pd(SYNACK_PACKETDRILL_SO);
  const int listener = pd.socket();
  ASSERT_EQ(pd.bind(listener), 0);
  ASSERT_EQ(pd.listen(listener, 1), 0);
  pd.inject("S 0:0(0) win 32792 <mss 1000>");
  pd.expect("S. 0:0(0) ack 1 win 65535 <mss 1460>");
  pd.inject("S 0:0(0) win 32792");  // a retransmitted SYN with no options at all
  pd.expect("S. 0:0(0) ack 1 win 65535 <mss 1460>");
}

// 0    socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
// +0   fcntl(3, F_GETFL) = 0x2 (flags O_RDWR)
// +0   fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
// +0   connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
// +0   > S 0:0(0) <mss 1460,sackOK,TS val * ecr 0,nop,wscale 7>
// +.05 < S. 0:0(0) ack 1 win 5792 <mss 1200,sackOK,TS val 700 ecr *,nop,wscale 7>
// +0   > . 1:1(0) ack 1 win 512 <nop,nop,TS val * ecr 700>    (65536 >> 7: the whole buffer)
// +0   poll([{fd=3, events=POLLOUT}], 1, 0) = 1 ([{fd=3, revents=POLLOUT}])
// +0   getsockopt(3, SOL_SOCKET, SO_ERROR, [0], [4]) = 0
// +0   connect(3, ..., ...) = 0
// +0   connect(3, ..., ...) = -1 EISCONN (Transport endpoint is already connected)
TEST(PacketdrillOpen, NonBlockingConnectIsInProgressUntilTheSynAck) {
  Packetdrill pd(SYNACK_PACKETDRILL_SO);
  const int fd = pd.socket();
  ASSERT_GE(fd, 0);
  const int flags = pd.fcntl(fd, F_GETFL);
  ASSERT_GE(flags, 0);
  EXPECT_EQ(flags & O_NONBLOCK, 0);
  EXPECT_EQ(flags & O_ACCMODE, O_RDWR);
  ASSERT_EQ(pd.fcntl(fd, F_SETFL, flags | O_NONBLOCK), 0);
  EXPECT_EQ(pd.fcntl(fd, F_GETFL) & O_NONBLOCK, O_NONBLOCK);

  errno = 0;
  EXPECT_EQ(pd.connect(fd), -1);
  EXPECT_EQ(errno, EINPROGRESS);
  pd.expect("S 0:0(0) win 65535 <mss 1460,sackOK,TS val * ecr 0,nop,wscale 7>");
  EXPECT_NE(pd.local_port(), 0);
  pollfd p{.fd = fd, .events = POLLOUT, .revents = 0};
  EXPECT_EQ(pd.poll(&p, 1, 0), 0) << "not writable while SYN_SENT";
  errno = 0;
  EXPECT_EQ(pd.connect(fd), -1);
  EXPECT_EQ(errno, EALREADY);

  pd.at(50ms);
  pd.inject("S. 0:0(0) ack 1 win 5792 <mss 1200,sackOK,TS val 700 ecr *,nop,wscale 7>");
  pd.expect(". 1:1(0) ack 1 win 512 <nop,nop,TS val * ecr 700>");
  p.revents = 0;
  EXPECT_EQ(pd.poll(&p, 1, 0), 1);
  EXPECT_EQ(p.revents, POLLOUT);
  int error = -1;
  EXPECT_EQ(pd.get_int_option(fd, SOL_SOCKET, SO_ERROR, &error), 0);
  EXPECT_EQ(error, 0);
  // As on Linux: the first connect() after the handshake completed says 0 (the socket
  // becomes connected), the next EISCONN.
  EXPECT_EQ(pd.connect(fd), 0);
  errno = 0;
  EXPECT_EQ(pd.connect(fd), -1);
  EXPECT_EQ(errno, EISCONN);
}

// +0   connect(3, ..., ...) = -1 EINPROGRESS
// +0   > S 0:0(0) <...>
// +.01 < R. 0:0(0) ack 1 win 0
// +0   poll([{fd=3, events=POLLOUT}], 1, 0) = 1 ([{fd=3, revents=POLLOUT|POLLERR|POLLHUP}])
// +0   getsockopt(3, SOL_SOCKET, SO_ERROR, [ECONNREFUSED], [4]) = 0
TEST(PacketdrillOpen, ResetAnsweringTheSynRefusesTheConnect) {
  Packetdrill pd(SYNACK_PACKETDRILL_SO);
  const int fd = pd.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_TCP);
  ASSERT_GE(fd, 0);
  errno = 0;
  EXPECT_EQ(pd.connect(fd), -1);
  EXPECT_EQ(errno, EINPROGRESS);
  pd.expect("S 0:0(0) win 65535 <mss 1460,sackOK,TS val * ecr 0,nop,wscale 7>");
  pd.at(10ms);
  pd.inject("R. 0:0(0) ack 1 win 0");
  pollfd p{.fd = fd, .events = POLLOUT, .revents = 0};
  EXPECT_EQ(pd.poll(&p, 1, 0), 1);
  EXPECT_EQ(p.revents, POLLOUT | POLLERR | POLLHUP);
  int error = -1;
  EXPECT_EQ(pd.get_int_option(fd, SOL_SOCKET, SO_ERROR, &error), 0);
  EXPECT_EQ(error, ECONNREFUSED);
  EXPECT_EQ(pd.get_int_option(fd, SOL_SOCKET, SO_ERROR, &error), 0);
  EXPECT_EQ(error, 0) << "reading SO_ERROR clears it";
  pd.expect_nothing();
}

// --ip_version=ipv4-mapped-ipv6: AF_INET6 sockets, ::ffff: addresses, IPv4 packets.
TEST(PacketdrillOpen, Ipv4MappedIpv6PassiveOpenReportsAMappedPeer) {
  Packetdrill pd(SYNACK_PACKETDRILL_SO, Packetdrill::Mode::ipv4_mapped_ipv6);
  const int listener = pd.socket();
  ASSERT_GE(listener, 0);
  ASSERT_EQ(pd.bind(listener), 0);
  ASSERT_EQ(pd.listen(listener, 1), 0);
  pd.inject(kSyn);
  pd.expect(kSynAck);
  pd.at(100ms);
  pd.inject(". 1:1(0) ack 1 win 257");
  sockaddr_storage peer{};
  socklen_t len = sizeof peer;
  const int fd = pd.accept(listener, reinterpret_cast<sockaddr*>(&peer), &len);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  EXPECT_EQ(len, socklen_t{sizeof(sockaddr_in6)});
  EXPECT_EQ(address_text(peer), "[::ffff:192.0.2.1]:40000");
  // Data flows as on an AF_INET socket. Its window is the SYN,ACK's 65535 kept, rounded up
  // to a unit: 65536 >> 7 = 512.
  EXPECT_EQ(pd.write(fd, "hello"), 5);
  pd.expect("P. 1:6(5) ack 1 win 512");
}

TEST(PacketdrillOpen, Ipv4MappedIpv6ActiveOpen) {
  Packetdrill pd(SYNACK_PACKETDRILL_SO, Packetdrill::Mode::ipv4_mapped_ipv6);
  const int fd = pd.socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_TCP);
  ASSERT_GE(fd, 0);
  errno = 0;
  EXPECT_EQ(pd.connect(fd), -1);
  EXPECT_EQ(errno, EINPROGRESS);
  pd.expect("S 0:0(0) win 65535 <mss 1460,sackOK,TS val * ecr 0,nop,wscale 7>");
  pd.at(20ms);
  pd.inject("S. 0:0(0) ack 1 win 5792 <mss 1460,nop,nop,sackOK,nop,wscale 7>");
  pd.expect(". 1:1(0) ack 1 win 512");
  int error = -1;
  EXPECT_EQ(pd.get_int_option(fd, SOL_SOCKET, SO_ERROR, &error), 0);
  EXPECT_EQ(error, 0);
}

}  // namespace
}  // namespace synack::testing
