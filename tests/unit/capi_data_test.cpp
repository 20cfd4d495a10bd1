// The C ABI's data calls (read/recv/recvmsg and write/send/sendmsg families), fcntl and
// ioctl, driven in-process with the test playing the remote host on the host's wire.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include "support/capi_peer.hpp"
#include "wire/ipv4.hpp"
#include "wire/udp.hpp"

namespace synack::testing {
namespace {

#define EXPECT_ERRNO(call, error) \
  do {                            \
    errno = 0;                    \
    EXPECT_EQ((call), -1);        \
    EXPECT_EQ(errno, (error));    \
  } while (0)

void let_it_block() {
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

std::string received(const char* buf, ssize_t n) {
  return n < 0 ? std::string("<error>") : std::string(buf, static_cast<std::size_t>(n));
}

TEST(CapiData, BytesGoBothWaysAndReadBlocksUntilTheyCome) {
  CapiPeer p;
  synack_host* h = p.host();
  const auto c = p.accept_established();
  p.inject({.flags = ACK | PSH, .seq = c.peer_iss + 1, .ack = c.iss + 1, .payload = "hello"});
  char buf[100];
  EXPECT_EQ(received(buf, synack_recv(h, c.fd, buf, sizeof buf, 0)), "hello");
  EXPECT_EQ(synack_write(h, c.fd, "world", 5), 5);
  p.expect({.flags = ACK | PSH, .seq = c.iss + 1, .ack = c.peer_iss + 6, .payload = "world"});

  std::atomic<bool> calling{false};
  std::atomic<ssize_t> n{-2};
  std::thread reader([&] {
    calling = true;
    n = synack_read(h, c.fd, buf, sizeof buf);
  });
  while (!calling) std::this_thread::yield();
  let_it_block();
  EXPECT_EQ(n, -2) << "read() returned with nothing to read";
  p.inject({.flags = ACK | PSH, .seq = c.peer_iss + 6, .ack = c.iss + 6, .payload = "later"});
  reader.join();
  EXPECT_EQ(received(buf, n), "later");
}

TEST(CapiData, EndOfStreamReadsZeroAndAShutWriterGetsEpipe) {
  CapiPeer p;
  synack_host* h = p.host();
  const auto c = p.accept_established();
  p.inject({.flags = FIN | ACK, .seq = c.peer_iss + 1, .ack = c.iss + 1});
  p.expect({.flags = ACK, .ack = c.peer_iss + 2});
  char buf[10];
  EXPECT_EQ(synack_read(h, c.fd, buf, sizeof buf), 0);
  EXPECT_EQ(synack_read(h, c.fd, buf, sizeof buf), 0);
  EXPECT_EQ(synack_shutdown(h, c.fd, SHUT_WR), 0);
  EXPECT_ERRNO(synack_write(h, c.fd, "x", 1), EPIPE);  // and no SIGPIPE
  EXPECT_ERRNO(synack_send(h, c.fd, "x", 1, MSG_NOSIGNAL), EPIPE);
}

TEST(CapiData, AResetIsReportedOnceThenThePipeIsBroken) {
  CapiPeer p;
  synack_host* h = p.host();
  const auto c = p.accept_established();
  p.inject({.flags = RST, .seq = c.peer_iss + 1});
  EXPECT_ERRNO(synack_write(h, c.fd, "x", 1), ECONNRESET);
  EXPECT_ERRNO(synack_write(h, c.fd, "x", 1), EPIPE);
  char buf[4];
  EXPECT_EQ(synack_read(h, c.fd, buf, sizeof buf), 0);
  EXPECT_ERRNO(synack_shutdown(h, c.fd, SHUT_RDWR), ENOTCONN);
}

TEST(CapiData, AStreamNeverConnectedCannotBeReadOrWritten) {
  CapiPeer p;
  synack_host* h = p.host();
  const int fd = synack_socket(h, AF_INET, SOCK_STREAM, 0);
  char buf[4];
  EXPECT_ERRNO(synack_read(h, fd, buf, sizeof buf), ENOTCONN);
  EXPECT_ERRNO(synack_write(h, fd, "x", 1), EPIPE);  // Linux: EPIPE, not ENOTCONN
  EXPECT_ERRNO(synack_read(h, fd, nullptr, 4), EFAULT);
  EXPECT_ERRNO(synack_write(h, fd, nullptr, 4), EFAULT);
}

TEST(CapiRecv, PeekTruncDontwaitAndUnsupportedFlags) {
  CapiPeer p;
  synack_host* h = p.host();
  const auto c = p.accept_established();
  p.inject({.flags = ACK | PSH, .seq = c.peer_iss + 1, .ack = c.iss + 1, .payload = "abcdef"});
  char buf[16];
  EXPECT_EQ(received(buf, synack_recv(h, c.fd, buf, 3, MSG_PEEK)), "abc");
  EXPECT_EQ(synack_recv(h, c.fd, buf, 0, MSG_DONTWAIT), 0);   // data there: 0 at once
  EXPECT_EQ(synack_recv(h, c.fd, nullptr, 2, MSG_TRUNC), 2);  // "ab" discarded
  EXPECT_EQ(received(buf, synack_recv(h, c.fd, buf, sizeof buf, 0)), "cdef");
  EXPECT_ERRNO(synack_recv(h, c.fd, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
  EXPECT_ERRNO(synack_recv(h, c.fd, buf, 0, MSG_DONTWAIT), EAGAIN);
  EXPECT_ERRNO(synack_recv(h, c.fd, buf, sizeof buf, MSG_OOB), EINVAL);
  EXPECT_ERRNO(synack_recv(h, c.fd, buf, sizeof buf, MSG_ERRQUEUE), EAGAIN);
  EXPECT_ERRNO(synack_recv(h, c.fd, buf, sizeof buf, MSG_EOR), EOPNOTSUPP);
  EXPECT_ERRNO(synack_send(h, c.fd, "x", 1, MSG_MORE), EOPNOTSUPP);
  EXPECT_ERRNO(synack_send(h, c.fd, "x", 1, MSG_OOB), EOPNOTSUPP);
  sockaddr_in from{};
  socklen_t from_len = sizeof from;
  p.inject({.flags = ACK | PSH, .seq = c.peer_iss + 7, .ack = c.iss + 1, .payload = "xy"});
  EXPECT_EQ(synack_recvfrom(h, c.fd, buf, sizeof buf, 0, as_sockaddr(from), &from_len), 2);
  EXPECT_EQ(from_len, 0u);  // a stream has no source address to report
}

TEST(CapiRecv, WaitallWaitsForTheWholeLength) {
  CapiPeer p;
  synack_host* h = p.host();
  const auto c = p.accept_established();
  char buf[6];
  std::atomic<ssize_t> n{-2};
  std::thread reader([&] { n = synack_recv(h, c.fd, buf, sizeof buf, MSG_WAITALL); });
  p.inject({.flags = ACK | PSH, .seq = c.peer_iss + 1, .ack = c.iss + 1, .payload = "abc"});
  let_it_block();
  EXPECT_EQ(n, -2) << "returned with half the bytes";
  p.inject({.flags = ACK | PSH, .seq = c.peer_iss + 4, .ack = c.iss + 1, .payload = "def"});
  reader.join();
  EXPECT_EQ(received(buf, n), "abcdef");
}

TEST(CapiData, VectorsScatterAndGather) {
  CapiPeer p;
  synack_host* h = p.host();
  const auto c = p.accept_established();
  char ab[] = "ab";
  char cd[] = "cd";
  const iovec out[] = {{ab, 2}, {nullptr, 0}, {cd, 2}};
  EXPECT_EQ(synack_writev(h, c.fd, out, 3), 4);
  p.expect({.flags = ACK | PSH, .seq = c.iss + 1, .payload = "abcd"});
  EXPECT_ERRNO(synack_writev(h, c.fd, out, -1), EINVAL);
  EXPECT_ERRNO(synack_writev(h, c.fd, out, 1025), EINVAL);

  p.inject({.flags = ACK | PSH, .seq = c.peer_iss + 1, .ack = c.iss + 5, .payload = "0123456789"});
  char a[3], b[3], rest[10];
  const iovec in[] = {{a, 3}, {b, 3}, {rest, 10}};
  EXPECT_EQ(synack_readv(h, c.fd, in, 3), 10);
  EXPECT_EQ(std::string(a, 3), "012");
  EXPECT_EQ(std::string(b, 3), "345");
  EXPECT_EQ(std::string(rest, 4), "6789");

  char hello[] = "hello";
  iovec one{hello, 5};
  msghdr m{};
  m.msg_iov = &one;
  m.msg_iovlen = 1;
  EXPECT_EQ(synack_sendmsg(h, c.fd, &m, 0), 5);
  p.expect({.flags = ACK | PSH, .seq = c.iss + 5, .payload = "hello"});
  char control[16];
  m.msg_control = control;
  m.msg_controllen = sizeof control;
  EXPECT_ERRNO(synack_sendmsg(h, c.fd, &m, 0), EOPNOTSUPP);  // no control messages

  p.inject({.flags = ACK | PSH, .seq = c.peer_iss + 11, .ack = c.iss + 10, .payload = "msg"});
  char body[8];
  iovec into{body, sizeof body};
  sockaddr_in name{};
  msghdr r{};
  r.msg_name = &name;
  r.msg_namelen = sizeof name;
  r.msg_iov = &into;
  r.msg_iovlen = 1;
  r.msg_control = control;
  r.msg_controllen = sizeof control;
  r.msg_flags = 123;
  EXPECT_EQ(synack_recvmsg(h, c.fd, &r, 0), 3);
  EXPECT_EQ(std::string(body, 3), "msg");
  EXPECT_EQ(r.msg_namelen, 0u);
  EXPECT_EQ(r.msg_controllen, 0u);
  EXPECT_EQ(r.msg_flags, 0);
}

TEST(CapiData, ABlockingWriteWaitsForRoomUntilEverythingIsTaken) {
  CapiPeer p;
  synack_host* h = p.host();
  const auto c = p.accept_established();
  const std::string data(200'000, 'z');  // three times the 64 KiB send buffer
  std::atomic<ssize_t> n{-2};
  std::thread writer([&] { n = synack_write(h, c.fd, data.data(), data.size()); });
  std::size_t got = 0;
  for (int idle = 0; got < data.size() && idle < 2000;) {
    const auto s = p.next();
    if (!s) {
      ++idle;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    EXPECT_EQ(s->header.seq, c.iss + 1 + got) << "a retransmission or a gap";
    got += s->payload.size();
    p.inject(
        {.flags = ACK, .seq = c.peer_iss + 1, .ack = static_cast<std::uint32_t>(c.iss + 1 + got)});
  }
  writer.join();
  EXPECT_EQ(n, static_cast<ssize_t>(data.size()));
  EXPECT_EQ(got, data.size());
}

TEST(CapiIoctl, QueuedBytesBothWays) {
  CapiPeer p;
  synack_host* h = p.host();
  const auto c = p.accept_established();
  int n = -1;
  EXPECT_EQ(synack_ioctl(h, c.fd, FIONREAD, &n), 0);
  EXPECT_EQ(n, 0);
  p.inject({.flags = ACK | PSH, .seq = c.peer_iss + 1, .ack = c.iss + 1, .payload = "hello"});
  EXPECT_EQ(synack_ioctl(h, c.fd, SIOCINQ, &n), 0);
  EXPECT_EQ(n, 5);
  EXPECT_EQ(synack_write(h, c.fd, "0123456789", 10), 10);
  EXPECT_EQ(synack_ioctl(h, c.fd, SIOCOUTQ, &n), 0);
  EXPECT_EQ(n, 10);
  p.expect({.flags = ACK | PSH, .len = 10});
  p.inject({.flags = ACK, .seq = c.peer_iss + 6, .ack = c.iss + 11});
  EXPECT_EQ(synack_ioctl(h, c.fd, SIOCOUTQ, &n), 0);
  EXPECT_EQ(n, 0);
  EXPECT_ERRNO(synack_ioctl(h, c.listener, FIONREAD, &n), EINVAL);
  EXPECT_ERRNO(synack_ioctl(h, c.fd, SIOCATMARK, &n), ENOTTY);
  EXPECT_ERRNO(synack_ioctl(h, c.fd, FIONREAD, nullptr), EFAULT);
}

TEST(CapiIoctl, FionbioAndFcntlSetTheSameFlag) {
  CapiPeer p;
  synack_host* h = p.host();
  const auto c = p.accept_established();
  char buf[4];
  int on = 1;
  EXPECT_EQ(synack_ioctl(h, c.fd, FIONBIO, &on), 0);
  EXPECT_EQ(synack_fcntl(h, c.fd, F_GETFL), O_RDWR | O_NONBLOCK);
  EXPECT_ERRNO(synack_read(h, c.fd, buf, sizeof buf), EAGAIN);
  EXPECT_EQ(synack_fcntl(h, c.fd, F_SETFL, 0), 0);
  EXPECT_EQ(synack_fcntl(h, c.fd, F_GETFL), O_RDWR);
  EXPECT_EQ(synack_fcntl(h, c.fd, F_SETFL, O_RDWR | O_NONBLOCK), 0);
  EXPECT_ERRNO(synack_recv(h, c.fd, buf, sizeof buf, 0), EAGAIN);
  EXPECT_ERRNO(synack_fcntl(h, c.fd, F_SETFL, O_ASYNC), EINVAL);  // no SIGIO here

  EXPECT_EQ(synack_fcntl(h, c.fd, F_GETFD), 0);
  EXPECT_EQ(synack_fcntl(h, c.fd, F_SETFD, FD_CLOEXEC), 0);
  EXPECT_EQ(synack_fcntl(h, c.fd, F_GETFD), FD_CLOEXEC);
  EXPECT_EQ(::fcntl(c.fd, F_GETFD), FD_CLOEXEC);
  EXPECT_ERRNO(synack_fcntl(h, c.fd, F_DUPFD, 0), EINVAL);
}

// The UDP header and payload of an IPv4 packet.
struct Datagram {
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::string payload;
};
std::optional<Datagram> datagram_of(const std::vector<std::uint8_t>& packet) {
  auto ip = wire::Ipv4View::parse(packet);
  if (!ip || ip->protocol() != wire::kUdp) return std::nullopt;
  auto udp = wire::UdpView::parse(ip->payload());
  if (!udp) return std::nullopt;
  const auto body = udp->payload();
  return Datagram{udp->src_port(), udp->dst_port(), std::string(body.begin(), body.end())};
}

TEST(CapiUdp, DatagramsKeepTheirBoundariesAndSources) {
  CapiPeer p;
  synack_host* h = p.host();
  const int fd = synack_socket(h, AF_INET, SOCK_DGRAM, 0);
  const sockaddr_in local = ipv4_address(Ipv4Address(), 5353);
  ASSERT_EQ(synack_bind(h, fd, as_sockaddr(local), sizeof local), 0);
  p.inject_udp(9999, 5353, "hello world");
  p.inject_udp(9999, 5353, "second");
  int n = -1;
  EXPECT_EQ(synack_ioctl(h, fd, FIONREAD, &n), 0);
  EXPECT_EQ(n, 11);  // the next datagram
  char buf[5];
  sockaddr_in from{};
  socklen_t from_len = sizeof from;
  EXPECT_EQ(synack_recvfrom(h, fd, buf, sizeof buf, MSG_TRUNC, as_sockaddr(from), &from_len), 11);
  EXPECT_EQ(std::string(buf, 5), "hello");
  EXPECT_EQ(from_len, sizeof from);
  EXPECT_EQ(ntohl(from.sin_addr.s_addr), CapiPeer::kRemote.to_u32());
  EXPECT_EQ(ntohs(from.sin_port), 9999);
  iovec into{buf, sizeof buf};
  msghdr m{};
  m.msg_iov = &into;
  m.msg_iovlen = 1;
  EXPECT_EQ(synack_recvmsg(h, fd, &m, 0), 5);
  EXPECT_EQ(m.msg_flags, MSG_TRUNC);
  EXPECT_ERRNO(synack_recv(h, fd, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);

  const sockaddr_in to = ipv4_address(CapiPeer::kRemote, 9999);
  EXPECT_EQ(synack_sendto(h, fd, "ping", 4, 0, as_sockaddr(to), sizeof to), 4);
  const auto packet = p.next_packet();
  ASSERT_TRUE(packet);
  const auto d = datagram_of(*packet);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->src_port, 5353);
  EXPECT_EQ(d->dst_port, 9999);
  EXPECT_EQ(d->payload, "ping");
}

TEST(CapiUdp, DestinationsAndSizes) {
  CapiPeer p;
  synack_host* h = p.host();
  const int fd = synack_socket(h, AF_INET, SOCK_DGRAM, 0);
  EXPECT_ERRNO(synack_send(h, fd, "x", 1, 0), EDESTADDRREQ);
  const sockaddr_in to = ipv4_address(CapiPeer::kRemote, 9999);
  const std::string big(65508, 'b');
  EXPECT_ERRNO(synack_sendto(h, fd, big.data(), big.size(), 0, as_sockaddr(to), sizeof to),
               EMSGSIZE);
  EXPECT_ERRNO(synack_sendto(h, fd, "x", 1, 0, as_sockaddr(to), sizeof to - 1), EINVAL);
  EXPECT_ERRNO(synack_sendto(h, fd, "x", 1, MSG_OOB, as_sockaddr(to), sizeof to), EOPNOTSUPP);
  ASSERT_EQ(synack_connect(h, fd, as_sockaddr(to), sizeof to), 0);
  EXPECT_EQ(synack_send(h, fd, "x", 1, 0), 1);
  ASSERT_TRUE(p.next_packet());
  sockaddr_in unspec{};
  unspec.sin_family = AF_UNSPEC;
  EXPECT_ERRNO(synack_connect(h, fd, as_sockaddr(unspec), 1), EINVAL);
  EXPECT_EQ(synack_connect(h, fd, as_sockaddr(unspec), sizeof(sa_family_t)), 0);
  EXPECT_ERRNO(synack_send(h, fd, "x", 1, 0), EDESTADDRREQ);  // disconnected
  ASSERT_EQ(synack_connect(h, fd, as_sockaddr(to), sizeof to), 0);
  EXPECT_EQ(synack_shutdown(h, fd, SHUT_WR), 0);
  EXPECT_ERRNO(synack_send(h, fd, "x", 1, 0), EPIPE);
}

// packetdrill scripts read, write, fcntl and close their pipes through the same calls as
// their sockets: a number that is none of the host's goes to the kernel.
TEST(CapiData, FileCallsOnAKernelPipeReachTheKernel) {
  CapiPeer p;
  synack_host* h = p.host();
  int fds[2];
  ASSERT_EQ(synack_pipe(h, fds), 0);
  ASSERT_EQ(synack_fcntl(h, fds[0], F_SETFL, O_NONBLOCK), 0);
  EXPECT_EQ(synack_fcntl(h, fds[0], F_GETFL) & O_NONBLOCK, O_NONBLOCK);
  char buf[8];
  EXPECT_ERRNO(synack_read(h, fds[0], buf, sizeof buf), EAGAIN);
  EXPECT_EQ(synack_write(h, fds[1], "pipe", 4), 4);
  int queued = 0;
  ASSERT_EQ(synack_ioctl(h, fds[0], FIONREAD, &queued), 0);
  EXPECT_EQ(queued, 4);
  EXPECT_EQ(received(buf, synack_read(h, fds[0], buf, sizeof buf)), "pipe");
  EXPECT_EQ(synack_close(h, fds[1]), 0);
  EXPECT_EQ(synack_read(h, fds[0], buf, sizeof buf), 0);  // the write end is gone: EOF
  EXPECT_EQ(synack_close(h, fds[0]), 0);
  EXPECT_ERRNO(synack_close(h, fds[0]), EBADF);
  // The socket calls still say what a pipe is not.
  EXPECT_ERRNO(synack_recv(h, fds[0], buf, sizeof buf, 0), EBADF);
}

}  // namespace
}  // namespace synack::testing
