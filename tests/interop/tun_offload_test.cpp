// IFF_VNET_HDR offloads against the kernel: the kernel hands synack coalesced segments of
// up to 64 KiB (their checksums left to complete, trusted), and synack hands the kernel
// super-segments to cut (TSO) and checksum. Bulk data both ways must arrive byte-exact.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "interop.hpp"

namespace synack::interop {
namespace {

constexpr std::uint16_t kPort = 7300;
constexpr std::size_t kBytes = 8 << 20;
constexpr int kBuffer = 1 << 20;

std::vector<std::uint8_t> pattern(std::size_t n) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>((i * 131) ^ (i >> 9));
  return v;
}

struct Pair {
  SocketId listener = -1, conn = -1;
  int kernel = -1;
  ~Pair() {
    if (kernel >= 0) ::close(kernel);
  }
};

void connect_pair(const TestNetns& ns, runtime::Runtime& rt, Pair& p) {
  rt.tcp_socket(p.listener);
  rt.setsockopt(p.listener, Option::reuse_addr, 1);
  rt.setsockopt(p.listener, Option::receive_buffer, kBuffer);
  rt.setsockopt(p.listener, Option::send_buffer, kBuffer);
  ASSERT_FALSE(rt.bind(p.listener, {Ipv4Address(), kPort}));
  ASSERT_FALSE(rt.listen(p.listener, 4));
  rt.set_receive_timeout(p.listener, seconds(10));
  p.kernel = kernel_connect(ns, kStackIp, kPort);
  ASSERT_GE(p.kernel, 0) << std::strerror(errno);
  ASSERT_FALSE(rt.accept(p.listener, p.conn));
  rt.set_receive_timeout(p.conn, seconds(20));
}

TEST(TunOffload, SynackToKernelInSuperSegmentsArrivesByteExact) {
  SYNACK_REQUIRE_NETNS();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  InProcessStack synack(ns, Duration{}, /*offloads=*/true);
  ASSERT_TRUE(synack.ok()) << synack.error();
  runtime::Runtime& rt = synack.rt();
  Pair p;
  connect_pair(ns, rt, p);
  const auto data = pattern(kBytes);
  std::thread writer([&] {
    std::size_t n = 0;
    EXPECT_FALSE(rt.write(p.conn, data, n));
    EXPECT_EQ(n, data.size());
    rt.shutdown(p.conn, Shutdown::write);
  });
  std::vector<std::uint8_t> got;
  std::vector<std::uint8_t> buffer(1 << 16);
  for (int i = 0; i < 1000000; ++i) {
    const ssize_t n = ::read(p.kernel, buffer.data(), buffer.size());
    ASSERT_GE(n, 0) << std::strerror(errno);
    if (n == 0) break;
    got.insert(got.end(), buffer.begin(), buffer.begin() + n);
  }
  writer.join();
  EXPECT_TRUE(got == data) << got.size() << " of " << data.size() << " bytes";
  EXPECT_GT(synack.tun().stats().segmented_out, 0u) << "no super-segment was sent";
  EXPECT_EQ(rt.counters().tcp.bad_checksum, 0u);
}

TEST(TunOffload, KernelToSynackInCoalescedSegmentsArrivesByteExact) {
  SYNACK_REQUIRE_NETNS();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  InProcessStack synack(ns, Duration{}, /*offloads=*/true);
  ASSERT_TRUE(synack.ok()) << synack.error();
  runtime::Runtime& rt = synack.rt();
  Pair p;
  connect_pair(ns, rt, p);
  const auto data = pattern(kBytes);
  std::thread writer([&] {
    std::size_t off = 0;
    while (off < data.size()) {
      const ssize_t n = ::write(p.kernel, data.data() + off, data.size() - off);
      if (n <= 0) break;
      off += static_cast<std::size_t>(n);
    }
    EXPECT_EQ(off, data.size());
    ::shutdown(p.kernel, SHUT_WR);
  });
  std::vector<std::uint8_t> got;
  std::vector<std::uint8_t> buffer(1 << 16);
  for (int i = 0; i < 1000000; ++i) {
    std::size_t n = 0;
    ASSERT_FALSE(rt.read(p.conn, buffer, n));
    if (n == 0) break;
    got.insert(got.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
  }
  writer.join();
  EXPECT_TRUE(got == data) << got.size() << " of " << data.size() << " bytes";
  EXPECT_GT(synack.tun().stats().coalesced_in, 0u) << "the kernel sent no super-segment";
  EXPECT_EQ(rt.counters().tcp.bad_checksum, 0u);
}

}  // namespace
}  // namespace synack::interop
