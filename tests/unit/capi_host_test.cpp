// The host behind the C ABI: its flags, its virtual clock, its packet queue and its
// descriptor table, driven directly (the C calls on top are tested in capi_*_test.cpp).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>

#include "capi/host.hpp"
#include "tcp/config.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"

namespace synack::capi {
namespace {

TEST(CapiHostFlags, DefaultsWhenNull) {
  const auto flags = parse_host_flags(nullptr);
  ASSERT_TRUE(flags);
  EXPECT_EQ(flags->local, Ipv4Address(192, 168, 0, 1));
  EXPECT_EQ(flags->mtu, 1500u);
  EXPECT_TRUE(flags->window_scaling && flags->sack && flags->timestamps);
}

TEST(CapiHostFlags, ParsesEveryKeySeparatedBySpacesOrCommas) {
  const auto flags =
      parse_host_flags("local=192.0.2.9, mtu=9000 secret=0x1f wscale=0,sack=0 timestamps=1");
  ASSERT_TRUE(flags);
  EXPECT_EQ(flags->local, Ipv4Address(192, 0, 2, 9));
  EXPECT_EQ(flags->mtu, 9000u);
  EXPECT_EQ(flags->secret[0], 0u);
  EXPECT_EQ(flags->secret[1], 0x1fu);
  EXPECT_FALSE(flags->window_scaling);
  EXPECT_FALSE(flags->sack);
  EXPECT_TRUE(flags->timestamps);
}

TEST(CapiHostFlags, ASecretOf32DigitsFillsBothHalves) {
  const auto flags = parse_host_flags("secret=0123456789abcdefFEDCBA9876543210");
  ASSERT_TRUE(flags);
  EXPECT_EQ(flags->secret[0], 0x0123456789abcdefull);
  EXPECT_EQ(flags->secret[1], 0xfedcba9876543210ull);
}

TEST(CapiHostFlags, RefusesWhatItCannotParse) {
  for (const char* bad :
       {"bogus=1", "local=1.2.3", "local=0.0.0.0", "mtu=20", "mtu=70000", "mtu=1500x", "sack=2",
        "secret=xyz", "secret=", "wscale", "secret=123456789012345678901234567890123"}) {
    EXPECT_FALSE(parse_host_flags(bad)) << bad;
  }
}

// The TCP header of an IPv4 packet the host sent.
wire::TcpHeader tcp_of(const std::uint8_t* packet, std::size_t length) {
  auto ip = wire::Ipv4View::parse(wire::Bytes(packet, length));
  EXPECT_TRUE(ip);
  auto tcp = wire::TcpView::parse(ip->payload());
  EXPECT_TRUE(tcp);
  return tcp->to_header();
}

TEST(CapiHost, OptionsFromTheFlagsReachNewConnections) {
  HostFlags flags;
  flags.mtu = 1280;
  flags.sack = false;
  Host host(flags);
  auto lock = host.lock();
  EXPECT_EQ(host.stack().tcp_defaults().mss, 1240);
  EXPECT_FALSE(host.stack().tcp_defaults().sack);
  EXPECT_TRUE(host.stack().tcp_defaults().timestamps);
}

TEST(CapiHost, NetdevReceiveFollowsTheSynRetransmissionTimer) {
  Host host(HostFlags{});
  {
    auto lock = host.lock();
    SocketId s = -1;
    ASSERT_FALSE(host.stack().tcp_socket(s));
    EXPECT_EQ(host.stack().connect(s, {Ipv4Address(192, 0, 2, 1), 8080}),
              std::errc::operation_in_progress);
    host.run();
  }
  std::uint8_t buf[1500];
  long long at = 0;
  // The SYN at time 0, then its retransmissions 1 s, 2 s and 4 s apart (RFC 6298 backoff).
  for (const long long expected : {0ll, 1'000'000ll, 3'000'000ll, 7'000'000ll}) {
    std::size_t count = sizeof buf;
    ASSERT_EQ(host.netdev_receive(buf, &count, &at), 0);
    ASSERT_GT(count, 40u);
    EXPECT_EQ(at - Host::epoch_usecs, expected);
    const auto tcp = tcp_of(buf, count);
    EXPECT_EQ(tcp.flags, wire::TcpFlags::syn);
    EXPECT_EQ(tcp.dst_port, 8080);
  }
  // The next retransmission, 8 s on, is beyond the 5 s limit: nothing, and time stays.
  std::size_t count = sizeof buf;
  ASSERT_EQ(host.netdev_receive(buf, &count, &at), 0);
  EXPECT_EQ(count, 0u);
  EXPECT_EQ(host.gettimeofday_usecs() - Host::epoch_usecs, 7'000'001);
}

TEST(CapiHost, NetdevReceiveWithNothingPendingReturnsNoPacket) {
  Host host(HostFlags{});
  std::uint8_t buf[64];
  std::size_t count = sizeof buf;
  long long at = -1;
  EXPECT_EQ(host.netdev_receive(buf, &count, &at), 0);
  EXPECT_EQ(count, 0u);
}

TEST(CapiHost, GettimeofdayAdvancesOneMicrosecondPerCallAndUsleepByItsArgument) {
  Host host(HostFlags{});
  const auto first = host.gettimeofday_usecs();
  EXPECT_EQ(first, Host::epoch_usecs + 1);
  EXPECT_EQ(host.gettimeofday_usecs(), first + 1);
  host.usleep(250'000);
  EXPECT_EQ(host.gettimeofday_usecs(), first + 2 + 250'000);
}

TEST(CapiHost, DescriptorsAreKernelEventfdsClosedOnRemove) {
  Host host(HostFlags{});
  auto lock = host.lock();
  Descriptor d;
  d.cloexec = true;
  ASSERT_FALSE(host.stack().udp_socket(d.socket));
  const int fd = host.add(d);
  ASSERT_GE(fd, 0);
  ASSERT_NE(host.find(fd), nullptr);
  EXPECT_EQ(host.find(fd)->kernel_fd, fd);
  EXPECT_EQ(::fcntl(fd, F_GETFD), FD_CLOEXEC);
  EXPECT_EQ(::fcntl(fd, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
  host.stack().close(host.find(fd)->socket);
  host.remove(fd);
  EXPECT_EQ(host.find(fd), nullptr);
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1);
  errno = 0;
  EXPECT_EQ(host.fail_unknown(fd), -1);
  EXPECT_EQ(errno, EBADF);
  EXPECT_EQ(host.fail_unknown(STDIN_FILENO), -1);
  EXPECT_EQ(errno, ENOTSOCK);
}

TEST(CapiHost, DestructionClosesOnlyItsOwnDescriptors) {
  int kept = -1;
  int closed_by_libc = -1;
  int reused = -1;
  {
    Host host(HostFlags{});
    auto lock = host.lock();
    kept = host.add(Descriptor{.kind = Descriptor::Kind::epoll});
    closed_by_libc = host.add(Descriptor{.kind = Descriptor::Kind::epoll});
    ASSERT_GE(kept, 0);
    ASSERT_GE(closed_by_libc, 0);
    ::close(closed_by_libc);
    reused = ::open("/dev/null", O_RDONLY | O_CLOEXEC);  // takes the lowest free number
    EXPECT_EQ(reused, closed_by_libc);
  }
  EXPECT_EQ(::fcntl(kept, F_GETFD), -1);   // the host's own: closed
  EXPECT_GE(::fcntl(reused, F_GETFD), 0);  // someone else's now: left alone
  ::close(reused);
}

}  // namespace
}  // namespace synack::capi
