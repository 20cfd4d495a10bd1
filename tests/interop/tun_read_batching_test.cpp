// TunLink's two ways of receiving, io_uring batches (TunReadRing) and a read(2) per frame,
// against the kernel: a kernel UDP socket sends 10,000 datagrams into the device, in
// windows the device's queue holds, and the link must hand every one up once and in order.
// Batched, the frames must come many to a system call, from another thread than the
// ring's owner too (through read(2), still in order), and the reading thread's own
// blocking system calls must not be interrupted by reads the ring made.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include "interop.hpp"
#include "link/tun/tun_link.hpp"
#include "numbered_datagrams.hpp"
#include "wire/ipv4.hpp"
#include "wire/udp.hpp"

namespace synack::interop {
namespace {

constexpr std::uint16_t kKernelPort = 7402, kLinkPort = 7403;
constexpr std::uint32_t kDatagrams = 10000;
// Datagrams sent before the link reads them: fewer than the device's queue holds (its
// tx_queue_len, 500), so none is dropped.
constexpr std::uint32_t kWindow = 200;
constexpr std::size_t kPayload = 64;

// The kernel's side: a UDP socket in the namespace that sends numbered datagrams to the
// link's address (through the device: the route to 198.18.0.0/24 is synack0's).
struct KernelSender {
  int fd = -1;
  sockaddr to{};
  std::uint32_t next = 0;

