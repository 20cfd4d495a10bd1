// packetdrill_interface_init: a synack host behind packetdrill's function table. Each entry
// is a static function that turns `userdata` back into the host and makes the synack_* call
// of the same name (include/synack/synack.h), which already has the tool's semantics:
// errno as Linux sets it, virtual time, blocking calls that sleep on a condition variable.
//
// Two entries are variadic, as the tool declares them, and the tool calls them with or
// without a third argument. va_arg on an argument that was not passed is undefined, so the
// argument is read only for the commands known to take one, and passed on as it came.
#include "capi/packetdrill/packetdrill.h"

#include <fcntl.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <climits>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "synack/synack.h"

namespace {

synack_host* host(void* userdata) {
  return static_cast<synack_host*>(userdata);
}

void pd_free(void* ud) {
  synack_host_free(host(ud));
}

int pd_socket(void* ud, int domain, int type, int protocol) {
  return synack_socket(host(ud), domain, type, protocol);
}
int pd_bind(void* ud, int fd, const struct sockaddr* addr, socklen_t len) {
  return synack_bind(host(ud), fd, addr, len);
}
int pd_listen(void* ud, int fd, int backlog) {
  return synack_listen(host(ud), fd, backlog);
}
int pd_accept(void* ud, int fd, struct sockaddr* addr, socklen_t* len) {
  return synack_accept(host(ud), fd, addr, len);
}
int pd_connect(void* ud, int fd, const struct sockaddr* addr, socklen_t len) {
  return synack_connect(host(ud), fd, addr, len);
}

ssize_t pd_read(void* ud, int fd, void* buf, size_t count) {
  return synack_read(host(ud), fd, buf, count);
}
ssize_t pd_readv(void* ud, int fd, const struct iovec* iov, int iovcnt) {
  return synack_readv(host(ud), fd, iov, iovcnt);
}
ssize_t pd_recv(void* ud, int fd, void* buf, size_t len, int flags) {
  return synack_recv(host(ud), fd, buf, len, flags);
}
ssize_t pd_recvfrom(void* ud, int fd, void* buf, size_t len, int flags, struct sockaddr* from,
                    socklen_t* fromlen) {
  return synack_recvfrom(host(ud), fd, buf, len, flags, from, fromlen);
}
ssize_t pd_recvmsg(void* ud, int fd, struct msghdr* msg, int flags) {
  return synack_recvmsg(host(ud), fd, msg, flags);
}
ssize_t pd_write(void* ud, int fd, const void* buf, size_t count) {
  return synack_write(host(ud), fd, buf, count);
}
ssize_t pd_writev(void* ud, int fd, const struct iovec* iov, int iovcnt) {
  return synack_writev(host(ud), fd, iov, iovcnt);
}
ssize_t pd_send(void* ud, int fd, const void* buf, size_t len, int flags) {
  return synack_send(host(ud), fd, buf, len, flags);
}
ssize_t pd_sendto(void* ud, int fd, const void* buf, size_t len, int flags,
                  const struct sockaddr* to, socklen_t tolen) {
  return synack_sendto(host(ud), fd, buf, len, flags, to, tolen);
}
ssize_t pd_sendmsg(void* ud, int fd, const struct msghdr* msg, int flags) {
  return synack_sendmsg(host(ud), fd, msg, flags);
}

// fcntl(2)'s commands that take an int. The ones that take none are F_GETFD, F_GETFL,
// F_GETOWN, F_GETSIG, F_GETLEASE, F_GETPIPE_SZ, F_GET_SEALS; the rest take a pointer, which
// the tool never passes (its scripts give fcntl an int or nothing).
bool fcntl_takes_int(int cmd) {
  switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
    case F_SETFD:
    case F_SETFL:
    case F_SETOWN:
    case F_SETSIG:
    case F_SETLEASE:
    case F_NOTIFY:
    case F_SETPIPE_SZ:
    case F_ADD_SEALS:
      return true;
    default:
      return false;
  }
}

int pd_fcntl(void* ud, int fd, int cmd, ...) {
  if (!fcntl_takes_int(cmd)) return synack_fcntl(host(ud), fd, cmd);
  va_list args;
  va_start(args, cmd);
  const int arg = va_arg(args, int);
  va_end(args);
  return synack_fcntl(host(ud), fd, cmd, arg);
}

// ioctl(2)'s socket requests that take an int*: FIONREAD (= SIOCINQ), SIOCOUTQ (=
// TIOCOUTQ), SIOCOUTQNSD, FIONBIO, FIOASYNC, SIOCATMARK. Any other request (FIOCLEX takes
// none; unknown ones, which synack_ioctl refuses) is passed on without one.
bool ioctl_takes_int_pointer(unsigned long request) {
  switch (request) {
    case FIONREAD:
    case SIOCOUTQ:
    case SIOCOUTQNSD:
    case FIONBIO:
    case FIOASYNC:
    case SIOCATMARK:
      return true;
    default:
      return false;
  }
}

