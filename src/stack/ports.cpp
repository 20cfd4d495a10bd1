// Local ports: bind conflicts, and ephemeral ports chosen per RFC 6056 Algorithm 4
// ("double-hash") with small random increments, as Linux does since 5.18: a keyed hash of
// the destination picks where the search starts, so one peer cannot learn the ports used
// towards another; a second keyed hash picks a counter from a table, so opens towards other
// destinations do not move this one's; and each use advances that counter by a random step,
// so even one destination sees no arithmetic sequence it could extend.
#include <algorithm>
#include <array>

#include "stack/stack_impl.hpp"

namespace synack {

bool Stack::Impl::tcp_port_free_for_bind(std::uint16_t port, bool reuse_addr) const {
  // Connections in the compact TIME_WAIT table hold the port as the others do, counted there.
  const bool time_wait_uses = time_wait.uses_port(port);
  const auto it = tcp_ports.find(port);
  if (it == tcp_ports.end()) return reuse_addr || !time_wait_uses;
  const PortUse& use = it->second;
  // Like Linux: SO_REUSEADDR lets a socket bind beside connections that still use the port
  // (the server restarting past its TIME_WAIT connections), never beside another socket.
  if (use.sockets > 0 || use.autobound > 0) return false;
  return reuse_addr || (use.connections == 0 && !time_wait_uses);
}

namespace {
// Domain tags keep the keyed hashes below independent although they share one secret.
enum class Tag : std::uint8_t { offset = 1, bucket = 2, increment = 3 };

std::uint64_t hash_destination(const SipKey& key, Tag tag, Ipv4Address local,
                               const Endpoint& remote) {
  std::array<std::uint8_t, 11> buf{};
  buf[0] = static_cast<std::uint8_t>(tag);
  local.store(buf.data() + 1);
  remote.address.store(buf.data() + 5);
  buf[9] = static_cast<std::uint8_t>(remote.port >> 8);
  buf[10] = static_cast<std::uint8_t>(remote.port);
  return siphash24(key, buf);
}

// The n-th of a keyed stream of random numbers below `bound`: deterministic for a secret, so
// simulated runs repeat, and unpredictable without it.
std::uint32_t keyed_random(const SipKey& key, std::uint64_t n, std::uint32_t bound) {
  std::array<std::uint8_t, 9> buf{static_cast<std::uint8_t>(Tag::increment)};
  for (std::size_t b = 0; b < 8; ++b) buf[1 + b] = static_cast<std::uint8_t>(n >> (8 * b));
  return static_cast<std::uint32_t>(siphash24(key, buf) % bound);
}

// Linux's bound on the random part of a step ("small random increments to the source
// port", 2022): large enough that steps vary, small enough that ports are reused slowly.
constexpr std::uint32_t kMaxRandomStep = 8;
}  // namespace

// RFC 6056 §3.3.4: port = min + (F(dest) + table[G(dest)] + i) % count for the first i that
// `usable` accepts; then table[G(dest)] advances past it, by at least a random step.
template <class Usable>
std::optional<std::uint16_t> Stack::Impl::ephemeral_port(const Endpoint& remote, Usable&& usable) {
  const std::uint32_t low = config.ephemeral_low;
  const std::uint32_t count = std::uint32_t{config.ephemeral_high} - low + 1;
  const auto offset =
      static_cast<std::uint32_t>(hash_destination(secret, Tag::offset, config.address, remote));
  std::uint32_t& counter =
      port_perturb[hash_destination(secret, Tag::bucket, config.address, remote) %
                   port_perturb.size()];
  for (std::uint32_t i = 0; i < count; ++i) {
    const auto port = static_cast<std::uint16_t>(low + (offset + counter + i) % count);
    if (!usable(port)) continue;
    const std::uint32_t random_step = keyed_random(secret, port_draws++, kMaxRandomStep);
    // With little contention (i small) the step is mostly random; with much, it is i.
    counter += std::max(i, random_step) + 1;
    return port;
  }
  return std::nullopt;
}

std::optional<std::uint16_t> Stack::Impl::ephemeral_tcp_port(const Endpoint& remote) {
  return ephemeral_port(remote, [&](std::uint16_t port) {
    const auto it = tcp_ports.find(port);
    if (it == tcp_ports.end() && !time_wait.uses_port(port)) return true;
    // Shared with connections (TIME_WAIT ones in the compact table too) and with sockets
    // connect() bound (as Linux shares them): usable if this exact 4-tuple is not in use.
    const FourTuple tuple{{config.address, port}, remote};
    return (it == tcp_ports.end() || it->second.sockets == 0) && remote.port != 0 &&
           demux_find(tuple) == kNoConn && !time_wait.contains(tuple);
  });
}

std::optional<std::uint16_t> Stack::Impl::ephemeral_udp_port() {
  return ephemeral_port(Endpoint{}, [&](std::uint16_t port) { return !udp_ports.contains(port); });
}

// [RFC9293 MUST-8, MUST-9] RFC 6528: ISN = M + F(localip, localport, remoteip, remoteport,
// secretkey), where M is a
// clock ticking every 4 µs and F a keyed hash: unpredictable to an off-path attacker, and
// increasing over time for one 4-tuple so old duplicates fall outside the new window.
tcp::Seq Stack::Impl::isn(const FourTuple& t) const {
  std::array<std::uint8_t, 12> buf{};
  t.local.address.store(buf.data());
  t.remote.address.store(buf.data() + 4);
  buf[8] = static_cast<std::uint8_t>(t.local.port >> 8);
  buf[9] = static_cast<std::uint8_t>(t.local.port);
  buf[10] = static_cast<std::uint8_t>(t.remote.port >> 8);
  buf[11] = static_cast<std::uint8_t>(t.remote.port);
  const auto f = static_cast<std::uint32_t>(siphash24(secret, buf));
  const auto m = static_cast<std::uint32_t>(to_nanos(clock.now()) / 4000);
  return tcp::Seq(f + m);
}

}  // namespace synack
