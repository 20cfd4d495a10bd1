// Close orders between synack and the kernel, with each side's state checked: the kernel's
// with `ss -tan`, synack's through its API and counters.
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "interop.hpp"
#include "tcp/state.hpp"

namespace synack::interop {
namespace {

constexpr std::uint16_t kPort = 7000;

// synack listening in this process and one connection from a kernel socket, accepted.
struct Pair {
  explicit Pair(const TestNetns& ns) : synack(ns) {
    if (!synack.ok()) return;
    runtime::Runtime& rt = synack.rt();
    rt.tcp_socket(listener);
    rt.bind(listener, {Ipv4Address(), kPort});
    rt.listen(listener, 4);
    rt.set_receive_timeout(listener, seconds(10));
    kernel = kernel_connect(ns, kStackIp, kPort);
    if (kernel < 0) return;
    if (rt.accept(listener, conn)) conn = -1;
    rt.set_receive_timeout(conn, seconds(10));
  }
  ~Pair() {
    if (kernel >= 0) ::close(kernel);
  }
  bool ok() const { return synack.ok() && kernel >= 0 && conn >= 0; }
  std::size_t synack_in_state(tcp::State s) {
    return synack.rt().counters().tcp.in_state[static_cast<std::size_t>(s)];
  }

  InProcessStack synack;
  SocketId listener = -1, conn = -1;
  int kernel = -1;
};

// Waits until the kernel's sockets on kPort are in exactly `states`.
::testing::AssertionResult kernel_reaches(const TestNetns& ns,
                                          const std::vector<std::string>& states) {
  std::vector<std::string> seen;
  if (eventually(
          [&] {
            seen = kernel_states(ns.name(), kPort);
            return seen == states;
          },
          5000ms)) {
    return ::testing::AssertionSuccess();
  }
  std::string text;
  for (const auto& s : seen) text += s + " ";
  return ::testing::AssertionFailure() << "kernel sockets in: " << text;
}

TEST(Close, KernelClosingFirstEndsInTimeWaitOnTheKernel) {
  SYNACK_REQUIRE_NETNS();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  Pair p(ns);
  ASSERT_TRUE(p.ok()) << p.synack.error() << std::strerror(errno);
  runtime::Runtime& rt = p.synack.rt();
  EXPECT_TRUE(kernel_reaches(ns, {"ESTAB"}));

  ::close(p.kernel);  // FIN from the kernel
  p.kernel = -1;
  std::uint8_t buffer[16];
  std::size_t n = 1;
  EXPECT_FALSE(rt.read(p.conn, buffer, n));
  EXPECT_EQ(n, 0u);  // end of stream
  EXPECT_EQ(rt.with_stack([&](Stack& s) { return s.tcp_state(p.conn); }), tcp::State::CloseWait);
  EXPECT_TRUE(kernel_reaches(ns, {"FIN-WAIT-2"}));

  rt.close(p.conn);  // our FIN: LAST_ACK, then CLOSED when the kernel acknowledges it
  EXPECT_TRUE(kernel_reaches(ns, {"TIME-WAIT"}));
  EXPECT_TRUE(eventually(
      [&] { return rt.with_stack([](Stack& s) { return s.connection_count(); }) == 0; }, 5000ms));
}

TEST(Close, SynackClosingFirstEndsInTimeWaitOnSynack) {
  SYNACK_REQUIRE_NETNS();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  Pair p(ns);
  ASSERT_TRUE(p.ok()) << p.synack.error() << std::strerror(errno);
  runtime::Runtime& rt = p.synack.rt();

  rt.close(p.conn);  // our FIN
  EXPECT_TRUE(kernel_reaches(ns, {"CLOSE-WAIT"}));
  EXPECT_TRUE(eventually([&] { return p.synack_in_state(tcp::State::FinWait2) == 1; }, 5000ms));
  char c;
  EXPECT_EQ(::read(p.kernel, &c, 1), 0);  // the kernel's application sees end of stream

  ::close(p.kernel);  // the kernel's FIN: LAST-ACK, then gone when we acknowledge it
  p.kernel = -1;
  EXPECT_TRUE(kernel_reaches(ns, {}));
  EXPECT_TRUE(eventually([&] { return p.synack_in_state(tcp::State::TimeWait) == 1; }, 5000ms));
}

TEST(Close, SynackHalfClosesAndTheKernelKeepsSending) {
  SYNACK_REQUIRE_NETNS();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  Pair p(ns);
  ASSERT_TRUE(p.ok()) << p.synack.error() << std::strerror(errno);
  runtime::Runtime& rt = p.synack.rt();

  rt.shutdown(p.conn, Shutdown::write);
  char c;
  EXPECT_EQ(::read(p.kernel, &c, 1), 0);
  EXPECT_TRUE(kernel_reaches(ns, {"CLOSE-WAIT"}));
  // Data still flows from the kernel to synack.
  std::vector<char> data(200000, 'k');
  ASSERT_EQ(::send(p.kernel, data.data(), data.size(), 0), static_cast<ssize_t>(data.size()));
  ::close(p.kernel);
  p.kernel = -1;
  std::vector<std::uint8_t> buffer(65536);
  std::size_t total = 0;
  for (int i = 0; i < 1000; ++i) {
    std::size_t n = 0;
    ASSERT_FALSE(rt.read(p.conn, buffer, n));
    if (n == 0) break;
    total += n;
  }
  EXPECT_EQ(total, data.size());
  EXPECT_EQ(rt.with_stack([&](Stack& s) { return s.tcp_state(p.conn); }), tcp::State::TimeWait);
  EXPECT_TRUE(kernel_reaches(ns, {}));
  rt.close(p.conn);
}

TEST(Close, KernelAbortWithLingerZeroResetsSynack) {
  SYNACK_REQUIRE_NETNS();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  Pair p(ns);
  ASSERT_TRUE(p.ok()) << p.synack.error() << std::strerror(errno);
  runtime::Runtime& rt = p.synack.rt();
  const linger abort{1, 0};
  ::setsockopt(p.kernel, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
  ::close(p.kernel);  // RST
  p.kernel = -1;
  std::uint8_t buffer[16];
  std::size_t n = 0;
  EXPECT_EQ(rt.read(p.conn, buffer, n), std::errc::connection_reset);
  EXPECT_TRUE(kernel_reaches(ns, {}));
  std::size_t written = 0;
  // After the reset, writing fails (EPIPE, as Linux once the error was reported).
  const std::uint8_t byte = 1;
  EXPECT_TRUE(rt.write(p.conn, std::span(&byte, 1), written));
  rt.close(p.conn);
}

}  // namespace
}  // namespace synack::interop
