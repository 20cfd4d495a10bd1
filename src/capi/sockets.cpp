// The socket's life: socket, bind, listen, accept, connect, shutdown, close, and the
// names of its two ends. Errnos and their order follow Linux (net/socket.c, af_inet.c,
// inet_connection_sock.c), checked against the kernel over loopback.
#include <netinet/in.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>

#include "capi/blocking.hpp"
#include "capi/call.hpp"
#include "capi/sockaddr.hpp"
#include "tcp/state.hpp"

namespace synack::capi {
namespace {

constexpr int kSockTypeMask = 0xf;  // Linux's SOCK_TYPE_MASK
constexpr int kSockMax = 11;        // SOCK_PACKET + 1
constexpr int kSomaxconn = 4096;    // net.core.somaxconn's default

bool is_tcp(const Descriptor& d) {
  return d.kind == Descriptor::Kind::tcp;
}

// The options a socket carries over a disconnect. TCP_MAXSEG is left out: once connected
// it reads back the MSS in use, not what was set.
constexpr std::array kKeptOptions = {
    Option::reuse_addr, Option::send_buffer,  Option::receive_buffer, Option::linger,
    Option::keepalive,  Option::keep_idle,    Option::keep_interval,  Option::keep_count,
    Option::nodelay,    Option::user_timeout,
};

// Linux's disconnect (tcp_disconnect, reached by connect(AF_UNSPEC), by shutdown() of a
// listener or a handshake, and by connect() collecting a failed handshake): the socket is
// CLOSED again, with its options and, when bind() chose it, its local address. The stack
// has no such call, so its socket is replaced by a new one. `abort` resets a live
// connection, as tcp_disconnect does. Returns 0 or an errno (the stack is out of sockets).
int disconnect(Host& host, Descriptor& d, bool abort) {
  Stack& stack = host.stack();
  std::array<int, kKeptOptions.size()> values{};
  for (std::size_t i = 0; i < kKeptOptions.size(); ++i) {
    stack.getsockopt(d.socket, kKeptOptions[i], values[i]);
  }
  Endpoint local;
  stack.getsockname(d.socket, local);
  if (abort && is_tcp(d)) stack.setsockopt(d.socket, Option::linger, 0);
  stack.close(d.socket);
  d.socket = -1;
  d.listening = false;
  d.connect = Descriptor::Connect::unconnected;
  SocketId fresh = -1;
  if (const auto ec = is_tcp(d) ? stack.tcp_socket(fresh) : stack.udp_socket(fresh)) {
    host.run();
    return errno_from(ec);
  }
  d.socket = fresh;
  for (std::size_t i = 0; i < kKeptOptions.size(); ++i) {
    // A buffer the application never sized stays unset: setting one also fixes the
    // window scale to it (as Linux's SOCK_RCVBUF_LOCK), which only SO_RCVBUF may do.
    if (kKeptOptions[i] == Option::receive_buffer && d.options.receive_buffer == 0) continue;
    if (kKeptOptions[i] == Option::send_buffer && d.options.send_buffer == 0) continue;
    stack.setsockopt(fresh, kKeptOptions[i], values[i]);
  }
  if (d.bound) {
    // The port stays ours, even beside the connections still using it.
    int reuse = 0;
    stack.getsockopt(fresh, Option::reuse_addr, reuse);
    stack.setsockopt(fresh, Option::reuse_addr, 1);
    if (stack.bind(fresh, local)) d.bound = false;
    stack.setsockopt(fresh, Option::reuse_addr, reuse);
  }
  host.run();
  return 0;
}

// connect() once the handshake is over (af_inet.c, the end of __inet_stream_connect):
// connected, or the error that ended it (ECONNABORTED when it was collected already),
// and then the socket is disconnected so that connect() may try again.
int finish_connect(Host& host, Descriptor& d) {
  if (host.stack().tcp_state(d.socket) != tcp::State::Closed) {
    d.connect = Descriptor::Connect::connected;
    return 0;
  }
  const std::error_code ec = host.stack().socket_error(d.socket);
  disconnect(host, d, false);
  return fail_with(ec ? errno_from(ec) : ECONNABORTED);
}

int connect_tcp(Host& host, std::unique_lock<std::mutex>& lock, int fd, Descriptor* d,
                const sockaddr_storage& address, socklen_t len) {
  int in_progress = EALREADY;
  switch (d->connect) {
    case Descriptor::Connect::connected:
      return fail_with(EISCONN);
    case Descriptor::Connect::connecting:
      if (handshake_over(host, *d)) return finish_connect(host, *d);
      break;
    case Descriptor::Connect::unconnected: {
      if (d->listening || host.stack().tcp_state(d->socket) != tcp::State::Closed) {
        return fail_with(EISCONN);
      }
      Endpoint remote;
      if (const int e = endpoint_from(address, len, d->domain, AddressUse::connect, remote)) {
        return fail_with(e);
      }
      const std::error_code ec = host.stack().connect(d->socket, remote);
      if (ec != std::errc::operation_in_progress) return fail_with(ec ? errno_from(ec) : EIO);
      d->connect = Descriptor::Connect::connecting;
      host.run();
      in_progress = EINPROGRESS;
      if (handshake_over(host, *d)) return finish_connect(host, *d);
      break;
    }
  }
  // SYN_SENT: a non-blocking socket says so; a blocking one waits for the handshake, or
  // for SO_SNDTIMEO, after which it is still in progress.
  if (d->nonblocking) return fail_with(in_progress);
  const std::uint64_t serial = d->serial;
  const auto deadline = deadline_after(host, d->send_timeout);
  const bool over = sleep_until(host, lock, fd, serial, deadline,
                                [&] { return handshake_over(host, *host.find(fd)); });
  d = still_open(host, fd, serial);
  if (!d) return -1;
  if (!over && !handshake_over(host, *d)) return fail_with(in_progress);
  return finish_connect(host, *d);
}

int write_name(const Descriptor& d, Endpoint e, sockaddr* addr, socklen_t* len) {
  sockaddr_storage out;
  const socklen_t length = address_of(e, d.domain, out);
  if (const int err = copy_address_out(out, length, addr, len)) return fail_with(err);
  return 0;
}

}  // namespace
}  // namespace synack::capi

