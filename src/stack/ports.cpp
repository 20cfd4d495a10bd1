// Local ports: bind conflicts, and ephemeral ports chosen per RFC 6056 Algorithm 3
// ("simple hash-based"): a keyed hash of the destination picks where the search starts,
// so one peer cannot learn the ports used towards another, and ports are reused slowly.
#include <array>

#include "stack/stack_impl.hpp"

namespace synack {

bool Stack::Impl::tcp_port_free_for_bind(std::uint16_t port, bool reuse_addr) const {
  const auto it = tcp_ports.find(port);
  if (it == tcp_ports.end()) return true;
  const PortUse& use = it->second;
  // Like Linux: SO_REUSEADDR lets a socket bind beside connections that still use the port
  // (the server restarting past its TIME_WAIT connections), never beside another socket.
  if (use.sockets > 0) return false;
  return reuse_addr || use.connections == 0;
}

namespace {
std::uint32_t hash_destination(const SipKey& key, Ipv4Address local, const Endpoint& remote) {
  std::array<std::uint8_t, 10> buf{};
  local.store(buf.data());
  remote.address.store(buf.data() + 4);
  buf[8] = static_cast<std::uint8_t>(remote.port >> 8);
  buf[9] = static_cast<std::uint8_t>(remote.port);
  return static_cast<std::uint32_t>(siphash24(key, buf));
}
}  // namespace

// RFC 6056 Algorithm 3: the search starts at a keyed hash of the destination plus a
// counter, and takes the first port `usable` accepts.
template <class Usable>
std::optional<std::uint16_t> Stack::Impl::ephemeral_port(const Endpoint& remote, Usable&& usable) {
  const std::uint32_t low = config.ephemeral_low;
  const std::uint32_t count = std::uint32_t{config.ephemeral_high} - low + 1;
  const std::uint32_t offset = hash_destination(secret, config.address, remote);
  for (std::uint32_t i = 0; i < count; ++i) {
    const auto port = static_cast<std::uint16_t>(low + (offset + ephemeral_next + i) % count);
    if (usable(port)) {
      ephemeral_next += i + 1;  // RFC 6056 §3.3.3: the next search starts past this one
      return port;
    }
  }
  return std::nullopt;
}

std::optional<std::uint16_t> Stack::Impl::ephemeral_tcp_port(const Endpoint& remote) {
  return ephemeral_port(remote, [&](std::uint16_t port) {
    const auto it = tcp_ports.find(port);
    if (it == tcp_ports.end()) return true;
    // Shared with connections only: usable if this exact 4-tuple is not in use.
    return it->second.sockets == 0 && remote.port != 0 &&
           !demux.contains(FourTuple{{config.address, port}, remote});
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
