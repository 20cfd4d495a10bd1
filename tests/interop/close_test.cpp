// Close orders between synack and the kernel, with each side's state checked: the kernel's
// with `ss -tan`, synack's through its API and counters.
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "interop.hpp"
#include "tcp/state.hpp"
#include "trace/recording.hpp"

namespace synack::interop {
namespace {

constexpr std::uint16_t kPort = 7000;

// synack listening in this process and one connection from a kernel socket, accepted.
struct Pair {
  explicit Pair(const TestNetns& ns, Duration inbound_delay = Duration{})
      : synack(ns, inbound_delay) {
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

// Both sides close at once and the FINs cross (RFC 9293 3.6, case 2): each side, in
// FIN_WAIT_1, receives the other's FIN before the ACK of its own, goes to CLOSING, and to
// TIME_WAIT when its FIN is acknowledged. To make the FINs cross every time, synack sees
// what the kernel sends 300 ms late (a FaultLink delay on its inbound side only): the kernel's
// FIN is still on its way to synack when synack's FIN leaves, a few microseconds after the
// kernel's close, and the kernel receives synack's FIN at once, in FIN-WAIT-1.
TEST(Close, SimultaneousCloseCrossesFinsAndBothEndInTimeWait) {
  SYNACK_REQUIRE_NETNS();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  Pair p(ns, milliseconds(300));
  ASSERT_TRUE(p.ok()) << p.synack.error() << std::strerror(errno);
  runtime::Runtime& rt = p.synack.rt();
  EXPECT_TRUE(kernel_reaches(ns, {"ESTAB"}));
  // The kernel's ACK of the handshake has reached synack too (300 ms later).
  ASSERT_TRUE(eventually([&] { return p.synack_in_state(tcp::State::Established) == 1; }, 5000ms));

  // synack's states, recorded under the runtime's lock (where the stack emits them).
  trace::Recording recording;
  rt.with_stack([&](Stack& s) { s.set_trace(&recording); });
  const auto closed_at = std::chrono::steady_clock::now();
  ::close(p.kernel);  // the kernel's FIN: FIN-WAIT-1
  p.kernel = -1;
  rt.close(p.conn);  // synack's FIN: FIN_WAIT_1, before the kernel's FIN reaches it
  // The kernel got synack's FIN in FIN-WAIT-1: CLOSING until its FIN is acknowledged.
  const auto kernel_closing = kernel_states(ns.name(), kPort);
  const bool in_time = std::chrono::steady_clock::now() - closed_at < 250ms;
  if (in_time) {
    EXPECT_EQ(kernel_closing, std::vector<std::string>{"CLOSING"});
    EXPECT_EQ(p.synack_in_state(tcp::State::FinWait1), 1u);
  }
  // Then synack receives the kernel's FIN (CLOSING) and the ACK of its own (TIME_WAIT),
  // and acknowledges the kernel's FIN (the kernel's TIME-WAIT).
  EXPECT_TRUE(eventually([&] { return p.synack_in_state(tcp::State::TimeWait) == 1; }, 5000ms));
  EXPECT_TRUE(kernel_reaches(ns, {"TIME-WAIT"}));
  rt.with_stack([&](Stack& s) { s.set_trace(nullptr); });
  std::vector<tcp::State> states;
  for (const auto& e : recording.events()) {
    if (e.kind == trace::Event::Kind::state && e.tuple.local.port == kPort) states.push_back(e.to);
  }
  EXPECT_EQ(states, (std::vector<tcp::State>{tcp::State::FinWait1, tcp::State::Closing,
                                             tcp::State::TimeWait}));
}

}  // namespace
}  // namespace synack::interop
