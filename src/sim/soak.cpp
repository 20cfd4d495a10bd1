#include "sim/soak.hpp"

#include <algorithm>
#include <array>
#include <memory>
#include <vector>

#include "link/sim/rng.hpp"
#include "sim/world.hpp"
#include "stack/counters.hpp"
#include "tcp/config.hpp"
#include "tcp/state.hpp"

namespace synack::sim {
namespace {

constexpr Ipv4Address kA{198, 18, 1, 1};
constexpr Ipv4Address kB{198, 18, 1, 2};

std::uint8_t stream_byte(std::uint64_t stream, std::uint64_t offset) {
  std::uint64_t x = offset * 0x9e3779b97f4a7c15ull + stream;
  x ^= x >> 29;
  return static_cast<std::uint8_t>(x ^ (x >> 8) ^ (x >> 16));
}

// One side of one connection, acting out the behaviour the seed drew.
struct Endpoint {
  Host* host = nullptr;
  SocketId socket = -1;
  std::uint16_t port = 0;  // the client's local port, to pair the accepted socket
  std::uint64_t out_stream = 0, in_stream = 0;
  std::uint64_t to_send = 0, sent = 0, received = 0;
  std::size_t max_write = 1, max_read = 1;
  Duration read_pause{};  // how long to stop reading after each read, now and then
  double pause_chance = 0;
  Instant paused_until{};
  std::uint64_t abort_after = ~0ull;  // abort (SO_LINGER 0) once this much is sent
  bool shut = false, eof = false, closed = false, aborted = false;
  std::error_code error;  // what the connection ended with, if not EOF
  std::string failure;
};

struct Run {
  explicit Run(std::uint64_t seed) : rng(splitmix64(seed)), world(seed, draw_path()) {}

