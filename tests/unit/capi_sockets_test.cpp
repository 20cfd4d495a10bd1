// The C ABI's socket calls (socket, bind, listen, accept, connect, shutdown, close and the
// names), driven in-process with the test playing the remote host on the host's wire.
// Expected errnos are Linux's, as the kernel answers them over loopback.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

#include "capi/call.hpp"
#include "support/capi_peer.hpp"

namespace synack::testing {
namespace {

// Calls `call` and checks it failed with `error`.
#define EXPECT_ERRNO(call, error) \
  do {                            \
    errno = 0;                    \
    EXPECT_EQ((call), -1);        \
    EXPECT_EQ(errno, (error));    \
  } while (0)

// Long enough, in real time, for a thread that was about to call a blocking function to
// have gone to sleep in it.
void let_it_block() {
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

// The next segment, which another thread is about to make the host send. Until it does,
// the host has no timer, so synack_netdev_receive returns at once with nothing.
Seen wait_for_segment(CapiPeer& p) {
  for (int i = 0; i < 2000; ++i) {
    if (auto s = p.next()) return *s;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ADD_FAILURE() << "no segment came";
  return {};
}

TEST(CapiSocket, TypeDomainAndProtocolAreCheckedInLinuxOrder) {
  CapiPeer p;
  synack_host* h = p.host();
  EXPECT_ERRNO(synack_socket(h, AF_INET, SOCK_STREAM | 0x100000, 0), EINVAL);
  EXPECT_ERRNO(synack_socket(h, 99, SOCK_STREAM, 0), EAFNOSUPPORT);
  EXPECT_ERRNO(synack_socket(h, AF_INET, 11, 0), EINVAL);
  EXPECT_ERRNO(synack_socket(h, AF_UNIX, SOCK_STREAM, 0), EAFNOSUPPORT);
  EXPECT_ERRNO(synack_socket(h, AF_INET, SOCK_STREAM, -1), EINVAL);
  EXPECT_ERRNO(synack_socket(h, AF_INET, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT);
  EXPECT_ERRNO(synack_socket(h, AF_INET6, SOCK_DGRAM, IPPROTO_TCP), EPROTONOSUPPORT);
  EXPECT_ERRNO(synack_socket(h, AF_INET, SOCK_SEQPACKET, 0), ESOCKTNOSUPPORT);
  EXPECT_ERRNO(synack_socket(h, AF_INET, SOCK_RAW, IPPROTO_TCP), ESOCKTNOSUPPORT);
  const int tcp = synack_socket(h, AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  ASSERT_GE(tcp, 0);
  EXPECT_EQ(synack_fcntl(h, tcp, F_GETFL), O_RDWR | O_NONBLOCK);
  EXPECT_EQ(synack_fcntl(h, tcp, F_GETFD), FD_CLOEXEC);
  EXPECT_EQ(::fcntl(tcp, F_GETFD), FD_CLOEXEC);  // the kernel descriptor is marked too
  const int udp = synack_socket(h, AF_INET6, SOCK_DGRAM, IPPROTO_UDP);
  ASSERT_GE(udp, 0);
  EXPECT_EQ(synack_fcntl(h, udp, F_GETFL), O_RDWR);
  EXPECT_EQ(synack_close(h, tcp), 0);
  EXPECT_EQ(synack_close(h, udp), 0);
  EXPECT_EQ(::fcntl(tcp, F_GETFD), -1);  // closed in the kernel as well
}

TEST(CapiSocket, DescriptorsNobodyOwnsAreBadAndOtherFilesAreNotSockets) {
  CapiPeer p;
  const int fd = synack_socket(p.host(), AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(synack_close(p.host(), fd), 0);
  EXPECT_ERRNO(synack_close(p.host(), fd), EBADF);
  EXPECT_ERRNO(synack_listen(p.host(), -1, 1), EBADF);
  const int file = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(file, 0);
  EXPECT_ERRNO(synack_listen(p.host(), file, 1), ENOTSOCK);
  ::close(file);
}

TEST(CapiBind, AddressesAreCheckedAsLinuxInetBindDoes) {
  CapiPeer p;
  synack_host* h = p.host();
  const int fd = synack_socket(h, AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a = ipv4_address(CapiPeer::kLocal, 5000);
  EXPECT_ERRNO(synack_bind(h, fd, nullptr, sizeof a), EFAULT);
  EXPECT_ERRNO(synack_bind(h, fd, nullptr, 0), EINVAL);
  EXPECT_ERRNO(synack_bind(h, fd, as_sockaddr(a), sizeof a - 1), EINVAL);
  EXPECT_ERRNO(synack_bind(h, fd, as_sockaddr(a), 200), EINVAL);
  a.sin_family = AF_UNSPEC;  // accepted only with INADDR_ANY
  EXPECT_ERRNO(synack_bind(h, fd, as_sockaddr(a), sizeof a), EAFNOSUPPORT);
  a.sin_family = AF_INET6;
  EXPECT_ERRNO(synack_bind(h, fd, as_sockaddr(a), sizeof a), EAFNOSUPPORT);
  sockaddr_in other = ipv4_address(Ipv4Address(192, 0, 2, 99), 5000);
  EXPECT_ERRNO(synack_bind(h, fd, as_sockaddr(other), sizeof other), EADDRNOTAVAIL);
  sockaddr_in any = ipv4_address(Ipv4Address(), 5000);
  any.sin_family = AF_UNSPEC;
  EXPECT_EQ(synack_bind(h, fd, as_sockaddr(any), sizeof any), 0);
  EXPECT_ERRNO(synack_bind(h, fd, as_sockaddr(any), sizeof any), EINVAL);  // bound already
  sockaddr_in name{};
  socklen_t len = sizeof name;
  ASSERT_EQ(synack_getsockname(h, fd, as_sockaddr(name), &len), 0);
  EXPECT_EQ(len, sizeof name);
  EXPECT_EQ(name.sin_family, AF_INET);
  EXPECT_EQ(ntohs(name.sin_port), 5000);
  EXPECT_EQ(name.sin_addr.s_addr, htonl(INADDR_ANY));
}

TEST(CapiBind, Ipv6SocketsTakeAndGiveMappedAddressesOnly) {
  CapiPeer p;
  synack_host* h = p.host();
  const int fd = synack_socket(h, AF_INET6, SOCK_STREAM, 0);
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(8080);
  ASSERT_EQ(inet_pton(AF_INET6, "::ffff:192.168.0.1", &a.sin6_addr), 1);
  const auto* as = static_cast<const sockaddr*>(static_cast<const void*>(&a));
  const sockaddr_in v4 = ipv4_address(CapiPeer::kLocal, 8080);
  EXPECT_ERRNO(synack_bind(h, fd, as_sockaddr(v4), sizeof v4), EINVAL);  // shorter than 24
  EXPECT_ERRNO(synack_bind(h, fd, as, 23), EINVAL);
  EXPECT_EQ(synack_bind(h, fd, as, sizeof a), 0);
  sockaddr_in6 name{};
  socklen_t len = sizeof name;
  ASSERT_EQ(synack_getsockname(h, fd, static_cast<sockaddr*>(static_cast<void*>(&name)), &len), 0);
  EXPECT_EQ(len, sizeof(sockaddr_in6));
  EXPECT_EQ(name.sin6_family, AF_INET6);
  EXPECT_EQ(ntohs(name.sin6_port), 8080);
  EXPECT_EQ(std::memcmp(&name.sin6_addr, &a.sin6_addr, sizeof a.sin6_addr), 0);
  // Native IPv6 has no route here.
  const int other = synack_socket(h, AF_INET6, SOCK_STREAM, 0);
  sockaddr_in6 native = a;
  ASSERT_EQ(inet_pton(AF_INET6, "2001:db8::1", &native.sin6_addr), 1);
  const auto* native_as = static_cast<const sockaddr*>(static_cast<const void*>(&native));
  EXPECT_ERRNO(synack_bind(h, other, native_as, sizeof native), EADDRNOTAVAIL);
  EXPECT_ERRNO(synack_connect(h, other, native_as, sizeof native), ENETUNREACH);
}

TEST(CapiListen, OnlyStreamsListenAndOnlyListenersAccept) {
  CapiPeer p;
  synack_host* h = p.host();
  const int udp = synack_socket(h, AF_INET, SOCK_DGRAM, 0);
  EXPECT_ERRNO(synack_listen(h, udp, 5), EOPNOTSUPP);
  EXPECT_ERRNO(synack_accept(h, udp, nullptr, nullptr), EOPNOTSUPP);
  const int tcp = synack_socket(h, AF_INET, SOCK_STREAM, 0);
  EXPECT_ERRNO(synack_accept(h, tcp, nullptr, nullptr), EINVAL);
  EXPECT_EQ(synack_listen(h, tcp, -5), 0);  // negative is somaxconn, as on Linux
  EXPECT_EQ(synack_listen(h, tcp, 10), 0);  // again: a new backlog
  const sockaddr_in peer = ipv4_address(CapiPeer::kRemote, 80);
  EXPECT_ERRNO(synack_connect(h, tcp, as_sockaddr(peer), sizeof peer), EISCONN);
  EXPECT_ERRNO(synack_getpeername(h, tcp, nullptr, nullptr), ENOTCONN);
  const int nonblocking = synack_socket(h, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  ASSERT_EQ(synack_listen(h, nonblocking, 1), 0);
  EXPECT_ERRNO(synack_accept(h, nonblocking, nullptr, nullptr), EAGAIN);
}

TEST(CapiAccept, BlocksUntilTheHandshakeCompletes) {
  CapiPeer p;
  synack_host* h = p.host();
  const int listener = p.listen(8080);
  std::atomic<bool> calling{false};
  std::atomic<int> accepted{-2};
  sockaddr_in peer{};
  socklen_t peer_len = sizeof peer;
  std::thread server([&] {
    calling = true;
    accepted = synack_accept(h, listener, as_sockaddr(peer), &peer_len);
  });
  while (!calling) std::this_thread::yield();
  let_it_block();
  EXPECT_EQ(accepted, -2) << "accept() returned with no connection";
  p.inject({.flags = SYN, .seq = 1000, .options = {.mss = 1460}});
  const Seen synack = p.expect({.flags = SYN | ACK, .ack = 1001});
  let_it_block();
  EXPECT_EQ(accepted, -2) << "accept() returned before the handshake completed";
  p.inject({.flags = ACK, .seq = 1001, .ack = synack.header.seq + 1});
  server.join();
  ASSERT_GE(accepted, 0);
  EXPECT_EQ(peer_len, sizeof peer);
  EXPECT_EQ(peer.sin_family, AF_INET);
  EXPECT_EQ(ntohl(peer.sin_addr.s_addr), CapiPeer::kRemote.to_u32());
  EXPECT_EQ(ntohs(peer.sin_port), CapiPeer::kRemotePort);
  // The accepted socket is blocking and connected, whatever the listener was.
  EXPECT_EQ(synack_fcntl(h, accepted, F_GETFL), O_RDWR);
  sockaddr_in name{};
  socklen_t len = sizeof name;
  ASSERT_EQ(synack_getsockname(h, accepted, as_sockaddr(name), &len), 0);
  EXPECT_EQ(ntohl(name.sin_addr.s_addr), CapiPeer::kLocal.to_u32());
  EXPECT_EQ(ntohs(name.sin_port), 8080);
}

TEST(CapiAccept, CutsTheAddressToTheRoomAndReportsItsFullLength) {
  CapiPeer p;
  const auto c = p.accept_established();
  synack_host* h = p.host();
  p.inject({.flags = SYN, .seq = 7000, .options = {.mss = 1460}, .src_port = 40001});
  const Seen synack = p.expect({.flags = SYN | ACK, .ack = 7001});
  p.inject({.flags = ACK, .seq = 7001, .ack = synack.header.seq + 1, .src_port = 40001});
  std::uint8_t room[16];
  std::memset(room, 0xee, sizeof room);
  socklen_t len = 4;
  const int fd =
      synack_accept(h, c.listener, static_cast<sockaddr*>(static_cast<void*>(room)), &len);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(len, sizeof(sockaddr_in));
  sa_family_t family;
  std::memcpy(&family, room, sizeof family);
  EXPECT_EQ(family, AF_INET);
  EXPECT_EQ(room[2], 40001 >> 8);  // the port, big-endian
  EXPECT_EQ(room[3], 40001 & 0xff);
  EXPECT_EQ(room[4], 0xee);  // nothing past the room
  // A null length with an address is EFAULT, before any connection is taken.
  sockaddr_in unused{};
  EXPECT_ERRNO(synack_accept(h, c.listener, as_sockaddr(unused), nullptr), EFAULT);
}

TEST(CapiAccept, ReceiveTimeoutEndsTheWaitInVirtualTime) {
  CapiPeer p;
  synack_host* h = p.host();
  const int listener = p.listen(8080);
  {
    auto lock = h->host.lock();
    h->host.find(listener)->receive_timeout = milliseconds(500);  // SO_RCVTIMEO
  }
  std::atomic<bool> calling{false};
  std::atomic<int> result{-2};
  std::atomic<int> error{0};
  std::thread server([&] {
    calling = true;
    result = synack_accept(h, listener, nullptr, nullptr);
    error = errno;
  });
  while (!calling) std::this_thread::yield();
  let_it_block();
  synack_usleep(h, 499'999);
  let_it_block();
  EXPECT_EQ(result, -2) << "woke before its timeout";
  synack_usleep(h, 1);
  server.join();
  EXPECT_EQ(result, -1);
  EXPECT_EQ(error, EAGAIN);
}

TEST(CapiConnect, NonBlockingIsInProgressThenAlreadyThenDoneThenConnected) {
  CapiPeer p;
  synack_host* h = p.host();
  const int fd = synack_socket(h, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  const sockaddr_in peer = ipv4_address(CapiPeer::kRemote, 80);
  EXPECT_ERRNO(synack_connect(h, fd, as_sockaddr(peer), sizeof peer), EINPROGRESS);
  const Seen syn = p.expect({.flags = SYN});
  EXPECT_EQ(syn.header.dst_port, 80);
  EXPECT_EQ(syn.at, kEpoch);
  EXPECT_ERRNO(synack_connect(h, fd, as_sockaddr(peer), sizeof peer), EALREADY);
  EXPECT_ERRNO(synack_getpeername(h, fd, nullptr, nullptr), ENOTCONN);
  p.inject({.flags = SYN | ACK,
            .seq = 5000,
            .ack = syn.header.seq + 1,
            .options = {.mss = 1460},
            .src_port = 80,
            .dst_port = syn.header.src_port});
  p.expect({.flags = ACK, .seq = syn.header.seq + 1, .ack = 5001});
  EXPECT_EQ(synack_connect(h, fd, as_sockaddr(peer), sizeof peer), 0);  // Linux: once, 0
  EXPECT_ERRNO(synack_connect(h, fd, as_sockaddr(peer), sizeof peer), EISCONN);
  sockaddr_in name{};
  socklen_t len = sizeof name;
  ASSERT_EQ(synack_getpeername(h, fd, as_sockaddr(name), &len), 0);
  EXPECT_EQ(ntohs(name.sin_port), 80);
  EXPECT_EQ(ntohl(name.sin_addr.s_addr), CapiPeer::kRemote.to_u32());
}

TEST(CapiConnect, RefusedIsReportedOnceThenTheSocketMayTryAgain) {
  CapiPeer p;
  synack_host* h = p.host();
  const int fd = synack_socket(h, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  const sockaddr_in peer = ipv4_address(CapiPeer::kRemote, 81);
  EXPECT_ERRNO(synack_connect(h, fd, as_sockaddr(peer), sizeof peer), EINPROGRESS);
  const Seen syn = p.expect({.flags = SYN});
  p.inject({.flags = RST | ACK,
            .seq = 0,
            .ack = syn.header.seq + 1,
            .src_port = 81,
            .dst_port = syn.header.src_port});
  EXPECT_ERRNO(synack_connect(h, fd, as_sockaddr(peer), sizeof peer), ECONNREFUSED);
  EXPECT_ERRNO(synack_connect(h, fd, as_sockaddr(peer), sizeof peer), EINPROGRESS);
  p.expect({.flags = SYN});
}

// The retry after a refused connect is a fresh socket inside (Linux's disconnect): it offers
// the same window scale as the first SYN, derived from the largest buffer, because the
// application never fixed SO_RCVBUF.
TEST(CapiConnect, TheRetryAfterARefusalOffersTheSameWindowScale) {
  CapiPeer p("local=192.168.0.1");
  synack_host* h = p.host();
  const int fd = synack_socket(h, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  const sockaddr_in peer = ipv4_address(CapiPeer::kRemote, 81);
  EXPECT_ERRNO(synack_connect(h, fd, as_sockaddr(peer), sizeof peer), EINPROGRESS);
  const Seen syn = p.expect({.flags = SYN});
  ASSERT_TRUE(syn.header.options.window_scale);
  EXPECT_EQ(*syn.header.options.window_scale, 7);  // 6 MiB, Linux's tcp_rmem[2]
  p.inject({.flags = RST | ACK,
            .seq = 0,
            .ack = syn.header.seq + 1,
            .src_port = 81,
            .dst_port = syn.header.src_port});
  EXPECT_ERRNO(synack_connect(h, fd, as_sockaddr(peer), sizeof peer), ECONNREFUSED);
  EXPECT_ERRNO(synack_connect(h, fd, as_sockaddr(peer), sizeof peer), EINPROGRESS);
  const Seen again = p.expect({.flags = SYN});
  EXPECT_EQ(again.header.options.window_scale, syn.header.options.window_scale);
}

TEST(CapiConnect, BlockingWaitsForTheHandshake) {
  CapiPeer p;
  synack_host* h = p.host();
  const int fd = synack_socket(h, AF_INET, SOCK_STREAM, 0);
  const sockaddr_in peer = ipv4_address(CapiPeer::kRemote, 80);
  std::atomic<int> result{-2};
  std::thread client([&] { result = synack_connect(h, fd, as_sockaddr(peer), sizeof peer); });
  const Seen syn = wait_for_segment(p);  // sent by the client thread's connect()
  EXPECT_EQ(syn.header.flags, SYN);
  let_it_block();
  EXPECT_EQ(result, -2);
  p.inject({.flags = SYN | ACK,
            .seq = 5000,
            .ack = syn.header.seq + 1,
            .options = {.mss = 1460},
            .src_port = 80,
            .dst_port = syn.header.src_port});
  client.join();
  EXPECT_EQ(result, 0);
  p.expect({.flags = ACK, .ack = 5001});
  EXPECT_ERRNO(synack_connect(h, fd, as_sockaddr(peer), sizeof peer), EISCONN);
}

TEST(CapiConnect, SendTimeoutLeavesTheHandshakeInProgress) {
  CapiPeer p;
  synack_host* h = p.host();
  const int fd = synack_socket(h, AF_INET, SOCK_STREAM, 0);
  {
    auto lock = h->host.lock();
    h->host.find(fd)->send_timeout = milliseconds(1500);  // SO_SNDTIMEO
  }
  const sockaddr_in peer = ipv4_address(CapiPeer::kRemote, 80);
  std::atomic<int> result{-2};
  std::atomic<int> error{0};
  std::thread client([&] {
    result = synack_connect(h, fd, as_sockaddr(peer), sizeof peer);
    error = errno;
  });
  EXPECT_EQ(wait_for_segment(p).header.flags, SYN);
  synack_usleep(h, 1'500'000);  // the SYN's retransmission on the way, at 1 s
  client.join();
  EXPECT_EQ(result, -1);
  EXPECT_EQ(error, EINPROGRESS);
  EXPECT_EQ(synack_fcntl(h, fd, F_SETFL, O_NONBLOCK), 0);
  EXPECT_ERRNO(synack_connect(h, fd, as_sockaddr(peer), sizeof peer), EALREADY);
}

TEST(CapiClose, ACallBlockedOnTheDescriptorFailsWithEbadf) {
  CapiPeer p;
  synack_host* h = p.host();
  const auto c = p.accept_established();
  std::atomic<bool> calling{false};
  std::atomic<ssize_t> n{-2};
  std::atomic<int> error{0};
  std::thread reader([&] {
    char buf[8];
    calling = true;
    n = synack_read(h, c.fd, buf, sizeof buf);
    error = errno;
  });
  while (!calling) std::this_thread::yield();
  let_it_block();
  EXPECT_EQ(synack_close(h, c.fd), 0);
  reader.join();
  EXPECT_EQ(n, -1);
  EXPECT_EQ(error, EBADF);
}

TEST(CapiShutdown, ChecksHowAndNeedsAConnection) {
  CapiPeer p;
  synack_host* h = p.host();
  const int fd = synack_socket(h, AF_INET, SOCK_STREAM, 0);
  EXPECT_ERRNO(synack_shutdown(h, fd, 7), EINVAL);
  EXPECT_ERRNO(synack_shutdown(h, fd, SHUT_WR), ENOTCONN);
  const int udp = synack_socket(h, AF_INET, SOCK_DGRAM, 0);
  EXPECT_ERRNO(synack_shutdown(h, udp, SHUT_RD), ENOTCONN);
  const auto c = p.accept_established();
  EXPECT_EQ(synack_shutdown(h, c.fd, SHUT_WR), 0);
  p.expect({.flags = FIN | ACK, .seq = c.iss + 1, .ack = c.peer_iss + 1});
}

TEST(CapiShutdown, ReadSideOfAListenerStopsItListening) {
  CapiPeer p;
  synack_host* h = p.host();
  const int listener = p.listen(8080);
  EXPECT_EQ(synack_shutdown(h, listener, SHUT_WR), 0);  // nothing to a listener
  EXPECT_EQ(synack_shutdown(h, listener, SHUT_RD), 0);
  EXPECT_ERRNO(synack_accept(h, listener, nullptr, nullptr), EINVAL);
  EXPECT_EQ(synack_listen(h, listener, 5), 0);  // and it may listen again, on its port
  sockaddr_in name{};
  socklen_t len = sizeof name;
  ASSERT_EQ(synack_getsockname(h, listener, as_sockaddr(name), &len), 0);
  EXPECT_EQ(ntohs(name.sin_port), 8080);
}

TEST(CapiClose, UnreadDataMakesItAReset) {
  CapiPeer p;
  const auto c = p.accept_established();
  p.inject({.flags = ACK | PSH, .seq = c.peer_iss + 1, .ack = c.iss + 1, .payload = "unread"});
  EXPECT_EQ(synack_close(p.host(), c.fd), 0);
  p.expect({.flags = RST | ACK, .seq = c.iss + 1, .ack = c.peer_iss + 7});
}

}  // namespace
}  // namespace synack::testing
