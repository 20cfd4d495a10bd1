// The stack's resource limits through the C ABI: synack_host_new's max_sockets= and
// max_buffer_memory= flags, and the errno values the limits give: EMFILE from socket() and
// accept() (the connection stays queued), ENOBUFS from write(), send() and sendto().
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <cerrno>
#include <string>

#include "support/capi_peer.hpp"

namespace synack::testing {
namespace {

TEST(CapiLimits, FlagsThatDoNotParseAreRefused) {
  errno = 0;
  EXPECT_EQ(synack_host_new("max_sockets=many"), nullptr);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(synack_host_new("max_buffer_memory=-1"), nullptr);
  EXPECT_EQ(errno, EINVAL);
}

TEST(CapiLimits, SocketAndAcceptBeyondMaxSocketsAreEmfile) {
  CapiPeer p("wscale=0 sack=0 timestamps=0 max_sockets=2");
  synack_host* h = p.host();
  const int listener = p.listen(8080);
  wire::TcpOptions mss;
  mss.mss = 1460;
  p.inject({.flags = SYN, .seq = 1000, .options = mss});
  const Seen synack = p.expect({.flags = SYN | ACK, .ack = 1001});
  p.inject({.flags = ACK, .seq = 1001, .ack = synack.header.seq + 1});
  const int other = synack_socket(h, AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(other, 0);  // two sockets: the limit

  errno = 0;
  EXPECT_EQ(synack_socket(h, AF_INET, SOCK_STREAM, 0), -1);
  EXPECT_EQ(errno, EMFILE);
  errno = 0;
  EXPECT_EQ(synack_accept(h, listener, nullptr, nullptr), -1);
  EXPECT_EQ(errno, EMFILE);

  EXPECT_EQ(synack_close(h, other), 0);
  const int fd = synack_accept(h, listener, nullptr, nullptr);  // still queued
  EXPECT_GE(fd, 0);
  EXPECT_EQ(synack_write(h, fd, "ok", 2), 2);
  p.expect({.flags = ACK | PSH, .seq = synack.header.seq + 1, .ack = 1001, .payload = "ok"});
}

TEST(CapiLimits, WriteSendAndSendtoBeyondMaxBufferMemoryAreEnobufs) {
  CapiPeer p("wscale=0 sack=0 timestamps=0 max_buffer_memory=1000");
  synack_host* h = p.host();
  const CapiPeer::Accepted a = p.accept_established();
  const std::string data(1500, 'a');
  EXPECT_EQ(synack_send(h, a.fd, data.data(), data.size(), MSG_DONTWAIT), 1000);
  errno = 0;
  EXPECT_EQ(synack_send(h, a.fd, data.data(), data.size(), MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, ENOBUFS);
  errno = 0;
  EXPECT_EQ(synack_write(h, a.fd, "x", 1), -1);  // a blocking write is told too
  EXPECT_EQ(errno, ENOBUFS);

  const int u = synack_socket(h, AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(u, 0);
  const sockaddr_in to = ipv4_address(CapiPeer::kRemote, 9);
  errno = 0;
  EXPECT_EQ(synack_sendto(h, u, "x", 1, 0, as_sockaddr(to), sizeof to), -1);
  EXPECT_EQ(errno, ENOBUFS);
}

}  // namespace
}  // namespace synack::testing
