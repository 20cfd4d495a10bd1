// A SYN flood (RFC 4987): an attacker sends a million SYNs from spoofed addresses and
// ports, as fast as the simulator takes them, at a listener with a backlog of 128, while a
// thousand legitimate clients connect and each echo 10 KB through it. The spoofed SYNs
// fill the half-open queue at once and keep it full; from then on every SYN, legitimate
// or not, is answered with a SYN cookie and stores nothing. Every legitimate transfer
// completes byte-exact, the server never holds more connections than its backlog and the
// clients, and the process's heap stays under a stated bound however many SYNs come.
#include <gtest/gtest.h>
#include <malloc.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <vector>

#include "link/sim/rng.hpp"
#include "stack/counters.hpp"
#include "support/flow.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"

namespace synack::testing {
namespace {

using tcp::State;

constexpr std::uint16_t kPort = 80;
constexpr int kBacklog = 128;
constexpr int kClientHosts = 10;
constexpr int kClientsPerHost = 100;
constexpr int kClients = kClientHosts * kClientsPerHost;
constexpr std::size_t kMessageBytes = 10 * 1024;  // each way
// A million SYNs, 200 every 2 ms of virtual time: 100,000 a second for 10 seconds, while
// the clients start one every 8 ms. The same under AddressSanitizer (30 s there, Debug).
constexpr std::uint64_t kSpoofedSyns = 1'000'000;
constexpr std::uint64_t kSynsPerBatch = 200;
constexpr Duration kBatchInterval = milliseconds(2);
constexpr Duration kClientInterval = milliseconds(8);

// The attacker: a node that writes SYNs by hand from random sources nobody routes back to
// (100.64.0.0/10), so every SYN,ACK the server sends it is lost, as spoofed addresses'
// are. Each SYN offers what Linux offers (MSS, SACK-permitted, timestamps, window scale).
class SynFlood final : public sim::Node {
 public:
  SynFlood(sim::Network& net, Ipv4Address self, Ipv4Address target, std::uint64_t seed)
      : link_(net.add_host(self.to_u32())), target_(target), rng_(seed) {
    net.add_node(*this, &link_);
  }

  void poll(Instant now) override {
    while (sent_ < kSpoofedSyns && next_ <= now) {
      for (std::uint64_t i = 0; i < kSynsPerBatch && sent_ < kSpoofedSyns; ++i) send_one(now);
      next_ += kBatchInterval;
    }
  }
  std::optional<Instant> next_deadline() const override {
    if (sent_ >= kSpoofedSyns) return std::nullopt;
    return next_;
  }
  std::uint64_t sent() const { return sent_; }

 private:
  void send_one(Instant now) {
    const std::uint64_t r = rng_.next();
    const Ipv4Address src((100u << 24) | (64u << 16) | static_cast<std::uint32_t>(r & 0x3fffff));
    wire::TcpHeader h;
    h.src_port = static_cast<std::uint16_t>(1024 + (r >> 22) % 64000);
    h.dst_port = kPort;
    h.seq = static_cast<std::uint32_t>(r >> 32);
    h.flags = wire::TcpFlags::syn;
    h.window = 64240;
    h.options.mss = 1460;
    h.options.sack_permitted = true;
    h.options.timestamps = wire::TcpTimestamps{static_cast<std::uint32_t>(r >> 7), 0};
    h.options.window_scale = 7;
    const std::size_t len =
        wire::write_tcp(wire::MutableBytes(frame_.data() + 20, frame_.size() - 20), h, {},
                        src.to_u32(), target_.to_u32());
    wire::write_ipv4_header(wire::MutableBytes(frame_.data(), 20),
                            {.src = src, .dst = target_, .protocol = wire::kTcp}, len);
    link_.send(wire::Bytes(frame_.data(), 20 + len), now);
    ++sent_;
  }

  sim::SimLink& link_;
  Ipv4Address target_;
  sim::Rng rng_;
  std::array<std::uint8_t, 20 + 60> frame_{};
  std::uint64_t sent_ = 0;
  Instant next_{};
};

std::span<const std::uint8_t> bytes_of(const std::string& s, std::size_t from = 0) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()) + from, s.size() - from};
}

// Reads what is there into `out`; true at end of stream (or an error, which fails the test).
bool drain(Stack& stack, SocketId s, std::string& out) {
  std::uint8_t buf[16384];
  for (int i = 0; i < 64; ++i) {
    std::size_t n = 0;
    const auto ec = stack.read(s, buf, n);
    if (ec == std::errc::resource_unavailable_try_again) return false;
    EXPECT_FALSE(ec) << ec.message();
    if (ec || n == 0) return true;
    out.append(reinterpret_cast<const char*>(buf), n);
  }
  return false;
}

