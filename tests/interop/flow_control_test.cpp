// Flow control, keepalive, TIME_WAIT reuse and MTUs against the kernel: a receiver that
// stops reading (zero window, persist probes) on either side, keepalive probes answered,
// a new connection on a 4-tuple synack holds in TIME_WAIT, jumbo and small MTUs.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "interop.hpp"
#include "tcp/state.hpp"

namespace synack::interop {
namespace {

constexpr std::uint16_t kPort = 7100;

struct Accepted {
  SocketId listener = -1, conn = -1;
  int kernel = -1;
  ~Accepted() {
    if (kernel >= 0) ::close(kernel);
  }
};

// A listener on kPort (with `receive_buffer` if non-zero), a kernel connection to it from
// a socket made by `make_socket`, accepted.
void connect_pair(const TestNetns& ns, runtime::Runtime& rt, Accepted& a, int receive_buffer = 0) {
  rt.tcp_socket(a.listener);
  rt.setsockopt(a.listener, Option::reuse_addr, 1);
  if (receive_buffer) rt.setsockopt(a.listener, Option::receive_buffer, receive_buffer);
  ASSERT_FALSE(rt.bind(a.listener, {Ipv4Address(), kPort}));
  ASSERT_FALSE(rt.listen(a.listener, 4));
  rt.set_receive_timeout(a.listener, seconds(10));
  a.kernel = kernel_connect(ns, kStackIp, kPort);
  ASSERT_GE(a.kernel, 0) << std::strerror(errno);
  ASSERT_FALSE(rt.accept(a.listener, a.conn));
  rt.set_receive_timeout(a.conn, seconds(10));
}

std::vector<std::uint8_t> pattern(std::size_t n) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>((i * 131) ^ (i >> 9));
  return v;
}

TEST(FlowControl, SynackProbesTheKernelsZeroWindowUntilItReadsAgain) {
  SYNACK_REQUIRE_NETNS();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  InProcessStack synack(ns);
  ASSERT_TRUE(synack.ok()) << synack.error();
  runtime::Runtime& rt = synack.rt();
  Accepted a;
  connect_pair(ns, rt, a);
  const auto data = pattern(600000);
  std::thread writer([&] {
    std::size_t n = 0;
    EXPECT_FALSE(rt.write(a.conn, data, n));
    EXPECT_EQ(n, data.size());
    rt.shutdown(a.conn, Shutdown::write);
  });
  // The kernel application reads nothing for a while: its window closes.
  EXPECT_TRUE(eventually([&] { return rt.counters().tcp.zero_window_probes >= 2; }, 10000ms))
      << "zero-window probes: " << rt.counters().tcp.zero_window_probes;
  std::vector<std::uint8_t> got;
  std::vector<std::uint8_t> buffer(65536);
  for (int i = 0; i < 10000; ++i) {
    const ssize_t n = ::read(a.kernel, buffer.data(), buffer.size());
    ASSERT_GE(n, 0) << std::strerror(errno);
    if (n == 0) break;
    got.insert(got.end(), buffer.begin(), buffer.begin() + n);
  }
  writer.join();
  EXPECT_TRUE(got == data) << got.size() << " of " << data.size() << " bytes";
}

TEST(FlowControl, TheKernelProbesSynacksZeroWindowUntilItReadsAgain) {
  SYNACK_REQUIRE_NETNS();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  InProcessStack synack(ns);
  ASSERT_TRUE(synack.ok()) << synack.error();
  runtime::Runtime& rt = synack.rt();
  Accepted a;
  connect_pair(ns, rt, a, 8192);
  const auto data = pattern(300000);
  std::thread writer([&] {
    std::size_t sent = 0;
    while (sent < data.size()) {
      const ssize_t n = ::send(a.kernel, data.data() + sent, data.size() - sent, 0);
      if (n <= 0) break;
      sent += static_cast<std::size_t>(n);
    }
    EXPECT_EQ(sent, data.size());
    ::shutdown(a.kernel, SHUT_WR);
  });
  // synack's application reads nothing for 1.5 s: the kernel meets a zero window.
  std::this_thread::sleep_for(1500ms);
  std::vector<std::uint8_t> got;
  std::vector<std::uint8_t> buffer(4096);
  for (int i = 0; i < 100000; ++i) {
    std::size_t n = 0;
    ASSERT_FALSE(rt.read(a.conn, buffer, n));
    if (n == 0) break;
    got.insert(got.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
  }
  writer.join();
  EXPECT_TRUE(got == data) << got.size() << " of " << data.size() << " bytes";
  rt.close(a.conn);
}

TEST(Keepalive, SynackAnswersTheKernelsProbesAndTheKernelAnswersSynacks) {
  SYNACK_REQUIRE_NETNS();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  InProcessStack synack(ns);
  ASSERT_TRUE(synack.ok()) << synack.error();
  runtime::Runtime& rt = synack.rt();
  Accepted a;
  connect_pair(ns, rt, a);
  // The kernel probes after 1 s idle, every 1 s, and gives up after 2 unanswered.
  const int on = 1, idle = 1, interval = 1, count = 2;
  ::setsockopt(a.kernel, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
  ::setsockopt(a.kernel, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  ::setsockopt(a.kernel, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
  ::setsockopt(a.kernel, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
  // synack does the same.
  rt.setsockopt(a.conn, Option::keepalive, 1);
  rt.setsockopt(a.conn, Option::keep_idle, 1);
  rt.setsockopt(a.conn, Option::keep_interval, 1);
  rt.setsockopt(a.conn, Option::keep_count, 2);
  const auto before = rt.counters().tcp.in_segs;
  std::this_thread::sleep_for(4500ms);
  // Both still connected, and probes went both ways.
  EXPECT_EQ(kernel_states(ns.name(), kPort), std::vector<std::string>{"ESTAB"});
  EXPECT_EQ(rt.with_stack([&](Stack& s) { return s.tcp_state(a.conn); }), tcp::State::Established);
  EXPECT_GE(rt.counters().tcp.in_segs - before, 3u);
  const char ping = 'p';
  EXPECT_EQ(::send(a.kernel, &ping, 1, 0), 1);
  std::uint8_t b;
  std::size_t n = 0;
  EXPECT_FALSE(rt.read(a.conn, std::span(&b, 1), n));
  EXPECT_EQ(n, 1u);
  rt.close(a.conn);
}

TEST(TimeWait, TheKernelReconnectsFromThePortSynackHoldsInTimeWait) {
  SYNACK_REQUIRE_NETNS();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  InProcessStack synack(ns);
  ASSERT_TRUE(synack.ok()) << synack.error();
  runtime::Runtime& rt = synack.rt();
  Accepted a;
  connect_pair(ns, rt, a);
  sockaddr_in local{};
  socklen_t length = sizeof local;
  sockaddr sa{};
  ::getsockname(a.kernel, &sa, &length);
  std::memcpy(&local, &sa, sizeof local);
  // synack closes first and holds the 4-tuple in TIME_WAIT.
  rt.close(a.conn);
  char c;
  EXPECT_EQ(::read(a.kernel, &c, 1), 0);
  ::close(a.kernel);
  a.kernel = -1;
  EXPECT_TRUE(eventually(
      [&] {
        return rt.counters().tcp.in_state[static_cast<std::size_t>(tcp::State::TimeWait)] == 1;
      },
      5000ms));
  // The kernel connects again from the same port: synack accepts the SYN in TIME_WAIT
  // (RFC 6191, its timestamp is newer).
  const int fd = kernel_tcp_socket(ns);
  ASSERT_GE(fd, 0);
  const int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  std::memcpy(&sa, &local, sizeof local);
  ASSERT_EQ(::bind(fd, &sa, sizeof local), 0) << std::strerror(errno);
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(kPort);
  remote.sin_addr.s_addr = htonl(kStackIp.to_u32());
  std::memcpy(&sa, &remote, sizeof remote);
  const timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  EXPECT_EQ(::connect(fd, &sa, sizeof remote), 0) << std::strerror(errno);
  SocketId again;
  EXPECT_FALSE(rt.accept(a.listener, again));
  EXPECT_EQ(rt.counters().tcp.time_wait_reused, 1u);
  ::close(fd);
  rt.close(again);
}

void transfer_with_mtu(std::size_t mtu) {
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  ASSERT_EQ(
      run({"ip", "link", "set", "dev", "synack0", "mtu", std::to_string(mtu)}, ns.name()).status,
      0);
  InProcessStack synack(ns);
  ASSERT_TRUE(synack.ok()) << synack.error();
  EXPECT_EQ(synack.tun().mtu(), mtu);
  runtime::Runtime& rt = synack.rt();
  Accepted a;
  connect_pair(ns, rt, a);
  int mss = 0;
  socklen_t length = sizeof mss;
  ::getsockopt(a.kernel, IPPROTO_TCP, TCP_MAXSEG, &mss, &length);
  EXPECT_EQ(static_cast<std::size_t>(mss), mtu - 40 - 12);  // less the timestamp option
  const auto data = pattern(1 << 20);
  std::thread writer([&] {
    std::size_t n = 0;
    EXPECT_FALSE(rt.write(a.conn, data, n));
    rt.close(a.conn);
  });
  std::vector<std::uint8_t> got(data.size() + 1);
  std::size_t total = 0;
  for (int i = 0; i < 100000; ++i) {
    const ssize_t n = ::read(a.kernel, got.data() + total, got.size() - total);
    ASSERT_GE(n, 0) << std::strerror(errno);
    if (n == 0) break;
    total += static_cast<std::size_t>(n);
  }
  writer.join();
  got.resize(total);
  EXPECT_TRUE(got == data) << total << " of " << data.size() << " bytes";
}

TEST(Mtu, JumboFramesOf9000Bytes) {
  SYNACK_REQUIRE_NETNS();
  transfer_with_mtu(9000);
}

TEST(Mtu, SmallFramesOf576Bytes) {
  SYNACK_REQUIRE_NETNS();
  transfer_with_mtu(576);
}

}  // namespace
}  // namespace synack::interop
