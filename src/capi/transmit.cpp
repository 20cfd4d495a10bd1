// The sending calls: write, writev, send, sendto and sendmsg, all one sendmsg inside, with
// tcp_sendmsg's and udp_sendmsg's rules, checked against the kernel:
//
//   TCP: a blocking call waits for room until it has taken everything, and returns a
//   short count when an error or SO_SNDTIMEO comes after a part; a non-blocking one takes
//   what fits, or fails with EAGAIN. Never connected, listening, shut for writing or
//   reset: EPIPE (ECONNRESET once, first, after a reset). A destination address is
//   ignored (Linux checks only that it can be read). No SIGPIPE is raised: EPIPE is
//   returned as with MSG_NOSIGNAL, which is accepted.
//   UDP: one datagram per call, to the address given or the connected peer
//   (EDESTADDRREQ without either); over 65507 bytes, or beyond the MTU (this stack does
//   not fragment), EMSGSIZE; after shutdown(SHUT_WR), EPIPE.
//   Flags: MSG_DONTWAIT, MSG_NOSIGNAL, and MSG_CONFIRM and MSG_DONTROUTE (which change
//   nothing on a host with one link and no neighbour cache). MSG_OOB, MSG_MORE, MSG_EOR,
//   MSG_FASTOPEN, MSG_ZEROCOPY and anything else: EOPNOTSUPP. Control messages:
//   EOPNOTSUPP.
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "capi/blocking.hpp"
#include "capi/call.hpp"
#include "capi/iovec.hpp"
#include "capi/sockaddr.hpp"

namespace synack::capi {
namespace {

constexpr int kSendFlags = MSG_DONTWAIT | MSG_NOSIGNAL | MSG_CONFIRM | MSG_DONTROUTE;
constexpr std::size_t kMaxUdpPayload = 65507;  // 65535 - 20 (IPv4) - 8 (UDP)
constexpr std::size_t kMaxUdpLength = 0xffff;  // udp_sendmsg's first check

// A destination address copied in, when the call has one.
struct Destination {
  bool given = false;
  sockaddr_storage address{};
  socklen_t length = 0;
};

int stream_errno(std::error_code ec) {
  // Linux's sk_stream_wait_connect: a socket that is not connected (never, or listening)
  // is a broken pipe to a writer.
  if (ec == std::errc::not_connected) return EPIPE;
  return errno_from(ec);
}

ssize_t send_stream(Host& host, std::unique_lock<std::mutex>& lock, int fd, Descriptor* d,
                    IovecCursor cursor, int flags) {
  Stack& stack = host.stack();
  const bool nonblocking = d->nonblocking || (flags & MSG_DONTWAIT);
  const std::uint64_t serial = d->serial;
  const auto deadline = deadline_after(host, d->send_timeout);
  const std::size_t total = cursor.left();
  std::size_t sent = 0;
  for (;;) {
    std::error_code ec;
    if (total == 0) {
      std::size_t n = 0;
      ec = stack.write(d->socket, {}, n);
      if (!ec) return 0;
    }
    while (!ec && cursor.left() > 0) {
      const auto piece = cursor.piece();
      std::size_t n = 0;
      ec = stack.write(d->socket, piece, n);
      cursor.advance(n);
      sent += n;
      if (!ec && n < piece.size())
        ec = std::make_error_code(std::errc::resource_unavailable_try_again);
    }
    if (sent > 0) host.run();
    if (!ec) return static_cast<ssize_t>(sent);
    if (ec != std::errc::resource_unavailable_try_again) {
      return sent > 0 ? static_cast<ssize_t>(sent) : fail_size(stream_errno(ec));
    }
    if (nonblocking) return sent > 0 ? static_cast<ssize_t>(sent) : fail_size(EAGAIN);
    const bool woke =
        sleep_until(host, lock, fd, serial, deadline, [&] { return can_write(host, *d); });
    d = still_open(host, fd, serial);
    if (!d) return sent > 0 ? static_cast<ssize_t>(sent) : -1;
    if (!woke) return sent > 0 ? static_cast<ssize_t>(sent) : fail_size(EAGAIN);
  }
}

ssize_t send_datagram(Host& host, Descriptor& d, IovecCursor cursor, std::size_t pieces,
                      const Destination& to) {
  const std::size_t total = cursor.left();
  if (total > kMaxUdpLength) return fail_size(EMSGSIZE);
  Endpoint remote;
  if (to.given) {
    if (const int e = endpoint_from(to.address, to.length, d.domain, AddressUse::send, remote)) {
      return fail_size(e);
    }
  }
  if (total > kMaxUdpPayload) return fail_size(EMSGSIZE);
  if (d.shut_write) return fail_size(EPIPE);
  // One piece goes as it is; several are gathered first.
  std::vector<std::uint8_t> gathered;
  std::span<const std::uint8_t> data = cursor.piece();
  if (pieces > 1) {
    gathered.resize(total);
    cursor.take(gathered);
    data = gathered;
  }
  std::error_code ec;
  if (to.given) {
    ec = host.stack().send_to(d.socket, data, remote);
  } else {
    std::size_t n = 0;
    ec = host.stack().write(d.socket, data, n);
  }
  host.run();
  if (ec) return fail_size(errno_from(ec));
  return static_cast<ssize_t>(total);
}

// sendmsg for every sending call.
ssize_t transmit(synack_host* h, int fd, std::span<const iovec> pieces, std::size_t total,
                 int flags, const Destination& to) {
  Host* host = host_of(h);
  if (!host) return -1;
  auto lock = host->lock();
  Descriptor* d = socket_of(*host, fd);
  if (!d) return -1;
  if (flags & ~kSendFlags) return fail_size(EOPNOTSUPP);
  IovecCursor cursor(pieces, total);
  if (d->kind == Descriptor::Kind::tcp) return send_stream(*host, lock, fd, d, cursor, flags);
  return send_datagram(*host, *d, cursor, pieces.size(), to);
}

}  // namespace
}  // namespace synack::capi