  explicit KernelSender(const TestNetns& ns)
      : fd(kernel_udp_socket(ns, kHostIp, kKernelPort)), to(ipv4_sockaddr(kStackIp, kLinkPort)) {}
  ~KernelSender() {
    if (fd >= 0) ::close(fd);
  }
  // Sends datagrams up to `end` (exclusive); false if the kernel refused one.
  bool send_until(std::uint32_t end) {
    std::uint8_t buf[kPayload];
    for (; next < end; ++next) {
      for (std::size_t i = 0; i < 4; ++i) buf[i] = static_cast<std::uint8_t>(next >> (24 - 8 * i));
      for (std::size_t i = 4; i < kPayload; ++i) buf[i] = static_cast<std::uint8_t>(next + i);
      if (::sendto(fd, buf, sizeof buf, 0, &to, sizeof(sockaddr_in)) != kPayload) return false;
    }
    return true;
  }
};

std::unique_ptr<link::TunLink> open_link(const TestNetns& ns, bool batching) {
  auto guard = link::NetnsGuard::enter(ns.name());
  if (!guard) return nullptr;
  link::TunConfig config;
  config.name = "synack0";
  config.batching = batching;
  auto opened = link::TunLink::open(config);
  if (!opened) return nullptr;
  return std::move(*opened);
}

// Receives until `count` datagrams in all are collected, in budgets as Stack::poll takes
// them; bounded in time (the sends are synchronous, so they are all queued already).
void receive_until(link::TunLink& tun, NumberedDatagrams& sink, std::size_t count) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (sink.seqs.size() < count && std::chrono::steady_clock::now() < give_up) {
    if (tun.receive(Instant{}, sink, 64) == 0) std::this_thread::yield();
  }
}

void expect_all_in_order(const NumberedDatagrams& sink, const link::TunLink& tun) {
  EXPECT_EQ(sink.malformed, 0u);
  ASSERT_EQ(sink.seqs.size(), kDatagrams);
  for (std::uint32_t i = 0; i < kDatagrams; ++i) {
    ASSERT_EQ(sink.seqs[i], i) << "the link's " << i << "th datagram";
  }
  const link::TunStats& st = tun.stats();
  EXPECT_EQ(st.frames_in, kDatagrams);
  EXPECT_EQ(st.read_errors, 0u);
  EXPECT_EQ(st.receive_late, 0u);
}

class TunReadBatching : public ::testing::TestWithParam<bool> {};

TEST_P(TunReadBatching, TenThousandDatagramsFromTheKernelNoneLostOrReordered) {
  SYNACK_REQUIRE_NETNS();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  const bool batching = GetParam();
  auto tun = open_link(ns, batching);
  ASSERT_TRUE(tun);
  EXPECT_EQ(tun->batched(), batching) << tun->batching();
  KernelSender kernel(ns);
  ASSERT_GE(kernel.fd, 0) << std::strerror(errno);

  NumberedDatagrams sink(kStackIp, kLinkPort, kPayload);
  sink.seqs.reserve(kDatagrams);
  for (std::uint32_t end = kWindow; end <= kDatagrams; end += kWindow) {
    ASSERT_TRUE(kernel.send_until(end)) << std::strerror(errno);
    receive_until(*tun, sink, end);
    ASSERT_EQ(sink.seqs.size(), end);
  }
  expect_all_in_order(sink, *tun);
  // A full window queued: read(2) takes one frame a call (and one more finds the queue
  // empty); the ring up to 64, doubling from 4, so 200 frames in 7 calls or so.
  const link::TunStats& st = tun->stats();
  EXPECT_EQ(tun->batching().find("reads through read(2)"), std::string::npos) << tun->batching();
  if (batching) {
    EXPECT_LE(st.receive_calls * 10, st.frames_in) << st.receive_calls << " calls";
  } else {
    EXPECT_GT(st.receive_calls, st.frames_in);
  }
}

INSTANTIATE_TEST_SUITE_P(BothPaths, TunReadBatching, ::testing::Values(true, false),
                         [](const auto& p) { return p.param ? "IoUring" : "Read"; });

// The runtime polls the stack from the application's threads: a thread other than the
// ring's owner reads with read(2), and the frames still come up in the device's order.
TEST(TunReadBatchingThreads, AnotherThreadThanTheOwnerReadsInOrder) {
  SYNACK_REQUIRE_NETNS();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  auto tun = open_link(ns, true);
  ASSERT_TRUE(tun && tun->batched());
  KernelSender kernel(ns);
  ASSERT_GE(kernel.fd, 0) << std::strerror(errno);

  NumberedDatagrams sink(kStackIp, kLinkPort, kPayload);
  sink.seqs.reserve(kDatagrams);
  std::uint64_t foreign_frames = 0, foreign_calls = 0;
  bool owner = true;  // this thread receives first, so it owns the ring
  for (std::uint32_t end = kWindow; end <= kDatagrams; end += kWindow, owner = !owner) {
    ASSERT_TRUE(kernel.send_until(end)) << std::strerror(errno);
    // Half a window on one thread, the rest on the other: the hand-over happens with
    // frames still queued.
    const std::size_t half = end - kWindow / 2;
    auto take = [&](std::size_t until, bool on_owner) {
      if (on_owner) return receive_until(*tun, sink, until);
      const std::uint64_t frames = tun->stats().frames_in, calls = tun->stats().receive_calls;
      std::thread other([&] { receive_until(*tun, sink, until); });
      other.join();
      foreign_frames += tun->stats().frames_in - frames;
      foreign_calls += tun->stats().receive_calls - calls;
    };
    take(half, owner);
    take(end, !owner);
    ASSERT_EQ(sink.seqs.size(), end);
  }
  expect_all_in_order(sink, *tun);
  // The other thread read one frame a call (read(2)), the owner many.
  EXPECT_EQ(foreign_frames, kDatagrams / 2);
  EXPECT_GE(foreign_calls, foreign_frames);
  EXPECT_LT(tun->stats().receive_calls, foreign_calls + kDatagrams / 2 / 4);
}

// The history (tun_ring.hpp): reads left armed in io_uring were finished as task work of
// the submitting thread when a packet came, which made that thread's blocking system call
// with a timeout fail with EINTR. Here the reading thread blocks in a kernel socket's
// recv with SO_RCVTIMEO while datagrams keep arriving at the device, between receives
// through the ring: every recv must end by its timeout (EAGAIN), never EINTR.
TEST(TunReadBatchingThreads, TheReadingThreadsBlockingCallsAreNotInterrupted) {
  SYNACK_REQUIRE_NETNS();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  auto tun = open_link(ns, true);
  ASSERT_TRUE(tun && tun->batched());
  KernelSender kernel(ns);
  ASSERT_GE(kernel.fd, 0) << std::strerror(errno);
  // An unrelated socket nobody sends to, outside the namespace.
  const int idle = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(idle, 0);
  sockaddr_in lo{};
  lo.sin_family = AF_INET;
  lo.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sockaddr sa{};
  std::memcpy(&sa, &lo, sizeof lo);
  ASSERT_EQ(::bind(idle, &sa, sizeof lo), 0) << std::strerror(errno);
  timeval tv{0, 30'000};
  ASSERT_EQ(::setsockopt(idle, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);

  // The kernel sends a datagram every 200 µs, from its own thread, for the whole test.
  std::atomic<bool> stop{false};
  std::atomic<std::uint32_t> sent{0};
  std::thread sender([&] {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!stop && kernel.next < kDatagrams && std::chrono::steady_clock::now() < give_up) {
      if (!kernel.send_until(kernel.next + 1)) break;
      sent = kernel.next;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  NumberedDatagrams sink(kStackIp, kLinkPort, kPayload);
  int interrupted = 0, timed_out = 0;
  for (int round = 0; round < 20; ++round) {
    while (tun->receive(Instant{}, sink, 64) > 0) {
    }
    char c;
    const ssize_t n = ::recv(idle, &c, 1, 0);
    if (n < 0 && errno == EINTR) ++interrupted;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) ++timed_out;
  }
  stop = true;
  sender.join();
  receive_until(*tun, sink, sent);
  ::close(idle);
  EXPECT_EQ(interrupted, 0);
  EXPECT_EQ(timed_out, 20);
  // Frames did arrive during the blocking calls and went through the ring, in order.
  ASSERT_GT(sink.seqs.size(), 100u);
  EXPECT_EQ(sink.seqs.size(), sent.load());
  for (std::size_t i = 0; i < sink.seqs.size(); ++i) ASSERT_EQ(sink.seqs[i], i);
  EXPECT_LT(tun->stats().receive_calls, tun->stats().frames_in);
  EXPECT_EQ(tun->stats().receive_late, 0u);
}

}  // namespace
}  // namespace synack::interop
