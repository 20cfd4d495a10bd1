// fcntl and ioctl: the per-descriptor flags (O_NONBLOCK, FD_CLOEXEC) and what a socket
// holds (FIONREAD/SIOCINQ, SIOCOUTQ).
//
//   fcntl: F_GETFL (O_RDWR, with O_NONBLOCK when set), F_SETFL (O_NONBLOCK is taken; the
//   other status flags mean nothing to a socket here and are ignored, except O_ASYNC,
//   whose SIGIO this host never sends: EINVAL), F_GETFD, F_SETFD (FD_CLOEXEC, on the
//   kernel descriptor too, so exec closes it). Any other command: EINVAL.
//   ioctl: FIONBIO, FIOCLEX and FIONCLEX on any descriptor, as Linux's do_vfs_ioctl;
//   FIONREAD/SIOCINQ and SIOCOUTQ on sockets (EINVAL on a listener, as Linux). Any other
//   request: ENOTTY, Linux's answer for an ioctl a socket does not know.
#include <fcntl.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdarg>

#include "capi/call.hpp"

using namespace synack;
using namespace synack::capi;

extern "C" {

int synack_fcntl(synack_host* h, int fd, int cmd, ...) {
  Host* host = host_of(h);
  if (!host) return -1;
  int arg = 0;
  if (cmd == F_SETFL || cmd == F_SETFD) {
    va_list ap;
    va_start(ap, cmd);
    arg = va_arg(ap, int);
    va_end(ap);
  }
  if (owner_of(h, fd) == Owner::kernel) {  // a pipe end, say: the kernel's own fcntl
    if (cmd == F_SETFL || cmd == F_SETFD) return ::fcntl(fd, cmd, arg);
    if (cmd == F_GETFL || cmd == F_GETFD) return ::fcntl(fd, cmd);
    return fail_with(EINVAL);
  }
  auto lock = host->lock();
  Descriptor* d = host->find(fd);
  if (!d) return host->fail_unknown(fd);
  switch (cmd) {
    case F_GETFL:
      return O_RDWR | (d->nonblocking ? O_NONBLOCK : 0);
    case F_SETFL:
      if (arg & O_ASYNC) return fail_with(EINVAL);
      d->nonblocking = (arg & O_NONBLOCK) != 0;
      return 0;
    case F_GETFD:
      return d->cloexec ? FD_CLOEXEC : 0;
    case F_SETFD:
      if (::fcntl(fd, F_SETFD, arg & FD_CLOEXEC) < 0) return -1;
      d->cloexec = (arg & FD_CLOEXEC) != 0;
      return 0;
    default:
      return fail_with(EINVAL);
  }
}

int synack_ioctl(synack_host* h, int fd, unsigned long request, ...) {
  Host* host = host_of(h);
  if (!host) return -1;
  // Only the requests that take an int* are read for one: reading a missing variadic
  // argument is undefined (FIOCLEX and FIONCLEX come without).
  int* value = nullptr;
  if (request == FIONBIO || request == SIOCINQ || request == SIOCOUTQ) {
    va_list ap;
    va_start(ap, request);
    value = va_arg(ap, int*);
    va_end(ap);
  }
  if (owner_of(h, fd) == Owner::kernel) {  // a pipe end, say: the kernel's own ioctl
    if (value || request == FIOCLEX || request == FIONCLEX) return ::ioctl(fd, request, value);
    return fail_with(request == FIONBIO || request == SIOCINQ || request == SIOCOUTQ ? EFAULT
                                                                                     : ENOTTY);
  }
  auto lock = host->lock();
  Descriptor* d = host->find(fd);
  if (!d) return host->fail_unknown(fd);
  switch (request) {
    case FIONBIO:
      if (!value) return fail_with(EFAULT);
      d->nonblocking = *value != 0;
      return 0;
    case FIOCLEX:
    case FIONCLEX:
      if (::fcntl(fd, F_SETFD, request == FIOCLEX ? FD_CLOEXEC : 0) < 0) return -1;
      d->cloexec = request == FIOCLEX;
      return 0;
    case SIOCINQ:  // FIONREAD
    case SIOCOUTQ: {
      if (d->kind == Descriptor::Kind::epoll) return fail_with(ENOTTY);
      Stack::Queued queued;
      if (const auto ec = host->stack().queued(d->socket, queued)) {
        return fail_with(errno_from(ec));
      }
      if (!value) return fail_with(EFAULT);
      const std::size_t n = request == SIOCINQ ? queued.readable : queued.unacknowledged;
      *value = static_cast<int>(std::min<std::size_t>(n, INT_MAX));
      return 0;
    }
    default:
      return fail_with(ENOTTY);
  }
}

}  // extern "C"
