// Addresses as the socket API sees them: an IPv4 address and a port.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "synack/ipv4_address.hpp"

namespace synack {

struct Endpoint {
  Ipv4Address address;
  std::uint16_t port = 0;

  // "198.18.0.1:80"
  static std::optional<Endpoint> parse(std::string_view text);
  std::string to_string() const;
  friend constexpr bool operator==(const Endpoint&, const Endpoint&) = default;
};

// A TCP connection's identity (RFC 9293 §3.3.1: the pair of sockets).
struct FourTuple {
  Endpoint local;
  Endpoint remote;
  friend constexpr bool operator==(const FourTuple&, const FourTuple&) = default;
};

}  // namespace synack

template <>
struct std::hash<synack::FourTuple> {
  std::size_t operator()(const synack::FourTuple& t) const noexcept {
    std::uint64_t a = (std::uint64_t{t.local.address.to_u32()} << 32) | t.remote.address.to_u32();
    std::uint64_t b = (std::uint64_t{t.local.port} << 16) | t.remote.port;
    a ^= b * 0x9e3779b97f4a7c15ull;
    a ^= a >> 29;
    a *= 0xbf58476d1ce4e5b9ull;
    return static_cast<std::size_t>(a ^ (a >> 32));
  }
};
