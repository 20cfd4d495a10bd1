#include "bench/scenarios/shm_pair.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "bench/pattern.hpp"
#include "bench/peers/kernel_affinity.hpp"
#include "bench/process_pair.hpp"
#include "bench/scenarios/stack_pair.hpp"
#include "link/shm/shm_link.hpp"
#include "tcp/config.hpp"

namespace synack::bench {
namespace {

using Steady = std::chrono::steady_clock;

constexpr Ipv4Address kServerAddress(198, 18, 0, 2);
constexpr Ipv4Address kClientAddress(198, 18, 0, 1);
constexpr std::uint16_t kPort = 5001;
constexpr std::size_t kChunk = 256 * 1024;
constexpr std::size_t kBuffer = std::size_t{4} << 20;  // SO_SNDBUF and SO_RCVBUF
constexpr std::uint64_t kMaxIterations = 10'000'000;
// Nothing waits longer than this for the other process (it is also the pair's limit).
constexpr auto kLimit = std::chrono::seconds(60);

SideResult failed(std::string why) {
  return Unexpected(std::move(why));
}

bool would_block(std::error_code ec) {
  return ec == std::errc::resource_unavailable_try_again;
}

// One process's half: its end of the link and its stack, polled in a loop.
class Side {
 public:
  // The server makes the region; the client attaches, trying again while the server has
  // not made it yet.
  static synack::Result<std::unique_ptr<Side>, std::string> open(const std::string& name,
                                                                 bool server, std::uint32_t mtu,
                                                                 bool nodelay) {
    link::shm::ShmLinkOptions options;
    options.busy_poll = true;
    options.region.mtu = mtu;
    // Room for two windows of frames, so the ring never drops: a bench of the stacks.
    options.region.ring_bytes = 16u << 20;
    options.region.replace = true;
    auto link = server ? link::shm::ShmLink::create(name, options)
                       : link::shm::ShmLink::attach(name, options);
    for (int i = 0; !server && !link && i < 200; ++i) {
      if (link.error().code != std::errc::no_such_file_or_directory &&
          link.error().code != std::errc::connection_refused) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      link = link::shm::ShmLink::attach(name, options);
    }
    if (!link) return Unexpected(link.error().message);
    auto side = std::unique_ptr<Side>(new Side(std::move(*link)));
    StackConfig config;
    config.address = server ? kServerAddress : kClientAddress;
    side->stack_ = std::make_unique<Stack>(*side->link_, side->clock_, config);
    tcp::Config& tcp = side->stack_->tcp_defaults();
    tcp.send_buffer = kBuffer;
    tcp.receive_buffer = kBuffer;
    tcp.mss = static_cast<std::uint16_t>(std::min<std::uint32_t>(mtu - 40, 65495));
    tcp.nodelay = nodelay;
    return side;
  }

  Stack& stack() { return *stack_; }
  void step() { stack_->poll(clock_.now()); }

  // A read that waits, stepping the stack, until it has an answer (timed_out at the limit).
  std::error_code read(SocketId s, std::span<std::uint8_t> out, std::size_t& n) {
    std::error_code ec;
    if (!step_until([&] { return !would_block(ec = stack_->read(s, out, n)); })) {
      return std::make_error_code(std::errc::timed_out);
    }
    return ec;
  }

  // Steps until `done()` (true) or the limit passes (false).
  template <class Done>
  bool step_until(Done&& done) {
    const auto deadline = Steady::now() + kLimit;
    for (std::uint64_t i = 0; !done(); ++i) {
      if ((i & 1023) == 0 && Steady::now() > deadline) return false;
      step();
    }
    return true;
  }

 private:
  explicit Side(std::unique_ptr<link::shm::ShmLink> link) : link_(std::move(link)) {}

