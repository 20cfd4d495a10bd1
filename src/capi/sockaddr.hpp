// Socket addresses between the C ABI and the stack: struct sockaddr_in, or sockaddr_in6
// holding an IPv4-mapped address (::ffff:a.b.c.d) on an AF_INET6 socket, to an Endpoint
// and back, with the length rules and errnos of Linux's inet and inet6 code.
//
// Native IPv6 is not supported: a host has one IPv4 address and no IPv6 route. Binding a
// non-mapped IPv6 address fails with EADDRNOTAVAIL (no such local address), connecting or
// sending to one with ENETUNREACH (no route), as Linux answers on a host without IPv6.
#pragma once

#include <sys/socket.h>

#include "synack/endpoint.hpp"

namespace synack::capi {

// A caller's address copied in, as Linux's move_addr_to_kernel does: length over
// sizeof(sockaddr_storage) (or negative as an int) is EINVAL, a null pointer with a
// length EFAULT. Returns 0 or the errno.
int copy_address_in(const sockaddr* addr, socklen_t len, sockaddr_storage& out);

// What the address is for: the three differ in which families and addresses they take.
enum class AddressUse { bind, connect, send };

// The endpoint in `addr` (copied in, `len` bytes) for a socket of `domain`. Returns 0 or
// the errno: EINVAL when shorter than the family's sockaddr, EAFNOSUPPORT for another
// family (bind takes AF_UNSPEC with INADDR_ANY on an AF_INET socket, send takes AF_UNSPEC
// as AF_INET, as Linux does), EADDRNOTAVAIL or ENETUNREACH for native IPv6 (see above).
int endpoint_from(const sockaddr_storage& addr, socklen_t len, int domain, AddressUse use,
                  Endpoint& out);

// `e` as a socket of `domain` reports it: sockaddr_in, or sockaddr_in6 with a mapped
// address (the wildcard as ::). Returns the length.
socklen_t address_of(Endpoint e, int domain, sockaddr_storage& out);

// Hands an address back as Linux's move_addr_to_user does: the first min(*len, length)
// bytes, then *len = length. Returns 0 or the errno: EFAULT for a null len (or a null
// addr with room), EINVAL for a negative *len.
int copy_address_out(const sockaddr_storage& address, socklen_t length, sockaddr* addr,
                     socklen_t* len);
// The checks of copy_address_out alone, for accept() to make before it takes a connection.
int check_address_out(const sockaddr* addr, const socklen_t* len);

}  // namespace synack::capi