using namespace synack;
using namespace synack::capi;

extern "C" {

int synack_socket(synack_host* h, int domain, int type, int protocol) {
  Host* host = host_of(h);
  if (!host) return -1;
  // __sys_socket, __sock_create, inet_create: in Linux's order.
  const int kind = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (kind & ~kSockTypeMask) return fail_with(EINVAL);
  if (domain < 0 || domain >= AF_MAX) return fail_with(EAFNOSUPPORT);
  if (kind >= kSockMax) return fail_with(EINVAL);
  if (domain != AF_INET && domain != AF_INET6) return fail_with(EAFNOSUPPORT);
  if (protocol < 0 || protocol >= IPPROTO_MAX) return fail_with(EINVAL);
  Descriptor d;
  if (kind == SOCK_STREAM) {
    if (protocol != 0 && protocol != IPPROTO_TCP) return fail_with(EPROTONOSUPPORT);
    d.kind = Descriptor::Kind::tcp;
  } else if (kind == SOCK_DGRAM) {
    if (protocol != 0 && protocol != IPPROTO_UDP) return fail_with(EPROTONOSUPPORT);
    d.kind = Descriptor::Kind::udp;
  } else {
    return fail_with(ESOCKTNOSUPPORT);  // SOCK_RAW, SOCK_SEQPACKET ...: none here
  }
  d.domain = domain;
  d.nonblocking = (type & SOCK_NONBLOCK) != 0;
  d.cloexec = (type & SOCK_CLOEXEC) != 0;
  auto lock = host->lock();
  Stack& stack = host->stack();
  if (const auto ec = d.kind == Descriptor::Kind::tcp ? stack.tcp_socket(d.socket)
                                                      : stack.udp_socket(d.socket)) {
    return fail_with(errno_from(ec));
  }
  const SocketId socket = d.socket;
  const int fd = host->add(std::move(d));
  if (fd < 0) {
    const int error = errno;
    stack.close(socket);
    return fail_with(error);
  }
  return fd;
}

int synack_bind(synack_host* h, int fd, const sockaddr* addr, socklen_t len) {
  Host* host = host_of(h);
  if (!host) return -1;
  auto lock = host->lock();
  Descriptor* d = socket_of(*host, fd);
  if (!d) return -1;
  sockaddr_storage address;
  if (const int e = copy_address_in(addr, len, address)) return fail_with(e);
  Endpoint local;
  if (const int e = endpoint_from(address, len, d->domain, AddressUse::bind, local)) {
    return fail_with(e);
  }
  if (const auto ec = host->stack().bind(d->socket, local)) return fail_with(errno_from(ec));
  d->bound = true;
  return 0;
}

int synack_listen(synack_host* h, int fd, int backlog) {
  Host* host = host_of(h);
  if (!host) return -1;
  auto lock = host->lock();
  Descriptor* d = socket_of(*host, fd);
  if (!d) return -1;
  if (!is_tcp(*d)) return fail_with(EOPNOTSUPP);
  if (d->connect != Descriptor::Connect::unconnected) return fail_with(EINVAL);
  // __sys_listen: a backlog above somaxconn, or negative (as unsigned), is somaxconn.
  if (static_cast<unsigned>(backlog) > kSomaxconn) backlog = kSomaxconn;
  if (const auto ec = host->stack().listen(d->socket, backlog)) return fail_with(errno_from(ec));
  d->listening = true;
  host->run();
  return 0;
}

int synack_accept(synack_host* h, int fd, sockaddr* addr, socklen_t* len) {
  Host* host = host_of(h);
  if (!host) return -1;
  auto lock = host->lock();
  Descriptor* d = socket_of(*host, fd);
  if (!d) return -1;
  if (!is_tcp(*d)) return fail_with(EOPNOTSUPP);
  // Linux checks the address buffer only after taking the connection, which is then lost;
  // checking first fails the same way and keeps it.
  if (addr) {
    if (const int e = check_address_out(addr, len)) return fail_with(e);
  }
  const auto listening = [&] { return host->stack().tcp_state(d->socket) == tcp::State::Listen; };
  if (!listening()) return fail_with(EINVAL);
  const std::uint64_t serial = d->serial;
  const auto deadline = deadline_after(*host, d->receive_timeout);
  SocketId child = -1;
  Endpoint peer;
  for (;;) {
    const auto ec = host->stack().accept(d->socket, child, &peer);
    if (!ec) break;
    if (ec != std::errc::resource_unavailable_try_again) return fail_with(errno_from(ec));
    if (d->nonblocking) return fail_with(EAGAIN);
    const bool woke = sleep_until(*host, lock, fd, serial, deadline, [&] {
      return !listening() || host->stack().readiness(d->socket).readable;
    });
    d = still_open(*host, fd, serial);
    if (!d) return -1;
    if (!woke) return fail_with(EAGAIN);         // SO_RCVTIMEO
    if (!listening()) return fail_with(EINVAL);  // shut down meanwhile
  }
  // The new socket is the listener's clone (sk_clone_lock): its options and timeouts,
  // but blocking, without FD_CLOEXEC, and connected.
  Descriptor c = *d;
  c.socket = child;
  c.nonblocking = false;
  c.cloexec = false;
  c.listening = false;
  c.bound = false;
  c.connect = Descriptor::Connect::connected;
  c.shut_read = c.shut_write = false;
  c.interests.clear();
  const int domain = c.domain;
  const int child_fd = host->add(std::move(c));
  if (child_fd < 0) {
    const int error = errno;
    host->stack().close(child);
    host->run();
    return fail_with(error);
  }
  host->run();
  if (addr) {
    sockaddr_storage out;
    const socklen_t length = address_of(peer, domain, out);
    copy_address_out(out, length, addr, len);
  }
  return child_fd;
}

int synack_connect(synack_host* h, int fd, const sockaddr* addr, socklen_t len) {
  Host* host = host_of(h);
  if (!host) return -1;
  auto lock = host->lock();
  Descriptor* d = socket_of(*host, fd);
  if (!d) return -1;
  sockaddr_storage address;
  if (const int e = copy_address_in(addr, len, address)) return fail_with(e);
  if (len < sizeof(sa_family_t)) return fail_with(EINVAL);
  if (address.ss_family == AF_UNSPEC) {
    // Dissolves the association: a UDP socket takes datagrams from anyone again, a TCP
    // one is disconnected (reset when connected, no longer listening when listening).
    if (is_tcp(*d)) {
      const int e = disconnect(*host, *d, true);
      return e ? fail_with(e) : 0;
    }
    if (const auto ec = host->stack().connect(d->socket, Endpoint{})) {
      return fail_with(errno_from(ec));
    }
    return 0;
  }
  if (is_tcp(*d)) return connect_tcp(*host, lock, fd, d, address, len);
  Endpoint remote;
  if (const int e = endpoint_from(address, len, d->domain, AddressUse::connect, remote)) {
    return fail_with(e);
  }
  if (const auto ec = host->stack().connect(d->socket, remote)) return fail_with(errno_from(ec));
  return 0;
}

int synack_shutdown(synack_host* h, int fd, int how) {
  Host* host = host_of(h);
  if (!host) return -1;
  auto lock = host->lock();
  Descriptor* d = socket_of(*host, fd);
  if (!d) return -1;
  if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR) return fail_with(EINVAL);
  Stack& stack = host->stack();
  if (!is_tcp(*d)) {
    // inet_shutdown marks the socket even when it answers ENOTCONN.
    d->shut_read = d->shut_read || how != SHUT_WR;
    d->shut_write = d->shut_write || how != SHUT_RD;
    host->notify();
    Endpoint peer;
    return stack.getpeername(d->socket, peer) ? fail_with(ENOTCONN) : 0;
  }
  switch (stack.tcp_state(d->socket)) {
    case tcp::State::Listen:
      // A listener stops listening when its receive side shuts; SHUT_WR does nothing.
      if (how == SHUT_WR) return 0;
      if (const int e = disconnect(*host, *d, false)) return fail_with(e);
      return 0;
    case tcp::State::SynSent:
    case tcp::State::SynReceived:
      if (const int e = disconnect(*host, *d, false)) return fail_with(e);
      return 0;
    case tcp::State::Closed:
    case tcp::State::TimeWait:  // on Linux the socket itself is CLOSED by then
      return fail_with(ENOTCONN);
    default:
      break;
  }
  const Shutdown mode = how == SHUT_RD   ? Shutdown::read
                        : how == SHUT_WR ? Shutdown::write
                                         : Shutdown::both;
  if (const auto ec = stack.shutdown(d->socket, mode)) return fail_with(errno_from(ec));
  host->run();
  return 0;
}