  WallClock clock_;
  std::unique_ptr<link::shm::ShmLink> link_;
  std::unique_ptr<Stack> stack_;
};

// The server: listens, accepts one connection and returns it, or why not.
synack::Result<SocketId, std::string> accept_one(Side& side) {
  Stack& stack = side.stack();
  SocketId l = -1, s = -1;
  if (stack.tcp_socket(l) || stack.bind(l, {kServerAddress, kPort}) || stack.listen(l, 1)) {
    return Unexpected(std::string("listen failed"));
  }
  std::error_code ec;
  if (!side.step_until([&] { return !would_block(ec = stack.accept(l, s)); }) || ec) {
    return Unexpected("accept: " + (ec ? ec.message() : std::string("timed out")));
  }
  return s;
}

synack::Result<SocketId, std::string> connect_one(Side& side) {
  Stack& stack = side.stack();
  SocketId c = -1;
  if (stack.tcp_socket(c)) return Unexpected(std::string("socket failed"));
  std::error_code ec = stack.connect(c, {kServerAddress, kPort});
  if (ec != std::errc::operation_in_progress) return Unexpected("connect: " + ec.message());
  // Writable once established (a 0-byte write reports the handshake's outcome).
  std::size_t n = 0;
  const std::array<std::uint8_t, 0> nothing{};
  if (!side.step_until([&] {
        ec = stack.write(c, nothing, n);
        return !would_block(ec) && ec != std::errc::not_connected;
      }) ||
      ec) {
    return Unexpected("connect: " + (ec ? ec.message() : std::string("timed out")));
  }
  return c;
}

// Reads `bytes` of the Pattern and then the end of stream; the time of the last byte.
SideResult receive_pattern(const std::string& name, std::uint64_t bytes, std::uint32_t mtu) {
  auto side = Side::open(name, true, mtu, false);
  if (!side) return failed(side.error());
  auto s = accept_one(**side);
  if (!s) return failed(s.error());
  Stack& stack = (*side)->stack();
  const Pattern pattern(kChunk);
  std::vector<std::uint8_t> buffer(kChunk);
  std::uint64_t got = 0;
  double end = 0;
  bool eof = false, wrong = false;
  std::error_code ec;
  const bool ok = (*side)->step_until([&] {
    for (;;) {
      std::size_t n = 0;
      ec = stack.read(*s, buffer, n);
      if (ec) return !would_block(ec);
      if (n == 0) return eof = true;
      if (got + n > bytes || !pattern.matches(got, buffer.data(), n)) return wrong = true;
      got += n;
      if (got == bytes) end = monotonic_ns();
    }
  });
  if (wrong) return failed("wrong bytes at stream offset " + std::to_string(got));
  if (!ok || !eof || got != bytes) {
    return failed("received " + std::to_string(got) + " of " + std::to_string(bytes) + " bytes" +
                  (ec ? ": " + ec.message() : ""));
  }
  // The client waits for this FIN before it leaves.
  stack.close(*s);
  (*side)->step_until([&] { return stack.connection_count() == 0; });
  return end;
}

// Writes `bytes` of the Pattern, then FIN, and waits for the server's FIN (so every byte
// was taken before the process leaves); the time of the first write.
SideResult send_pattern(const std::string& name, std::uint64_t bytes, std::uint32_t mtu) {
  auto side = Side::open(name, false, mtu, false);
  if (!side) return failed(side.error());
  auto c = connect_one(**side);
  if (!c) return failed(c.error());
  Stack& stack = (*side)->stack();
  const Pattern pattern(kChunk);
  const double start = monotonic_ns();
  std::uint64_t sent = 0;
  std::error_code ec;
  const bool ok = (*side)->step_until([&] {
    while (sent < bytes) {
      const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, bytes - sent));
      std::size_t n = 0;
      ec = stack.write(*c, std::span(pattern.at(sent), want), n);
      if (ec) return !would_block(ec);
      sent += n;
    }
    return true;
  });
  if (!ok || ec) return failed("sent " + std::to_string(sent) + (ec ? ": " + ec.message() : ""));
  if (stack.shutdown(*c, Shutdown::write)) return failed("shutdown failed");
  std::array<std::uint8_t, 1> byte{};
  std::size_t n = 1;
  if ((*side)->read(*c, byte, n) || n != 0) {
    return failed("expected the server's FIN");
  }
  stack.close(*c);
  return start;
}

