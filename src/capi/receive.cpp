// The receiving calls: read, readv, recv, recvfrom and recvmsg, all one recvmsg inside,
// as in Linux (sock_read_iter and __sys_recvfrom are recvmsg with the file's O_NONBLOCK
// as MSG_DONTWAIT). tcp_recvmsg's and udp_recvmsg's rules, checked against the kernel:
//
//   TCP: blocks until at least one byte, end of stream or an error, then returns what is
//   there (MSG_WAITALL: until the whole length, end of stream, an error or a timeout);
//   a zero length still waits for data and then returns 0 (Linux's target of one byte);
//   MSG_PEEK leaves the bytes; MSG_TRUNC discards them instead of copying; the source
//   address is never reported (*fromlen = 0). MSG_OOB: EINVAL (no urgent data here).
//   UDP: one datagram per call, cut to the room (MSG_TRUNC in msg_flags; with MSG_TRUNC
//   in flags the call returns its real length); the source address is reported.
//   Both: MSG_ERRQUEUE answers EAGAIN (the error queue is always empty); flags this
//   stack does not know fail with EOPNOTSUPP, never silently ignored.
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

constexpr int kHarmless = MSG_NOSIGNAL | MSG_CMSG_CLOEXEC;  // ignored by Linux on receive
constexpr int kTcpFlags = MSG_PEEK | MSG_DONTWAIT | MSG_WAITALL | MSG_TRUNC | kHarmless;
// MSG_WAITALL means nothing for datagrams, and Linux ignores it there too.
constexpr int kUdpFlags = MSG_PEEK | MSG_DONTWAIT | MSG_WAITALL | MSG_TRUNC | kHarmless;
constexpr std::size_t kMaxDatagram = 65535;

bool again(std::error_code ec) {
  return ec == std::errc::resource_unavailable_try_again;
}

// Where a received datagram's source goes: recvfrom's (from, fromlen) or recvmsg's
// (msg_name, &msg_namelen); nothing when `addr` is null.
struct SourceOut {
  sockaddr* addr = nullptr;
  socklen_t* len = nullptr;
};

struct Received {
  std::size_t result = 0;  // what the call returns
  int msg_flags = 0;
};

// One attempt on a stream, without blocking: into the iovecs (or peeked, or discarded).
std::error_code stream_once(Stack& stack, SocketId s, IovecCursor& cursor, int flags,
                            std::size_t& n) {
  n = 0;
  Stack::Queued queued;
  stack.queued(s, queued);
  if (flags & (MSG_PEEK | MSG_TRUNC)) {
    // Through a scratch buffer the size of what is there (one byte when nothing is, to
    // learn whether that is for now, for ever, or an error).
    std::vector<std::uint8_t> scratch(
        std::min(cursor.left(), std::max<std::size_t>(queued.readable, 1)));
    const std::span<std::uint8_t> out(scratch);
    const auto ec = (flags & MSG_PEEK) ? stack.peek(s, out, n) : stack.read(s, out, n);
    if (!(flags & MSG_TRUNC)) {
      cursor.put({scratch.data(), n});
    } else {
      cursor.advance(n);
    }
    return ec;
  }
  for (;;) {
    const auto room = cursor.piece();
    std::size_t got = 0;
    const auto ec = stack.read(s, room, got);
    cursor.advance(got);
    n += got;
    if (ec) return n > 0 ? std::error_code{} : ec;
    // On to the next piece only while bytes remain: an error the next read would take is
    // left for the next call, as Linux reports it only once nothing was copied.
    if (got < room.size() || cursor.left() == 0) return {};
    stack.queued(s, queued);
    if (queued.readable == 0) return {};
  }
}

