#include "capi/sockaddr.hpp"

#include <netinet/in.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

namespace synack::capi {
namespace {

// Linux's SIN6_LEN_RFC2133: an AF_INET6 address without sin6_scope_id is long enough.
constexpr socklen_t kSin6LenRfc2133 = 24;

sa_family_t family_of(const sockaddr_storage& s) {
  return s.ss_family;
}

Ipv4Address ipv4_of(const in_addr& a) {
  std::uint8_t bytes[4];
  std::memcpy(bytes, &a.s_addr, 4);
  return Ipv4Address::load(bytes);
}

// The IPv4 address an AF_INET6 address stands for, if any: the mapped ::ffff:a.b.c.d, or
// the wildcard :: as 0.0.0.0.
std::optional<Ipv4Address> ipv4_in(const in6_addr& a) {
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  static constexpr std::uint8_t kZero[16] = {};
  if (std::memcmp(a.s6_addr, kZero, 16) == 0) return Ipv4Address();
  if (std::memcmp(a.s6_addr, kMapped, 12) != 0) return std::nullopt;
  return Ipv4Address::load(a.s6_addr + 12);
}

int from_inet(const sockaddr_storage& addr, Endpoint& out) {
  sockaddr_in in{};
  std::memcpy(&in, &addr, sizeof in);
  out = {ipv4_of(in.sin_addr), ntohs(in.sin_port)};
  return 0;
}

}  // namespace

int copy_address_in(const sockaddr* addr, socklen_t len, sockaddr_storage& out) {
  out = {};
  if (len > INT_MAX || len > sizeof out) return EINVAL;
  if (len == 0) return 0;
  if (!addr) return EFAULT;
  std::memcpy(&out, addr, len);
  return 0;
}

int endpoint_from(const sockaddr_storage& addr, socklen_t len, int domain, AddressUse use,
                  Endpoint& out) {
  const sa_family_t family = family_of(addr);
  if (domain == AF_INET || (domain == AF_INET6 && use == AddressUse::send &&
                            len >= sizeof(sa_family_t) && family == AF_INET)) {
    // inet_bind, tcp_v4_connect, ip4_datagram_connect, udp_sendmsg; udpv6_sendmsg passes
    // an AF_INET address on to the IPv4 path.
    if (len < sizeof(sockaddr_in)) return EINVAL;
    if (family == AF_INET) return from_inet(addr, out);
    if (family == AF_UNSPEC && use == AddressUse::send) return from_inet(addr, out);
    if (family == AF_UNSPEC && use == AddressUse::bind) {
      // Linux takes AF_UNSPEC for bind() when the address is INADDR_ANY (old programs).
      from_inet(addr, out);
      if (out.address.is_unspecified()) return 0;
    }
    return EAFNOSUPPORT;
  }
  // AF_INET6: inet6_bind, tcp_v6_connect, ip6_datagram_connect, udpv6_sendmsg.
  if (len < kSin6LenRfc2133) return EINVAL;
  if (family != AF_INET6) return EAFNOSUPPORT;
  sockaddr_in6 in6{};
  std::memcpy(&in6, &addr, std::min<std::size_t>(len, sizeof in6));
  const auto v4 = ipv4_in(in6.sin6_addr);
  if (!v4) return use == AddressUse::bind ? EADDRNOTAVAIL : ENETUNREACH;
  out = {*v4, ntohs(in6.sin6_port)};
  return 0;
}

socklen_t address_of(Endpoint e, int domain, sockaddr_storage& out) {
  out = {};
  std::uint8_t bytes[4];
  e.address.store(bytes);
  if (domain == AF_INET6) {
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(e.port);
    if (!e.address.is_unspecified()) {
      in6.sin6_addr.s6_addr[10] = 0xff;
      in6.sin6_addr.s6_addr[11] = 0xff;
      std::memcpy(in6.sin6_addr.s6_addr + 12, bytes, 4);
    }
    std::memcpy(&out, &in6, sizeof in6);
    return sizeof in6;
  }
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(e.port);
  std::memcpy(&in.sin_addr.s_addr, bytes, 4);
  std::memcpy(&out, &in, sizeof in);
  return sizeof in;
}

int check_address_out(const sockaddr* addr, const socklen_t* len) {
  if (!len) return EFAULT;
  if (*len > INT_MAX) return EINVAL;
  if (!addr && *len > 0) return EFAULT;
  return 0;
}

int copy_address_out(const sockaddr_storage& address, socklen_t length, sockaddr* addr,
                     socklen_t* len) {
  if (const int e = check_address_out(addr, len)) return e;
  const socklen_t n = std::min(*len, length);
  if (n > 0) std::memcpy(addr, &address, n);
  *len = length;
  return 0;
}

}  // namespace synack::capi