// Answers each byte with the next value, `total` times.
SideResult answer(const std::string& name, std::uint64_t total) {
  auto side = Side::open(name, true, 1500, true);
  if (!side) return failed(side.error());
  auto s = accept_one(**side);
  if (!s) return failed(s.error());
  Stack& stack = (*side)->stack();
  std::array<std::uint8_t, 1> byte{};
  for (std::uint64_t i = 0; i < total; ++i) {
    std::size_t n = 0;
    if ((*side)->read(*s, byte, n) || n != 1) {
      return failed("request " + std::to_string(i) + " did not come");
    }
    if (byte[0] != static_cast<std::uint8_t>(i)) {
      return failed("request " + std::to_string(i) + " brought the wrong byte");
    }
    ++byte[0];
    if (stack.write(*s, byte, n) || n != 1) return failed("write failed");
  }
  std::size_t n = 1;
  (*side)->read(*s, byte, n);  // the client's FIN
  stack.close(*s);
  (*side)->step_until([&] { return stack.connection_count() == 0; });
  return 0.0;
}

// `warm_up` untimed round trips, then `iterations` timed: microseconds per round trip.
SideResult ask(const std::string& name, std::uint64_t warm_up, std::uint64_t iterations) {
  auto side = Side::open(name, false, 1500, true);
  if (!side) return failed(side.error());
  auto c = connect_one(**side);
  if (!c) return failed(c.error());
  Stack& stack = (*side)->stack();
  double start = monotonic_ns();
  std::array<std::uint8_t, 1> byte{};
  for (std::uint64_t i = 0; i < warm_up + iterations; ++i) {
    if (i == warm_up) start = monotonic_ns();
    const auto request = static_cast<std::uint8_t>(i);
    std::size_t n = 0;
    byte[0] = request;
    if (stack.write(*c, byte, n) || n != 1) return failed("write failed");
    if ((*side)->read(*c, byte, n) || n != 1) {
      return failed("round trip " + std::to_string(i) + " got no answer");
    }
    if (byte[0] != static_cast<std::uint8_t>(request + 1)) {
      return failed("round trip " + std::to_string(i) + " got the wrong answer");
    }
  }
  const double us = (monotonic_ns() - start) / 1e3 / static_cast<double>(iterations);
  if (stack.shutdown(*c, Shutdown::write)) return failed("shutdown failed");
  std::size_t n = 1;
  (*side)->read(*c, byte, n);  // the server's FIN
  stack.close(*c);
  return us;
}

// A region name no other run uses.
std::string region_name() {
  static int runs = 0;
  return "bench-" + std::to_string(::getpid()) + "-" + std::to_string(runs++);
}

// The region's creator unlinks it as it leaves; this is for one that was killed first.
void remove_region(const std::string& name) {
  ::shm_unlink(link::shm::Region::object_name(name).c_str());
}

}  // namespace

Run shm_bulk(std::uint64_t bytes, std::uint32_t mtu) {
  if (bytes == 0) return Run::fail("a bulk run needs at least one byte");
  const auto cores = cores_for(false);
  if (!cores) return Run::skip("this process may run on fewer than two CPUs");
  const std::string name = region_name();
  auto r = run_process_pair({
      .first = [&] { return receive_pattern(name, bytes, mtu); },
      .second = [&] { return send_pattern(name, bytes, mtu); },
      .first_cpu = cores->first,
      .second_cpu = cores->second,
      .limit = kLimit + std::chrono::seconds(10),
  });
  remove_region(name);
  if (!r) return Run::fail(r.error());
  const double seconds = (r->first - r->second) / 1e9;
  if (seconds <= 0) return Run::fail("no time elapsed");
  return Run::of(static_cast<double>(bytes) * 8 / seconds / 1e9);
}

Run shm_round_trip(std::uint64_t iterations) {
  if (iterations == 0 || iterations > kMaxIterations) {
    return Run::fail("iterations must be 1 to " + std::to_string(kMaxIterations));
  }
  const auto cores = cores_for(false);
  if (!cores) return Run::skip("this process may run on fewer than two CPUs");
  const std::string name = region_name();
  const std::uint64_t warm_up = std::min<std::uint64_t>(iterations / 10, 1000);
  auto r = run_process_pair({
      .first = [&] { return answer(name, warm_up + iterations); },
      .second = [&] { return ask(name, warm_up, iterations); },
      .first_cpu = cores->first,
      .second_cpu = cores->second,
      .limit = kLimit + std::chrono::seconds(10),
  });
  remove_region(name);
  if (!r) return Run::fail(r.error());
  return Run::of(r->second);
}

}  // namespace synack::bench
