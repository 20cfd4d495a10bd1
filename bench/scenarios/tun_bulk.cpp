#include "bench/scenarios/tun_bulk.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "bench/pattern.hpp"
#include "link/tun/netns.hpp"
#include "link/tun/tun_link.hpp"
#include "runtime/steady_clock.hpp"
#include "synack/stack.hpp"
#include "tcp/config.hpp"
#include "tcp/state.hpp"

namespace synack::bench {
namespace {

constexpr std::uint16_t kPort = 5201;
const Ipv4Address kKernelIp(198, 18, 0, 1);
const Ipv4Address kSynackIp(198, 18, 0, 2);
constexpr auto kTimeout = std::chrono::seconds(120);
constexpr std::size_t kBuffer = 4 << 20;  // each end's socket buffers

// Reads and writes of up to this many bytes, each from or checked against the Pattern.
constexpr std::size_t kChunk = 1 << 18;
const Pattern& stream() {
  static const Pattern pattern(kChunk);
  return pattern;
}

// Deletes the namespace whatever happens (the TUN device inside goes with it).
struct NamespaceOwner {
  std::string name;
  ~NamespaceOwner() {
    if (!name.empty() && link::netns_exists(name)) link::netns_delete(name);
  }
};

// The kernel's end: a cubic listener in the namespace; one connection, which sinks and
// checks `bytes` (ToKernel) or sends them (FromKernel).
struct KernelPeer {
  std::atomic<bool> listening{false};
  std::atomic<bool> done{false};
  std::string error;  // written before `done`
  std::uint64_t received = 0;