int pd_ioctl(void* ud, int fd, unsigned long request, ...) {
  if (!ioctl_takes_int_pointer(request)) {
    return synack_ioctl(host(ud), fd, request);
  }
  va_list args;
  va_start(args, request);
  int* const arg = va_arg(args, int*);
  va_end(args);
  return synack_ioctl(host(ud), fd, request, arg);
}

int pd_close(void* ud, int fd) {
  return synack_close(host(ud), fd);
}
int pd_shutdown(void* ud, int fd, int how) {
  return synack_shutdown(host(ud), fd, how);
}
int pd_getsockopt(void* ud, int fd, int level, int name, void* value, socklen_t* len) {
  return synack_getsockopt(host(ud), fd, level, name, value, len);
}
int pd_setsockopt(void* ud, int fd, int level, int name, const void* value, socklen_t len) {
  return synack_setsockopt(host(ud), fd, level, name, value, len);
}
int pd_poll(void* ud, struct pollfd* fds, nfds_t nfds, int timeout_ms) {
  return synack_poll(host(ud), fds, nfds, timeout_ms);
}

int pd_netdev_send(void* ud, const void* buf, size_t count) {
  return synack_netdev_send(host(ud), buf, count);
}
int pd_netdev_receive(void* ud, void* buf, size_t* count, long long* time_usecs) {
  return synack_netdev_receive(host(ud), buf, count, time_usecs);
}
int pd_usleep(void* ud, useconds_t usecs) {
  return synack_usleep(host(ud), usecs);
}
int pd_gettimeofday(void* ud, struct timeval* tv, struct timezone* tz) {
  return synack_gettimeofday(host(ud), tv, tz);
}

int pd_epoll_create(void* ud, int size) {
  return synack_epoll_create(host(ud), size);
}
int pd_epoll_ctl(void* ud, int epfd, int op, int fd, struct epoll_event* event) {
  return synack_epoll_ctl(host(ud), epfd, op, fd, event);
}
int pd_epoll_wait(void* ud, int epfd, struct epoll_event* events, int maxevents, int timeout_ms) {
  return synack_epoll_wait(host(ud), epfd, events, maxevents, timeout_ms);
}
int pd_pipe(void* ud, int fds[2]) {
  return synack_pipe(host(ud), fds);
}
// The tool's splice returns int: at most INT_MAX bytes move per call, so the count fits.
int pd_splice(void* ud, int fd_in, loff_t* off_in, int fd_out, loff_t* off_out, size_t len,
              unsigned int flags) {
  const size_t most = static_cast<size_t>(INT_MAX);
  return static_cast<int>(
      synack_splice(host(ud), fd_in, off_in, fd_out, off_out, len < most ? len : most, flags));
}

}  // namespace

extern "C" void packetdrill_interface_init(const char* flags, struct packetdrill_interface* ifc) {
  if (ifc == nullptr) {
    std::fprintf(stderr, "synack_packetdrill: packetdrill_interface_init with no interface\n");
    std::exit(EXIT_FAILURE);
  }
  synack_host* h = synack_host_new(flags);
  if (h == nullptr) {
    // The tool cannot run a script without a stack, and this function cannot say so: end
    // the run here with the reason, as the tool itself does when dlopen fails.
    const int error = errno;
    std::fprintf(stderr,
                 "synack_packetdrill: cannot start a host with --so_flags \"%s\": %s\n"
                 "  known flags (separated by spaces or commas): local=A.B.C.D mtu=N "
                 "secret=HEX wscale=0|1 sack=0|1 timestamps=0|1\n",
                 flags != nullptr ? flags : "", std::strerror(error));
    std::exit(EXIT_FAILURE);
  }
  ifc->userdata = h;
  ifc->free = pd_free;
  ifc->socket = pd_socket;
  ifc->bind = pd_bind;
  ifc->listen = pd_listen;
  ifc->accept = pd_accept;
  ifc->connect = pd_connect;
  ifc->read = pd_read;
  ifc->readv = pd_readv;
  ifc->recv = pd_recv;
  ifc->recvfrom = pd_recvfrom;
  ifc->recvmsg = pd_recvmsg;
  ifc->write = pd_write;
  ifc->writev = pd_writev;
  ifc->send = pd_send;
  ifc->sendto = pd_sendto;
  ifc->sendmsg = pd_sendmsg;
  ifc->fcntl = pd_fcntl;
  ifc->ioctl = pd_ioctl;
  ifc->close = pd_close;
  ifc->shutdown = pd_shutdown;
  ifc->getsockopt = pd_getsockopt;
  ifc->setsockopt = pd_setsockopt;
  ifc->poll = pd_poll;
  ifc->netdev_send = pd_netdev_send;
  ifc->netdev_receive = pd_netdev_receive;
  ifc->usleep = pd_usleep;
  ifc->gettimeofday = pd_gettimeofday;
  ifc->epoll_create = pd_epoll_create;
  ifc->epoll_ctl = pd_epoll_ctl;
  ifc->epoll_wait = pd_epoll_wait;
  ifc->pipe = pd_pipe;
  ifc->splice = pd_splice;
}