int synack_close(synack_host* h, int fd) {
  if (owner_of(h, fd) == Owner::kernel) return ::close(fd);  // a pipe end, say
  Host* host = host_of(h);
  if (!host) return -1;
  auto lock = host->lock();
  Descriptor* d = host->find(fd);
  if (!d) return host->fail_unknown(fd);  // closed by another thread meanwhile
  if (d->kind != Descriptor::Kind::epoll && d->socket >= 0) host->stack().close(d->socket);
  host->remove(fd);
  host->run();
  return 0;
}

int synack_getsockname(synack_host* h, int fd, sockaddr* addr, socklen_t* len) {
  Host* host = host_of(h);
  if (!host) return -1;
  auto lock = host->lock();
  Descriptor* d = socket_of(*host, fd);
  if (!d) return -1;
  Endpoint local;
  if (const auto ec = host->stack().getsockname(d->socket, local)) {
    return fail_with(errno_from(ec));
  }
  return write_name(*d, local, addr, len);
}

int synack_getpeername(synack_host* h, int fd, sockaddr* addr, socklen_t* len) {
  Host* host = host_of(h);
  if (!host) return -1;
  auto lock = host->lock();
  Descriptor* d = socket_of(*host, fd);
  if (!d) return -1;
  // inet_getname: a TCP socket past its connection (TIME_WAIT is CLOSED to Linux's
  // socket) has no peer.
  if (is_tcp(*d) && host->stack().tcp_state(d->socket) == tcp::State::TimeWait) {
    return fail_with(ENOTCONN);
  }
  Endpoint peer;
  if (const auto ec = host->stack().getpeername(d->socket, peer)) {
    return fail_with(errno_from(ec));
  }
  return write_name(*d, peer, addr, len);
}

}  // extern "C"