struct Client {
  sim::Host* host = nullptr;
  SocketId socket = -1;
  Instant start{};
  std::string message;
  std::size_t written = 0;
  std::string echoed;
  Instant finished{};
  bool started = false, connected = false, done = false;
};

struct Served {
  SocketId socket = -1;
  std::string pending;  // read, not yet written back
  bool eof = false, done = false;
};

std::size_t heap_in_use() {
  return mallinfo2().uordblks;
}

TEST(SynFlood, AMillionSpoofedSynsLeaveAThousandRealTransfersWholeAndMemoryBounded) {
  const auto wall_start = std::chrono::steady_clock::now();
  sim::World world{11, sim::ChannelParams{.delay = milliseconds(5)}};
  sim::Host& server = world.add_host(kServerAddr);
  std::vector<sim::Host*> hosts;
  for (int h = 0; h < kClientHosts; ++h) {
    hosts.push_back(&world.add_host(Ipv4Address(198, 18, 1, static_cast<std::uint8_t>(1 + h))));
  }
  SynFlood attacker(world.net(), Ipv4Address(198, 18, 0, 66), kServerAddr, 99);

  SocketId listener = -1;
  ASSERT_FALSE(server.stack.tcp_socket(listener));
  ASSERT_FALSE(server.stack.bind(listener, {Ipv4Address(), kPort}));
  ASSERT_FALSE(server.stack.listen(listener, kBacklog));

  std::vector<Client> clients(kClients);
  for (int i = 0; i < kClients; ++i) {
    Client& c = clients[static_cast<std::size_t>(i)];
    c.host = hosts[static_cast<std::size_t>(i % kClientHosts)];
    c.start = kEpoch + milliseconds(1) + i * kClientInterval;
    c.message = pattern(kMessageBytes, static_cast<std::uint32_t>(i));
    c.echoed.reserve(kMessageBytes);
  }
  std::vector<Served> served;
  served.reserve(kClients);
  int clients_done = 0;

  // From here on the heap holds only what the run adds: stacks' connections, tables and
  // frames in flight.
  const std::size_t heap_before = heap_in_use();
  std::size_t heap_peak = heap_before;
  std::size_t peak_connections = 0;
  std::uint64_t peak_half_open = 0;

  // The applications' event loop, run every millisecond of virtual time.
  const auto serve = [&] {
    Stack& s = server.stack;
    for (int i = 0; i < kClients; ++i) {
      Served c;
      if (s.accept(listener, c.socket)) break;
      served.push_back(std::move(c));
    }
    for (Served& c : served) {
      if (c.done) continue;
      if (s.readiness(c.socket).readable) c.eof = drain(s, c.socket, c.pending);
      if (!c.pending.empty()) {
        std::size_t n = 0;
        const auto ec = s.write(c.socket, bytes_of(c.pending), n);
        EXPECT_TRUE(!ec || ec == std::errc::resource_unavailable_try_again) << ec.message();
        c.pending.erase(0, n);
      }
      if (c.eof && c.pending.empty()) {
        EXPECT_FALSE(s.close(c.socket));
        c.pending.shrink_to_fit();  // the test's own memory is not the stack's
        c.done = true;
      }
    }
    for (Client& c : clients) {
      if (c.done) continue;
      Stack& cs = c.host->stack;
      if (!c.started) {
        if (world.now() < c.start) break;  // clients start in order
        EXPECT_FALSE(cs.tcp_socket(c.socket));
        EXPECT_EQ(cs.connect(c.socket, {kServerAddr, kPort}), std::errc::operation_in_progress);
        c.started = true;
        continue;
      }
      const Readiness r = cs.readiness(c.socket);
      if (!c.connected) {
        if (!r.writable) continue;
        EXPECT_FALSE(cs.socket_error(c.socket));
        c.connected = true;
      }
      if (c.written < c.message.size()) {
        std::size_t n = 0;
        cs.write(c.socket, bytes_of(c.message, c.written), n);
        c.written += n;
      }
      if (r.readable) {
        EXPECT_FALSE(drain(cs, c.socket, c.echoed)) << "EOF before the echo";
      }
      if (c.echoed.size() >= c.message.size()) {
        EXPECT_FALSE(cs.close(c.socket));
        c.done = true;
        c.finished = world.now();
        ++clients_done;
      }
    }
    peak_connections = std::max(peak_connections, s.connection_count());
    peak_half_open = std::max(
        peak_half_open, s.counters().tcp.in_state[static_cast<std::size_t>(State::SynReceived)]);
    heap_peak = std::max(heap_peak, heap_in_use());
  };

  // The flood lasts 10 s and the last client starts at 8 s; a client whose SYN or ACK
  // were lost would retry within seconds. 30 s of virtual time is ample.
  const Instant deadline = kEpoch + seconds(30);
  while (clients_done < kClients && world.now() < deadline) {
    world.run_for(milliseconds(1));
    serve();
  }
  // The attacker is done too, and its last SYNs have arrived (5 ms on the wire).
  world.run_until([&] { return attacker.sent() == kSpoofedSyns; }, seconds(10));
  world.run_for(milliseconds(10));
  serve();
  Duration slowest{};
  for (const Client& c : clients) slowest = std::max(slowest, c.finished - c.start);

  const Counters& sc = server.stack.counters();
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  const long long heap_growth =
      static_cast<long long>(heap_peak) - static_cast<long long>(heap_before);
  std::printf(
      "syn flood: %llu spoofed SYNs, %d clients done at %.3f s virtual, %.1f s wall; "
      "cookies sent %llu, validated %llu, failed %llu; syn dropped %llu; peak connections "
      "%zu (half-open %llu); heap growth %.1f MB; slowest client %.3f s\n",
      static_cast<unsigned long long>(attacker.sent()), clients_done,
      static_cast<double>(to_nanos(world.now())) / 1e9, wall,
      static_cast<unsigned long long>(sc.tcp.syncookies_sent),
      static_cast<unsigned long long>(sc.tcp.syncookies_validated),
      static_cast<unsigned long long>(sc.tcp.syncookies_failed),
      static_cast<unsigned long long>(sc.tcp.syn_dropped), peak_connections,
      static_cast<unsigned long long>(peak_half_open), static_cast<double>(heap_growth) / 1e6,
      static_cast<double>(slowest.count()) / 1e9);

  // Every legitimate transfer completed, byte for byte.
  ASSERT_EQ(clients_done, kClients);
  for (int i = 0; i < kClients; ++i) {
    const Client& c = clients[static_cast<std::size_t>(i)];
    ASSERT_TRUE(same_bytes(c.echoed, c.message)) << "client " << i;
  }
  EXPECT_EQ(attacker.sent(), kSpoofedSyns);

  // The flood filled the half-open queue with its own SYNs (backlog 128) within the first
  // batch, and it stayed full: every client came in on a cookie, and every spoofed SYN
  // after the first 128 was answered by one.
  EXPECT_EQ(sc.tcp.syncookies_validated, std::uint64_t{kClients});
  EXPECT_EQ(sc.tcp.syncookies_failed, 0u);
  EXPECT_EQ(sc.tcp.syn_dropped, 0u);
  EXPECT_EQ(sc.tcp.syncookies_sent, kSpoofedSyns - kBacklog + kClients);
  // And none of them waited for it: no SYN was retried (1 s), every echo took the 30 ms
  // it takes on an idle server (three round trips of 10 ms, the event loop's 1 ms turns).
  EXPECT_LE(slowest, milliseconds(30));
  for (const sim::Host* h : hosts) EXPECT_EQ(h->stack.counters().tcp.retrans_segs, 0u);
  EXPECT_EQ(sc.tcp.passive_opens, std::uint64_t{kBacklog} + kClients);

  // State stays bounded: at most the backlog in SYN_RECEIVED, and beside it only the real
  // clients' connections.
  EXPECT_LE(peak_half_open, std::uint64_t{kBacklog});
  EXPECT_LE(peak_connections, std::size_t{kBacklog} + kClients);

  // The heap: the 128 half-open children keep their buffers (64 KiB each way) until the
  // SYN,ACK retries run out, 17 MB; a few legitimate connections' buffers at a time, client
  // and server; a thousand client TIME_WAIT blocks; frames in flight (about 600 SYNs, 5 ms
  // of the flood). None of it grows with the number of SYNs: 32 MB is the bound, whatever
  // the flood (21 MB measured). AddressSanitizer's allocator is not glibc's: no bound there.
#if !defined(__SANITIZE_ADDRESS__)
  EXPECT_LT(heap_growth, 32ll * 1000 * 1000);
#endif
}

}  // namespace
}  // namespace synack::testing
