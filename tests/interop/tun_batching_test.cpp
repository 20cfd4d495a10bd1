// TunLink's two ways of sending, io_uring batches and a system call per frame, against
// the kernel: 10,000 UDP datagrams go out through the link, in bursts flushed as the stack
// flushes at the end of a poll, to a kernel socket that echoes each one back. The kernel
// must see every datagram once and in order, and the link must hand back every echo once
// and in order; the link's descriptor (poll_fd) must wake an epoll wait when echoes arrive
// and stay quiet when none is waiting.
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
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

constexpr std::uint16_t kKernelPort = 7400, kLinkPort = 7401;
constexpr std::uint32_t kDatagrams = 10000;
constexpr std::uint32_t kBurst = 32;  // frames queued between flushes, as in one poll
// Unanswered frames at most: the kernel drops echoes beyond its socket and device queues.
constexpr std::uint32_t kWindow = 64;
constexpr std::size_t kPayload = 64;

// An IPv4/UDP frame from synack's address to the kernel's socket carrying `seq`.
std::vector<std::uint8_t> datagram(std::uint32_t seq) {
  std::vector<std::uint8_t> frame(20 + 8 + kPayload, 0);
  for (std::size_t i = 0; i < 4; ++i) {
    frame[28 + i] = static_cast<std::uint8_t>(seq >> (24 - 8 * i));
  }
  for (std::size_t i = 4; i < kPayload; ++i) frame[28 + i] = static_cast<std::uint8_t>(seq + i);
  wire::write_udp_header(wire::MutableBytes(frame.data() + 20, 8 + kPayload),
                         {kLinkPort, kKernelPort}, kStackIp, kHostIp);
  wire::Ipv4Header h;
  h.src = kStackIp;
  h.dst = kHostIp;
  h.protocol = wire::kUdp;
  h.id = static_cast<std::uint16_t>(seq);
  wire::write_ipv4_header(wire::MutableBytes(frame.data(), 20), h, 8 + kPayload);
  return frame;
}

// The kernel's side: a UDP socket in the namespace that records what arrives and echoes it.
struct KernelEcho {
  int fd = -1;
  std::vector<std::uint32_t> seen;
  std::atomic<bool> stop{false};
  std::thread thread;

  explicit KernelEcho(const TestNetns& ns) : fd(kernel_udp_socket(ns, kHostIp, kKernelPort)) {
    if (fd < 0) return;
    timeval tv{0, 100'000};  // the loop below checks `stop` this often
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    seen.reserve(kDatagrams);
    thread = std::thread([this] { run(); });
  }
  ~KernelEcho() {
    stop = true;
    if (thread.joinable()) thread.join();
    if (fd >= 0) ::close(fd);
  }
  void run() {
    std::uint8_t buf[256];
    // Bounded: kDatagrams echoes, or a minute.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!stop && seen.size() < kDatagrams && std::chrono::steady_clock::now() < give_up) {
      sockaddr_in from{};
      socklen_t len = sizeof from;
      sockaddr sa{};
      const ssize_t n = ::recvfrom(fd, buf, sizeof buf, 0, &sa, &len);
      if (n < 4) continue;
      std::memcpy(&from, &sa, sizeof from);
      seen.push_back(datagram_number(wire::Bytes(buf, 4)));
      ::sendto(fd, buf, static_cast<std::size_t>(n), 0, &sa, len);
    }
  }
};

// epoll_wait as an event loop makes it, again when interrupted: a ring closed by an earlier
// test (the IoUring case) interrupts this thread's next blocking call once
// (link::TunConfig::batching says why).
int wait_readable(int ep, int timeout_ms) {
  epoll_event out[1];
  for (int attempt = 0; attempt < 4; ++attempt) {
    const int n = ::epoll_wait(ep, out, 1, timeout_ms);
    if (n >= 0 || errno != EINTR) return n;
  }
  return -1;
}

class TunBatching : public ::testing::TestWithParam<bool> {};

TEST_P(TunBatching, TenThousandDatagramsToTheKernelAndBackNoneLostOrReordered) {
  SYNACK_REQUIRE_NETNS();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  const bool batching = GetParam();
  std::unique_ptr<link::TunLink> tun;
  {
    auto guard = link::NetnsGuard::enter(ns.name());
    ASSERT_TRUE(guard) << guard.error();
    link::TunConfig config;
    config.name = "synack0";
    config.batching = batching;
    auto opened = link::TunLink::open(config);
    ASSERT_TRUE(opened) << opened.error().message;
    tun = std::move(*opened);
  }
  // This kernel has io_uring (the lead's machines do): the batched path must be the one
  // taken when asked for, and reported.
  EXPECT_EQ(tun->batched(), batching) << tun->batching();
  EXPECT_EQ(tun->batching().rfind(batching ? "io_uring" : "writev", 0), 0u) << tun->batching();
  KernelEcho kernel(ns);
  ASSERT_GE(kernel.fd, 0) << std::strerror(errno);

  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  ASSERT_GE(ep, 0);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ASSERT_EQ(::epoll_ctl(ep, EPOLL_CTL_ADD, tun->poll_fd(), &ev), 0) << std::strerror(errno);
  // Nothing sent, nothing to read: an epoll loop would sleep, not spin.
  EXPECT_EQ(wait_readable(ep, 50), 0) << std::strerror(errno);

  NumberedDatagrams echoes(kStackIp, kLinkPort, kPayload);
  echoes.seqs.reserve(kDatagrams);
  std::uint32_t sent = 0;
  const Instant now{};
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (echoes.seqs.size() < kDatagrams && std::chrono::steady_clock::now() < give_up) {
    const std::uint32_t answered = static_cast<std::uint32_t>(echoes.seqs.size());
    for (std::uint32_t k = 0; k < kBurst && sent < kDatagrams && sent - answered < kWindow; ++k) {
      tun->send(datagram(sent++), now);
    }
    tun->flush(now);
    // Sleep until the link's descriptor says echoes wait (as src/runtime does), then take
    // them in budgets as Stack::poll does.
    if (wait_readable(ep, 1000) <= 0) continue;
    while (tun->receive(now, echoes, 64) > 0) {
    }
  }
  // All taken: the descriptor is quiet again.
  EXPECT_EQ(wait_readable(ep, 50), 0);
  ::close(ep);
  kernel.stop = true;
  kernel.thread.join();

  EXPECT_EQ(echoes.malformed, 0u);
  ASSERT_EQ(kernel.seen.size(), kDatagrams);
  ASSERT_EQ(echoes.seqs.size(), kDatagrams);
  for (std::uint32_t i = 0; i < kDatagrams; ++i) {
    ASSERT_EQ(kernel.seen[i], i) << "the kernel's " << i << "th datagram";
    ASSERT_EQ(echoes.seqs[i], i) << "the link's " << i << "th echo";
  }
  const link::TunStats& st = tun->stats();
  EXPECT_EQ(st.frames_out, kDatagrams);
  EXPECT_EQ(st.frames_in, kDatagrams);
  EXPECT_EQ(st.send_dropped, 0u);
  EXPECT_EQ(st.send_reordered, 0u);
  EXPECT_EQ(st.read_errors, 0u);
}

INSTANTIATE_TEST_SUITE_P(BothPaths, TunBatching, ::testing::Values(true, false),
                         [](const auto& p) { return p.param ? "IoUring" : "ReadWritev"; });

}  // namespace
}  // namespace synack::interop
