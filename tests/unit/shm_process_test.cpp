// Two real processes, each with its own Stack and Runtime, joined by the shm link: TCP
// both ways at once byte-exact, UDP datagrams with their boundaries, and a peer killed
// with SIGKILL mid-transfer (the survivor gets TCP's error, and a new peer attaches and
// works). The child uses only its stack and runtime and leaves with _exit; every wait is
// bounded, and only the children forked here are killed, by pid.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "link/shm/shm_link.hpp"
#include "runtime/runtime.hpp"

namespace synack {
namespace {

using link::shm::PeerState;
using link::shm::ShmLink;
using Steady = std::chrono::steady_clock;

const Ipv4Address kServerIp(198, 18, 0, 1);
const Ipv4Address kClientIp(198, 18, 0, 2);
constexpr std::uint16_t kPort = 5001;

std::string unique_name(const char* what) {
  return std::string("proc-") + what + "-" + std::to_string(::getpid());
}

// The bulk size each way: 1 GiB in the optimized build, less where every byte costs more
// (SYNACK_SHM_BULK_BYTES overrides).
std::uint64_t bulk_bytes() {
  if (const char* env = std::getenv("SYNACK_SHM_BULK_BYTES"))
    return std::strtoull(env, nullptr, 10);
#if defined(NDEBUG) && !defined(__SANITIZE_ADDRESS__)
  return std::uint64_t{1} << 30;
#else
  return std::uint64_t{64} << 20;
#endif
}

// The stream pattern: byte i of direction d, checkable anywhere in the stream.
std::uint8_t pattern(std::uint64_t i, int direction) {
  return static_cast<std::uint8_t>(
      (i * 7 + (i >> 12) + static_cast<std::uint64_t>(direction) * 101) & 0xff);
}

link::shm::ShmLinkOptions link_options() {
  link::shm::ShmLinkOptions o;
  o.region.ring_bytes = 16u << 20;
  o.region.mtu = 65535;
  return o;
}

runtime::RuntimeOptions runtime_options() {
  runtime::RuntimeOptions o;
  o.stop_grace = milliseconds(200);
  return o;
}

// A forked child, killed (by its pid) and reaped if the test leaves before it ends.
class Child {
 public:
  explicit Child(const std::function<int()>& body) {
    std::fflush(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) ::_exit(body());
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  // The exit status, or -1 if it did not end within `timeout` (then it is killed).
  int wait(std::chrono::milliseconds timeout) {
    const auto until = Steady::now() + timeout;
    while (Steady::now() < until) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return -1;
  }
  void kill_now() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

int child_fail(const char* what, std::error_code ec = {}) {
  std::fprintf(stderr, "child: %s %s\n", what, ec.message().c_str());
  return 1;
}

// Writes `total` pattern bytes of `direction` (all of them, or until an error).
std::error_code write_pattern(runtime::Runtime& rt, SocketId s, std::uint64_t total, int direction,
                              std::atomic<std::uint64_t>* progress = nullptr) {
  std::vector<std::uint8_t> chunk(256 * 1024);
  for (std::uint64_t sent = 0; sent < total;) {
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), total - sent));
    for (std::size_t i = 0; i < want; ++i) chunk[i] = pattern(sent + i, direction);
    std::size_t n = 0;
    if (auto ec = rt.write(s, {chunk.data(), want}, n)) return ec;
    if (n == 0) return std::make_error_code(std::errc::io_error);
    sent += n;
    if (progress) progress->store(sent);
  }
  return {};
}

// Reads until EOF or `total` bytes, checking every byte; `got` is how many arrived intact.
std::error_code read_pattern(runtime::Runtime& rt, SocketId s, std::uint64_t total, int direction,
                             std::uint64_t& got) {
  std::vector<std::uint8_t> buffer(256 * 1024);
  got = 0;
  while (got < total) {
    std::size_t n = 0;
    if (auto ec = rt.read(s, buffer, n)) return ec;
    if (n == 0) break;
    for (std::size_t i = 0; i < n; ++i) {
      if (buffer[i] != pattern(got + i, direction))
        return std::make_error_code(std::errc::bad_message);
    }
    got += n;
  }
  return {};
}

// connect(), again while the server is still setting up its listener (refused), bounded.
std::error_code connect_retrying(runtime::Runtime& rt, SocketId& s) {
  std::error_code ec;
  for (int attempt = 0; attempt < 100; ++attempt) {
    rt.tcp_socket(s);
    rt.setsockopt(s, Option::send_buffer, 4 << 20);
    rt.setsockopt(s, Option::receive_buffer, 4 << 20);
    ec = rt.connect(s, {kServerIp, kPort});
    if (ec != std::errc::connection_refused) return ec;
    rt.close(s);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return ec;
}

// The client side of a bulk exchange, in a child: connect, then send and receive `total`.
int bulk_client(const std::string& name, std::uint64_t total) {
  auto link = ShmLink::attach(name, link_options());
  if (!link) return child_fail(link.error().message.c_str());
  runtime::Runtime rt(**link, {.address = kClientIp}, runtime_options());
  SocketId s;
  if (auto ec = connect_retrying(rt, s)) return child_fail("connect", ec);
  std::error_code write_error;
  std::thread writer([&] {
    write_error = write_pattern(rt, s, total, 1);
    rt.shutdown(s, Shutdown::write);
  });
  std::uint64_t got = 0;
  const auto read_error = read_pattern(rt, s, total, 0, got);
  writer.join();
  if (write_error) return child_fail("write", write_error);
  if (read_error) return child_fail("read", read_error);
  if (got != total) return child_fail("short read");
  rt.close(s);
  rt.stop();
  return 0;
}

struct Server {
  explicit Server(ShmLink& link) : rt(link, {.address = kServerIp}, runtime_options()) {
    rt.tcp_socket(listener);
    rt.setsockopt(listener, Option::send_buffer, 4 << 20);
    rt.setsockopt(listener, Option::receive_buffer, 4 << 20);
    rt.bind(listener, {Ipv4Address(), kPort});
    rt.listen(listener, 4);
    rt.set_receive_timeout(listener, seconds(10));
  }
  runtime::Runtime rt;
  SocketId listener = -1;
};

TEST(ShmProcesses, TcpBulkBothWaysAtOnceIsByteExact) {
  const std::string name = unique_name("bulk");
  const std::uint64_t total = bulk_bytes();
  auto link = ShmLink::create(name, link_options());
  ASSERT_TRUE(link) << link.error().message;
  Child child([&] { return bulk_client(name, total); });
  Server server(**link);
  SocketId s;
  ASSERT_FALSE(server.rt.accept(server.listener, s));
  server.rt.set_receive_timeout(s, seconds(30));
  server.rt.set_send_timeout(s, seconds(30));
  const auto start = Steady::now();
  std::error_code write_error;
  std::thread writer([&] {
    write_error = write_pattern(server.rt, s, total, 0);
    server.rt.shutdown(s, Shutdown::write);
  });
  std::uint64_t got = 0;
  const auto read_error = read_pattern(server.rt, s, total, 1, got);
  writer.join();
  const double elapsed = std::chrono::duration<double>(Steady::now() - start).count();
  EXPECT_FALSE(write_error) << write_error.message();
  EXPECT_FALSE(read_error) << read_error.message();
  EXPECT_EQ(got, total);
  EXPECT_EQ(child.wait(std::chrono::seconds(30)), 0);
  const double gbits = 2.0 * static_cast<double>(total) * 8 / elapsed / 1e9;
  std::printf("shm bulk: %llu MiB each way in %.2f s: %.2f Gbit/s both directions together\n",
              static_cast<unsigned long long>(total >> 20), elapsed, gbits);
  server.rt.with_stack([&](Stack&) {
    const auto& st = (*link)->stats();
    std::printf("  link: %llu frames out, %llu in, %llu dropped (full), %llu wake-ups\n",
                static_cast<unsigned long long>(st.frames_out),
                static_cast<unsigned long long>(st.frames_in),
                static_cast<unsigned long long>(st.send_dropped_full),
                static_cast<unsigned long long>(st.wakeups_sent));
  });
  server.rt.close(s);
}

// A child that echoes `count` UDP datagrams of its server back, then leaves.
int udp_echo_child(const std::string& name, int count) {
  auto link = ShmLink::attach(name, link_options());
  if (!link) return child_fail(link.error().message.c_str());
  runtime::Runtime rt(**link, {.address = kClientIp}, runtime_options());
  SocketId u;
  rt.udp_socket(u);
  rt.bind(u, {Ipv4Address(), kPort});
  rt.set_receive_timeout(u, seconds(10));
  std::vector<std::uint8_t> buffer(65536);
  for (int i = 0; i < count; ++i) {
    std::size_t n = 0;
    Endpoint from;
    bool truncated = false;
    if (auto ec = rt.receive_from(u, buffer, n, &from, &truncated)) return child_fail("recv", ec);
    if (truncated) return child_fail("truncated");
    if (auto ec = rt.send_to(u, {buffer.data(), n}, from)) return child_fail("send", ec);
  }
  rt.stop();
  return 0;
}

TEST(ShmProcesses, UdpDatagramsKeepTheirBoundaries) {
  const std::string name = unique_name("udp");
  auto link = ShmLink::create(name, link_options());
  ASSERT_TRUE(link) << link.error().message;
  constexpr int kCount = 200;
  Child child([&] { return udp_echo_child(name, kCount); });
  runtime::Runtime rt(**link, {.address = kServerIp}, runtime_options());
  SocketId u;
  ASSERT_FALSE(rt.udp_socket(u));
  ASSERT_FALSE(rt.bind(u, {Ipv4Address(), 7000}));
  rt.set_receive_timeout(u, milliseconds(200));
  std::vector<std::uint8_t> in(65536);
  int echoed = 0;
  for (int i = 0; i < kCount; ++i) {
    // Sizes from 1 byte to 60,000 (more than one ring record's worth of small frames).
    const std::size_t size = i % 10 == 9 ? 60000 : static_cast<std::size_t>(1 + (i * 97) % 1400);
    std::vector<std::uint8_t> out(size);
    for (std::size_t k = 0; k < size; ++k) out[k] = pattern(k + static_cast<std::uint64_t>(i), 2);
    std::size_t n = 0;
    Endpoint from;
    std::error_code ec;
    // The child may not be bound yet: its first datagrams are resent until echoed (bounded).
    for (int attempt = 0; attempt < 50; ++attempt) {
      ASSERT_FALSE(rt.send_to(u, out, {kClientIp, kPort}));
      ec = rt.receive_from(u, in, n, &from);
      if (!ec) break;
    }
    ASSERT_FALSE(ec) << "datagram " << i << ": " << ec.message();
    EXPECT_EQ(n, size) << "datagram " << i;
    EXPECT_TRUE(std::equal(out.begin(), out.end(), in.begin())) << "datagram " << i;
    EXPECT_EQ(from, (Endpoint{kClientIp, kPort}));
    ++echoed;
  }
  EXPECT_EQ(echoed, kCount);
  EXPECT_EQ(child.wait(std::chrono::seconds(10)), 0);
}

// A child that connects and streams until it is killed (or 60 s pass).
int streaming_child(const std::string& name, const char* greeting) {
  auto link = ShmLink::attach(name, link_options());
  if (!link) return child_fail(link.error().message.c_str());
  runtime::Runtime rt(**link, {.address = kClientIp}, runtime_options());
  SocketId s;
  if (auto ec = connect_retrying(rt, s)) return child_fail("connect", ec);
  if (greeting) {  // a short exchange: send the greeting, expect it back, leave
    std::size_t n = 0;
    const std::string text(greeting);
    rt.write(s, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}, n);
    std::vector<std::uint8_t> back(text.size());
    std::size_t got = 0;
    rt.set_receive_timeout(s, seconds(10));
    while (got < back.size()) {
      if (rt.read(s, {back.data() + got, back.size() - got}, n) || n == 0)
        return child_fail("echo");
      got += n;
    }
    if (std::string(back.begin(), back.end()) != text) return child_fail("echo differs");
    rt.close(s);
    rt.stop();
    return 0;
  }
  std::thread writer([&] { write_pattern(rt, s, std::uint64_t{1} << 40, 1); });
  std::thread reader([&] {
    std::uint64_t got = 0;
    read_pattern(rt, s, std::uint64_t{1} << 40, 0, got);
  });
  std::this_thread::sleep_for(std::chrono::seconds(60));
  ::_exit(3);  // not killed in time: the test has failed already
}

TEST(ShmProcesses, PeerKilledMidTransferLeavesACleanErrorAndANewPeerAttaches) {
  const std::string name = unique_name("kill");
  auto link = ShmLink::create(name, link_options());
  ASSERT_TRUE(link) << link.error().message;
  ShmLink& shm = **link;
  Child first([&] { return streaming_child(name, nullptr); });
  Server server(shm);
  SocketId s;
  ASSERT_FALSE(server.rt.accept(server.listener, s));
  // TCP_USER_TIMEOUT: data unacknowledged for 1 s ends the connection with ETIMEDOUT.
  ASSERT_FALSE(server.rt.setsockopt(s, Option::user_timeout, 1000));
  server.rt.set_receive_timeout(s, seconds(20));
  server.rt.set_send_timeout(s, seconds(20));
  std::atomic<std::uint64_t> sent{0};
  std::error_code write_error;
  std::thread writer(
      [&] { write_error = write_pattern(server.rt, s, std::uint64_t{1} << 40, 0, &sent); });
  std::uint64_t got = 0;
  std::error_code read_error;
  std::thread reader(
      [&] { read_error = read_pattern(server.rt, s, std::uint64_t{1} << 40, 1, got); });
  // Mid-transfer: both directions moving.
  const auto until = Steady::now() + std::chrono::seconds(10);
  while (sent.load() < (8u << 20) && Steady::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_GE(sent.load(), 8u << 20);
  first.kill_now();
  const auto killed = Steady::now();
  // The link sees the peer go at once (its socket end closed)...
  while (shm.peer_state() == PeerState::attached &&
         Steady::now() - killed < std::chrono::seconds(2)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const auto noticed = Steady::now() - killed;
  EXPECT_EQ(shm.peer_state(), PeerState::waiting);
  EXPECT_LT(noticed, std::chrono::milliseconds(500));
  EXPECT_FALSE(shm.peer_alive());
  // ...and TCP ends the connection as it says: unacknowledged data, user timeout, ETIMEDOUT.
  writer.join();
  reader.join();
  const auto ended = Steady::now() - killed;
  // The first call to see it gets ETIMEDOUT; after that a write gets EPIPE and a read
  // end of stream, as on Linux.
  auto clean = [](std::error_code ec) {
    return ec == std::errc::timed_out || ec == std::errc::broken_pipe;
  };
  EXPECT_TRUE(clean(write_error)) << write_error.message();
  EXPECT_TRUE(read_error == std::errc::timed_out || !read_error) << read_error.message();
  // (Not asserted: that one of them saw ETIMEDOUT. When the write that meets the timeout
  // had taken some bytes, it returns the short count and the error is not seen again.)
  EXPECT_LT(ended, std::chrono::seconds(5));
  std::printf("peer killed: link noticed in %.1f ms, TCP timed out after %.2f s\n",
              std::chrono::duration<double, std::milli>(noticed).count(),
              std::chrono::duration<double>(ended).count());
  server.rt.close(s);
  // A new process attaches to the same region and works, with the next generation.
  Child second([&] { return streaming_child(name, "hello again"); });
  SocketId s2;
  ASSERT_FALSE(server.rt.accept(server.listener, s2));
  server.rt.set_receive_timeout(s2, seconds(10));
  std::vector<std::uint8_t> buffer(64);
  std::size_t n = 0;
  ASSERT_FALSE(server.rt.read(s2, buffer, n));
  EXPECT_EQ(std::string(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n)),
            "hello again");
  std::size_t written = 0;
  ASSERT_FALSE(server.rt.write(s2, {buffer.data(), n}, written));
  EXPECT_EQ(second.wait(std::chrono::seconds(10)), 0);
  EXPECT_EQ(shm.attacher_generation(), 2u);
  server.rt.with_stack([&](Stack&) {
    EXPECT_EQ(shm.stats().peers_attached, 2u);
    EXPECT_EQ(shm.stats().peers_lost, 2u);
  });
  server.rt.close(s2);
}

}  // namespace
}  // namespace synack