ssize_t receive_stream(Host& host, std::unique_lock<std::mutex>& lock, int fd, Descriptor* d,
                       IovecCursor cursor, int flags, SourceOut source, Received& out) {
  Stack& stack = host.stack();
  const std::size_t total = cursor.left();
  const bool nonblocking = d->nonblocking || (flags & MSG_DONTWAIT);
  const std::uint64_t serial = d->serial;
  const auto deadline = deadline_after(host, d->receive_timeout);
  std::size_t copied = 0;
  for (;;) {
    std::size_t n = 0;
    std::error_code ec;
    if (total == 0) {
      // Nothing to copy, yet Linux waits for something to be there.
      std::uint8_t probe;
      ec = stack.peek(d->socket, {&probe, 1}, n);
      if (!ec) break;
      n = 0;
    } else {
      if (copied > 0) {
        // MSG_WAITALL after a part: an error waiting behind it is the next call's.
        Stack::Queued queued;
        stack.queued(d->socket, queued);
        if (queued.readable == 0 && stack.readiness(d->socket).error) break;
      }
      ec = stream_once(stack, d->socket, cursor, flags, n);
      if (n > 0 && !(flags & MSG_PEEK)) host.run();  // the window opened: an update may go
    }
    copied += n;
    if (!ec && n > 0) {
      if (!(flags & MSG_WAITALL) || (flags & MSG_PEEK) || cursor.left() == 0) break;
      continue;
    }
    if (!ec) break;  // end of stream
    if (!again(ec)) {
      if (copied > 0) break;
      // Linux reports a write end shut by us, or never connected, as not connected.
      return fail_size(errno_from(ec));
    }
    if (nonblocking) {
      if (copied > 0) break;
      return fail_size(EAGAIN);
    }
    const bool woke =
        sleep_until(host, lock, fd, serial, deadline, [&] { return can_read(host, *d); });
    d = still_open(host, fd, serial);
    if (!d) return copied > 0 ? static_cast<ssize_t>(copied) : -1;
    if (!woke) {
      if (copied > 0) break;
      return fail_size(EAGAIN);  // SO_RCVTIMEO
    }
  }
  if (source.addr) {
    // A stream has no datagram source: Linux copies nothing and sets the length to 0.
    *source.len = 0;
  }
  out.result = copied;
  return static_cast<ssize_t>(copied);
}

ssize_t receive_datagram(Host& host, std::unique_lock<std::mutex>& lock, int fd, Descriptor* d,
                         IovecCursor cursor, std::size_t pieces, int flags, SourceOut source,
                         Received& out) {
  Stack& stack = host.stack();
  const bool nonblocking = d->nonblocking || (flags & MSG_DONTWAIT);
  const std::uint64_t serial = d->serial;
  const auto deadline = deadline_after(host, d->receive_timeout);
  std::vector<std::uint8_t> scratch;
  for (;;) {
    Stack::Queued queued;  // the next datagram's length, should it be cut
    stack.queued(d->socket, queued);
    // Straight into a single piece; through a scratch buffer into several.
    std::span<std::uint8_t> room = cursor.piece();
    if (!room.empty() && !room.data()) return fail_size(EFAULT);  // MSG_TRUNC, no buffer
    if (pieces > 1) {
      scratch.resize(std::min(cursor.left(), kMaxDatagram));
      room = scratch;
    }
    std::size_t n = 0;
    Endpoint from;
    bool truncated = false;
    const auto ec = (flags & MSG_PEEK) ? stack.peek(d->socket, room, n, &from, &truncated)
                                       : stack.receive_from(d->socket, room, n, &from, &truncated);
    if (!ec) {
      if (pieces > 1) {
        cursor.put({scratch.data(), n});
      }
      const std::size_t length = truncated ? std::max(queued.readable, n) : n;
      if (truncated) out.msg_flags |= MSG_TRUNC;
      out.result = (flags & MSG_TRUNC) ? length : n;
      if (source.addr) {
        sockaddr_storage address;
        const socklen_t size = address_of(from, d->domain, address);
        copy_address_out(address, size, source.addr, source.len);
      }
      return static_cast<ssize_t>(out.result);
    }
    if (!again(ec)) return fail_size(errno_from(ec));
    if (nonblocking) return fail_size(EAGAIN);
    if (d->shut_read) return 0;  // shut and drained: the end, as Linux's UDP says it
    const bool woke =
        sleep_until(host, lock, fd, serial, deadline, [&] { return can_read(host, *d); });
    d = still_open(host, fd, serial);
    if (!d) return -1;
    if (!woke) return fail_size(EAGAIN);
  }
}