using namespace synack;
using namespace synack::capi;

extern "C" {

ssize_t synack_write(synack_host* h, int fd, const void* buf, size_t count) {
  const Owner owner = owner_of(h, fd);
  if (owner == Owner::kernel) return ::write(fd, buf, count);
  if (owner == Owner::epoll) return fail_size(EINVAL);  // Linux's epoll file has no write
  return synack_sendto(h, fd, buf, count, 0, nullptr, 0);
}

ssize_t synack_writev(synack_host* h, int fd, const iovec* iov, int iovcnt) {
  const Owner owner = owner_of(h, fd);
  if (owner == Owner::kernel) return ::writev(fd, iov, iovcnt);
  if (owner == Owner::epoll) return fail_size(EINVAL);
  std::size_t total = 0;
  if (const int e = check_iovecs(iov, iovcnt, total)) return fail_size(e);
  return transmit(h, fd, {iov, static_cast<std::size_t>(iovcnt)}, total, 0, {});
}

ssize_t synack_send(synack_host* h, int fd, const void* buf, size_t len, int flags) {
  return synack_sendto(h, fd, buf, len, flags, nullptr, 0);
}

ssize_t synack_sendto(synack_host* h, int fd, const void* buf, size_t len, int flags,
                      const sockaddr* to, socklen_t tolen) {
  if (!buf && len > 0) return fail_size(EFAULT);
  Destination destination;
  if (to) {  // __sys_sendto reads an address only when given a pointer
    if (const int e = copy_address_in(to, tolen, destination.address)) return fail_size(e);
    destination.given = true;
    destination.length = tolen;
  }
  const iovec piece{const_cast<void*>(buf), std::min(len, kMaxTransfer)};
  return transmit(h, fd, {&piece, 1}, piece.iov_len, flags, destination);
}

ssize_t synack_sendmsg(synack_host* h, int fd, const msghdr* msg, int flags) {
  if (!msg) return fail_size(EFAULT);
  if (msg->msg_iovlen > static_cast<std::size_t>(kMaxIovecs)) return fail_size(EMSGSIZE);
  std::size_t total = 0;
  if (const int e = check_iovecs(msg->msg_iov, static_cast<int>(msg->msg_iovlen), total)) {
    return fail_size(e);
  }
  if (msg->msg_controllen > 0) return fail_size(EOPNOTSUPP);
  Destination destination;
  if (msg->msg_name && msg->msg_namelen > 0) {
    // Linux takes a name length beyond sockaddr_storage as sockaddr_storage.
    destination.length = std::min<socklen_t>(msg->msg_namelen, sizeof(sockaddr_storage));
    if (const int e = copy_address_in(static_cast<const sockaddr*>(msg->msg_name),
                                      destination.length, destination.address)) {
      return fail_size(e);
    }
    destination.given = true;
  }
  return transmit(h, fd, {msg->msg_iov, msg->msg_iovlen}, total, flags, destination);
}

}  // extern "C"