  void run(Direction d, std::uint64_t bytes) {
    const int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (l < 0) return finish("socket: " + std::string(std::strerror(errno)));
    const int one = 1;
    ::setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const char cubic[] = "cubic";
    if (::setsockopt(l, IPPROTO_TCP, TCP_CONGESTION, cubic, sizeof cubic - 1) < 0) {
      ::close(l);
      return finish("TCP_CONGESTION cubic: " + std::string(std::strerror(errno)));
    }
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(kPort);
    a.sin_addr.s_addr = htonl(kKernelIp.to_u32());
    sockaddr addr{};
    std::memcpy(&addr, &a, sizeof a);
    if (::bind(l, &addr, sizeof a) < 0 || ::listen(l, 1) < 0) {
      ::close(l);
      return finish("bind/listen: " + std::string(std::strerror(errno)));
    }
    // Bounded: accept and every read or write give up after the run's timeout.
    timeval tv{static_cast<time_t>(kTimeout.count()), 0};
    ::setsockopt(l, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    listening = true;
    const int s = ::accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
    ::close(l);
    if (s < 0) return finish("accept: " + std::string(std::strerror(errno)));
    ::setsockopt(s, IPPROTO_TCP, TCP_CONGESTION, cubic, sizeof cubic - 1);
    ::setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    std::string why;
    if (d == Direction::ToKernel) {
      std::vector<std::uint8_t> buf(kChunk);
      for (;;) {
        const ssize_t n = ::read(s, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
          why = "kernel read: " + std::string(std::strerror(errno));
          break;
        }
        if (n == 0) break;
        if (!stream().matches(received, buf.data(), static_cast<std::size_t>(n))) {
          why = "wrong data at offset " + std::to_string(received);
          break;
        }
        received += static_cast<std::uint64_t>(n);
      }
      if (why.empty() && received != bytes) {
        why = "kernel got " + std::to_string(received) + " of " + std::to_string(bytes) + " bytes";
      }
    } else {
      std::uint64_t sent = 0;
      while (sent < bytes) {
        const auto k = static_cast<std::size_t>(std::min<std::uint64_t>(bytes - sent, kChunk));
        const ssize_t n = ::write(s, stream().at(sent), k);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          why = "kernel write: " + std::string(std::strerror(errno));
          break;
        }
        sent += static_cast<std::uint64_t>(n);
      }
      ::shutdown(s, SHUT_WR);
      // Wait for synack's FIN so the kernel never resets data still in flight.
      char c;
      while (::read(s, &c, 1) > 0) {
      }
    }
    ::close(s);
    finish(why);
  }
  void finish(std::string why) {
    error = std::move(why);
    done = true;
  }
};

Run drive(link::TunLink& tun, KernelPeer& peer, std::thread& kernel, Direction d, bool offloads,
          std::uint64_t bytes) {
  runtime::SteadyClock clock;
  StackConfig config;
  config.address = kSynackIp;
  config.prefix_length = 24;
  Stack stack(tun, clock, config);
  stack.tcp_defaults().send_buffer = kBuffer;
  stack.tcp_defaults().receive_buffer = kBuffer;
  const auto give_up = std::chrono::steady_clock::now() + kTimeout;
  auto timed_out = [&] { return std::chrono::steady_clock::now() > give_up; };

  while (!peer.listening && !peer.done && !timed_out()) std::this_thread::yield();
  SocketId s = -1;
  stack.tcp_socket(s);
  const std::error_code ec = stack.connect(s, {kKernelIp, kPort});
  if (ec && ec != std::errc::operation_in_progress) return Run::fail("connect: " + ec.message());
  while (stack.tcp_state(s) != tcp::State::Established) {
    if (timed_out() || stack.tcp_state(s) == tcp::State::Closed) return Run::fail("no connection");
    stack.poll(clock.now());
  }
  const auto start = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point end;
  std::string why;
  if (d == Direction::ToKernel) {
    std::uint64_t sent = 0;
    bool shut = false;
    while (!peer.done) {
      if (timed_out()) return Run::fail("timed out after " + std::to_string(sent) + " bytes");
      stack.poll(clock.now());
      while (sent < bytes) {
        const auto k = static_cast<std::size_t>(std::min<std::uint64_t>(bytes - sent, kChunk));
        std::size_t n = 0;
        if (stack.write(s, std::span(stream().at(sent), k), n) || n == 0) break;
        sent += n;
      }
      if (sent == bytes && !shut) {
        stack.shutdown(s, Shutdown::write);
        shut = true;
      }
    }
    end = std::chrono::steady_clock::now();
    why = peer.error;
  } else {
    std::vector<std::uint8_t> buf(kChunk);
    std::uint64_t got = 0;
    bool eof = false;
    while (!eof) {
      if (timed_out()) return Run::fail("timed out after " + std::to_string(got) + " bytes");
      stack.poll(clock.now());
      for (;;) {
        std::size_t n = 0;
        const std::error_code r = stack.read(s, buf, n);
        if (r == std::errc::resource_unavailable_try_again) break;
        if (r) return Run::fail("read: " + r.message());
        if (n == 0) {
          eof = true;
          break;
        }
        if (!stream().matches(got, buf.data(), n)) {
          return Run::fail("wrong data at offset " + std::to_string(got));
        }
        got += n;
      }
    }
    end = std::chrono::steady_clock::now();
    if (got != bytes) why = "synack got " + std::to_string(got) + " of " + std::to_string(bytes);
    stack.shutdown(s, Shutdown::write);
    // Our FIN to the kernel, which waits for it.
    while (!peer.done && !timed_out()) stack.poll(clock.now());
    if (why.empty()) why = peer.error;
  }
  stack.close(s);
  // Let the last segments (ACK of the FIN) out before the device goes.
  for (int i = 0; i < 1000; ++i) stack.poll(clock.now());
  kernel.join();
  if (!why.empty()) return Run::fail(why);
  if (offloads && tun.stats().segmented_out + tun.stats().coalesced_in == 0 && bytes > (1u << 20)) {
    return Run::fail("offloads on, but no super-segment went either way");
  }
  const double secs = std::chrono::duration<double>(end - start).count();
  return Run::of(static_cast<double>(bytes) * 8 / secs / 1e9);
}

}  // namespace

Run synack_tun_bulk(Direction d, bool offloads, std::uint64_t bytes) {
  if (::geteuid() != 0) return Run::skip("needs root");
  static std::atomic<int> counter{0};
  const std::string tag = std::to_string(::getpid()) + "-" + std::to_string(counter++);
  NamespaceOwner ns{"synack-bench-" + tag};
  if (auto e = link::netns_add(ns.name)) {
    ns.name.clear();
    return Run::skip("cannot make a network namespace: " + *e);
  }
  auto guard = link::NetnsGuard::enter(ns.name);
  if (!guard) return Run::fail("cannot enter " + ns.name + ": " + guard.error());
  link::TunConfig config;
  config.name = ("sb" + tag).substr(0, 15);
  config.host = link::InterfaceAddress{kKernelIp, 24};
  config.offloads = offloads;
  // Many frames per system call, both ways (this thread receives first, so it owns the
  // read ring). Closing the rings interrupts this thread's next blocking call once
  // (TunConfig::batching); it busy-polls and makes none that would fail for it.
  config.batching = true;
  auto tun = link::TunLink::open(config);
  if (!tun) return Run::skip(tun.error().message);
  KernelPeer peer;
  // Born inside the namespace (this thread is in it), so its sockets are too.
  std::thread kernel([&] { peer.run(d, bytes); });
  Run r = drive(**tun, peer, kernel, d, offloads, bytes);
  if (std::getenv("SYNACK_BENCH_TUN_STATS")) {  // system calls a frame, for BENCHMARKS.md
    const link::TunStats& st = (*tun)->stats();
    std::fprintf(stderr, "\n%s: %llu frames in, %llu receive calls (%.2f a call); %llu out\n",
                 (*tun)->batching().c_str(), static_cast<unsigned long long>(st.frames_in),
                 static_cast<unsigned long long>(st.receive_calls),
                 st.receive_calls
                     ? static_cast<double>(st.frames_in) / static_cast<double>(st.receive_calls)
                     : 0.0,
                 static_cast<unsigned long long>(st.frames_out));
  }
  if (kernel.joinable()) {
    // A failed run: the kernel thread's calls give up at their timeouts; wake them sooner
    // by deleting the device under them.
    tun->reset();
    kernel.join();
  }
  return r;
}

}  // namespace synack::bench