  ChannelParams draw_path() {
    ChannelParams p;
    p.delay = microseconds(static_cast<std::int64_t>(500 + rng.below(50'000)));
    p.jitter = microseconds(static_cast<std::int64_t>(rng.below(2'000)));
    if (rng.chance(0.5)) {
      p.bandwidth_bps = 1'000'000 + rng.below(200'000'000);
      p.queue_bytes = 3'000 + rng.below(500'000);
    }
    p.loss = rng.chance(0.7) ? rng.unit() * 0.15 : 0;
    p.duplicate = rng.chance(0.3) ? rng.unit() * 0.05 : 0;
    p.reorder = rng.chance(0.3) ? rng.unit() * 0.1 : 0;
    p.reorder_delay = microseconds(static_cast<std::int64_t>(1'000 + rng.below(30'000)));
    p.corrupt = rng.chance(0.3) ? rng.unit() * 0.02 : 0;
    path = p;
    return p;
  }

  Rng rng;
  ChannelParams path;
  World world;
};

// Wakes the run when a paused reader is due to read again: with no packet in flight
// nothing else would.
struct Alarm final : Node {
  std::optional<Instant> at;
  void poll(Instant now) override {
    if (at && *at <= now) at.reset();
  }
  std::optional<Instant> next_deadline() const override { return at; }
};

void pump(Endpoint& e, Instant now, std::vector<std::uint8_t>& buf) {
  Stack& stack = e.host->stack;
  if (e.closed) return;
  // Write.
  while (!e.shut && e.sent < e.to_send) {
    if (e.sent >= e.abort_after) {
      stack.setsockopt(e.socket, Option::linger, 0);
      stack.close(e.socket);
      e.closed = e.aborted = true;
      return;
    }
    const std::size_t n_max = static_cast<std::size_t>(
        std::min<std::uint64_t>({e.max_write, e.to_send - e.sent, e.abort_after - e.sent}));
    for (std::size_t i = 0; i < n_max; ++i) buf[i] = stream_byte(e.out_stream, e.sent + i);
    std::size_t n = 0;
    const auto ec = stack.write(e.socket, std::span(buf.data(), n_max), n);
    e.sent += n;
    if (ec == std::errc::resource_unavailable_try_again) break;
    if (ec) {
      e.error = ec;
      break;
    }
  }
  if (!e.shut && e.sent == e.to_send && !e.error) {
    stack.shutdown(e.socket, Shutdown::write);
    e.shut = true;
  }
  // Read, unless pausing.
  while (!e.eof && !e.error && now >= e.paused_until) {
    std::size_t n = 0;
    const auto ec = stack.read(e.socket, std::span(buf.data(), e.max_read), n);
    if (ec == std::errc::resource_unavailable_try_again) break;
    if (ec) {
      e.error = ec;
      break;
    }
    if (n == 0) {
      e.eof = true;
      break;
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (buf[i] != stream_byte(e.in_stream, e.received + i) && e.failure.empty()) {
        e.failure = "byte " + std::to_string(e.received + i) + " differs";
      }
    }
    e.received += n;
  }
  if (e.pause_chance > 0 && now >= e.paused_until && e.paused_until != Instant{}) {
    e.paused_until = Instant{};
  }
  // Close once both directions are done (or the connection failed).
  if ((e.eof && e.shut) || e.error) {
    stack.close(e.socket);
    e.closed = true;
  }
}

}  // namespace

SoakResult run_soak(std::uint64_t seed, trace::Sink* sink) {
  SoakResult result;
  Run run(seed);
  Rng& rng = run.rng;
  Host& a = run.world.add_host(kA);
  Host& b = run.world.add_host(kB);
  for (Host* h : {&a, &b}) {
    if (sink) h->stack.set_trace(sink);
    tcp::Config& cfg = h->stack.tcp_defaults();
    cfg.send_buffer = 4096 + rng.below(256 * 1024);
    cfg.receive_buffer = 4096 + rng.below(256 * 1024);
    cfg.sack = rng.chance(0.8);
    cfg.timestamps = rng.chance(0.8);
    cfg.window_scaling = rng.chance(0.8);
    cfg.nodelay = rng.chance(0.5);
    cfg.data_retries = 30;  // heavy loss must not turn into timeouts in a soak
    cfg.syn_retries = 30;
  }
  const int pairs = 1 + static_cast<int>(rng.below(4));
  const bool abort_one = rng.chance(0.2);

  SocketId listener = -1;
  b.stack.tcp_socket(listener);
  b.stack.bind(listener, {Ipv4Address(), 80});
  b.stack.listen(listener, 16);

  std::vector<std::array<Endpoint, 2>> conns(static_cast<std::size_t>(pairs));
  for (int i = 0; i < pairs; ++i) {
    auto& [ca, cb] = conns[static_cast<std::size_t>(i)];
    for (Endpoint* e : {&ca, &cb}) {
      e->to_send = rng.below(2'000'000);
      e->max_write = 1 + rng.below(64 * 1024);
      e->max_read = 1 + rng.below(64 * 1024);
      e->pause_chance = rng.chance(0.3) ? 0.05 : 0;
      e->read_pause = milliseconds(static_cast<std::int64_t>(1 + rng.below(2000)));
    }
    ca.host = &a;
    cb.host = &b;
    ca.out_stream = cb.in_stream = 2 * static_cast<std::uint64_t>(i) + 1;
    cb.out_stream = ca.in_stream = 2 * static_cast<std::uint64_t>(i) + 2;
    if (abort_one && i == 0) (rng.chance(0.5) ? ca : cb).abort_after = rng.below(500'000);
    a.stack.tcp_socket(ca.socket);
    a.stack.connect(ca.socket, {kB, 80});
    synack::Endpoint local;
    a.stack.getsockname(ca.socket, local);
    ca.port = local.port;
  }
  result.description = "pairs=" + std::to_string(pairs) + " loss=" + std::to_string(run.path.loss) +
                       " dup=" + std::to_string(run.path.duplicate) +
                       " reorder=" + std::to_string(run.path.reorder) +
                       " corrupt=" + std::to_string(run.path.corrupt) +
                       " delay_us=" + std::to_string(run.path.delay.count() / 1000) +
                       " bw=" + std::to_string(run.path.bandwidth_bps) +
                       (abort_one ? " abort" : "");

  std::vector<std::uint8_t> buf(64 * 1024);
  Alarm alarm;
  run.world.net().add_node(alarm);
  int accepted = 0;
  const auto all_done = [&] {
    for (auto& pair : conns) {
      for (auto& e : pair) {
        if (e.host == &b && e.socket < 0) return false;  // not accepted yet
        if (!e.closed) return false;
      }
    }
    return true;
  };
  const auto r = run.world.run_until(
      [&] {
        const Instant now = run.world.now();
        SocketId s;
        synack::Endpoint peer;
        while (accepted < pairs && !b.stack.accept(listener, s, &peer)) {
          // Handshakes finish in any order: pair the server side by the client's port.
          ++accepted;
          for (auto& pair : conns) {
            if (pair[0].port == peer.port) pair[1].socket = s;
          }
        }
        for (auto& pair : conns) {
          for (auto& e : pair) {
            if (e.socket < 0) continue;
            const bool was_reading = now >= e.paused_until;
            pump(e, now, buf);
            if (was_reading && e.pause_chance > 0 && rng.chance(e.pause_chance)) {
              e.paused_until = now + e.read_pause;
            }
            if (e.paused_until > now && !e.closed && (!alarm.at || e.paused_until < *alarm.at)) {
              alarm.at = e.paused_until;
            }
          }
        }
        return all_done();
      },
      seconds(4 * 3600));
  b.stack.close(listener);

  auto fail = [&](std::string why) {
    result.ok = false;
    result.failure = std::move(why);
    return result;
  };
  if (r.stalled) return fail("the simulation stalled");
  if (!r.done) return fail("connections did not finish within 4 hours of virtual time");
  for (std::size_t i = 0; i < conns.size(); ++i) {
    const bool aborted_pair = conns[i][0].aborted || conns[i][1].aborted;
    for (int side = 0; side < 2; ++side) {
      const Endpoint& e = conns[i][static_cast<std::size_t>(side)];
      const Endpoint& peer = conns[i][static_cast<std::size_t>(1 - side)];
      const std::string who = "pair " + std::to_string(i) + (side == 0 ? " client" : " server");
      if (!e.failure.empty()) return fail(who + ": " + e.failure);
      if (e.received > peer.sent) return fail(who + ": received more than was sent");
      result.bytes += e.received;
      if (aborted_pair) {
        // The side that did not abort ends with a reset, or a clean EOF if everything
        // arrived first; data it got is a verified prefix either way.
        if (!e.aborted && e.error && e.error != std::errc::connection_reset &&
            e.error != std::errc::broken_pipe) {
          return fail(who + ": unexpected error " + e.error.message());
        }
        continue;
      }
      if (e.error) return fail(who + ": error " + e.error.message());
      if (e.received != peer.to_send) {
        return fail(who + ": received " + std::to_string(e.received) + " of " +
                    std::to_string(peer.to_send));
      }
    }
  }
  // Nothing left behind: TIME_WAIT and orphans drain, and every timer with them.
  run.world.run_until([&] { return a.stack.connection_count() + b.stack.connection_count() == 0; },
                      seconds(600));
  if (a.stack.connection_count() + b.stack.connection_count() != 0) {
    return fail("connections left behind: " +
                std::to_string(a.stack.connection_count() + b.stack.connection_count()));
  }
  if (a.stack.timers_armed() + b.stack.timers_armed() != 0) {
    return fail("timers left armed");
  }
  result.ok = true;
  result.virtual_time = run.world.now() - kEpoch;
  return result;
}

}  // namespace synack::sim