// recvmsg for every receiving call. `pieces` is the iovec array (checked), `source` where
// the sender's address goes, `out` what the call returns and the flags recvmsg reports.
ssize_t receive(synack_host* h, int fd, std::span<const iovec> pieces, std::size_t total, int flags,
                SourceOut source, Received& out) {
  Host* host = host_of(h);
  if (!host) return -1;
  auto lock = host->lock();
  Descriptor* d = socket_of(*host, fd);
  if (!d) return -1;
  const bool tcp = d->kind == Descriptor::Kind::tcp;
  if (flags & MSG_ERRQUEUE) return fail_size(EAGAIN);
  if (tcp && (flags & MSG_OOB)) return fail_size(EINVAL);
  if (flags & ~(tcp ? kTcpFlags : kUdpFlags)) return fail_size(EOPNOTSUPP);
  if (source.addr) {
    if (const int e = check_address_out(source.addr, source.len)) return fail_size(e);
  }
  IovecCursor cursor(pieces, total);
  if (tcp) return receive_stream(*host, lock, fd, d, cursor, flags, source, out);
  return receive_datagram(*host, lock, fd, d, cursor, pieces.size(), flags, source, out);
}

}  // namespace
}  // namespace synack::capi

using namespace synack;
using namespace synack::capi;

extern "C" {

ssize_t synack_read(synack_host* h, int fd, void* buf, size_t count) {
  const Owner owner = owner_of(h, fd);
  if (owner == Owner::kernel) return ::read(fd, buf, count);
  if (owner == Owner::epoll) return fail_size(EINVAL);  // Linux's epoll file has no read
  return synack_recvfrom(h, fd, buf, count, 0, nullptr, nullptr);
}

ssize_t synack_readv(synack_host* h, int fd, const iovec* iov, int iovcnt) {
  const Owner owner = owner_of(h, fd);
  if (owner == Owner::kernel) return ::readv(fd, iov, iovcnt);
  if (owner == Owner::epoll) return fail_size(EINVAL);
  std::size_t total = 0;
  if (const int e = check_iovecs(iov, iovcnt, total)) return fail_size(e);
  Received out;
  return receive(h, fd, {iov, static_cast<std::size_t>(iovcnt)}, total, 0, {}, out);
}

ssize_t synack_recv(synack_host* h, int fd, void* buf, size_t len, int flags) {
  return synack_recvfrom(h, fd, buf, len, flags, nullptr, nullptr);
}

ssize_t synack_recvfrom(synack_host* h, int fd, void* buf, size_t len, int flags, sockaddr* from,
                        socklen_t* fromlen) {
  // MSG_TRUNC on a stream copies nothing, so Linux takes a null buffer then.
  if (!buf && len > 0 && !(flags & MSG_TRUNC)) return fail_size(EFAULT);
  const iovec piece{buf, std::min(len, kMaxTransfer)};
  Received out;
  return receive(h, fd, {&piece, 1}, piece.iov_len, flags, {from, fromlen}, out);
}

ssize_t synack_recvmsg(synack_host* h, int fd, msghdr* msg, int flags) {
  if (!msg) return fail_size(EFAULT);
  if (msg->msg_iovlen > static_cast<std::size_t>(kMaxIovecs)) return fail_size(EMSGSIZE);
  std::size_t total = 0;
  if (const int e = check_iovecs(msg->msg_iov, static_cast<int>(msg->msg_iovlen), total)) {
    return fail_size(e);
  }
  // Linux takes a name length beyond sockaddr_storage as sockaddr_storage.
  msg->msg_namelen = std::min<socklen_t>(msg->msg_namelen, sizeof(sockaddr_storage));
  const SourceOut source{static_cast<sockaddr*>(msg->msg_name), &msg->msg_namelen};
  Received out;
  const ssize_t n = receive(h, fd, {msg->msg_iov, msg->msg_iovlen}, total, flags,
                            msg->msg_name ? source : SourceOut{}, out);
  if (n >= 0) {
    msg->msg_controllen = 0;  // no control messages here
    msg->msg_flags = out.msg_flags;
  }
  return n;
}

}  // extern "C"
