// What every C call of synack.h starts with: the host behind the handle, and the socket a
// descriptor number stands for.
#pragma once

#include <sys/types.h>

#include "capi/fail.hpp"
#include "capi/host.hpp"
#include "synack/synack.h"

// The handle synack.h hands out: one Host.
struct synack_host {
  explicit synack_host(const synack::capi::HostFlags& flags) : host(flags) {}
  synack::capi::Host host;
};

namespace synack::capi {

// The host of a handle; nullptr, with errno EFAULT, for a null one.
inline Host* host_of(synack_host* h) {
  if (!h) {
    errno = EFAULT;
    return nullptr;
  }
  return &h->host;
}

// Under the lock: the socket `fd` stands for, or nullptr with errno set: ENOTSOCK for an
// epoll instance or a kernel file, EBADF for a number nobody has open.
inline Descriptor* socket_of(Host& host, int fd) {
  Descriptor* d = host.find(fd);
  if (!d) {
    host.fail_unknown(fd);
    return nullptr;
  }
  if (d->kind == Descriptor::Kind::epoll) {
    errno = ENOTSOCK;
    return nullptr;
  }
  return d;
}

// What a descriptor number is to a host. The file calls (read, readv, write, writev,
// close, fcntl, ioctl) hand a number that is none of the host's own (a kernel pipe from
// synack_pipe, a file, or nothing open) to the kernel, as the C library would: packetdrill
// scripts read and write their pipes through the same calls as their sockets.
enum class Owner { socket, epoll, kernel };
inline Owner owner_of(synack_host* h, int fd) {
  Host* host = host_of(h);
  if (!host) return Owner::socket;  // the call itself then fails with EFAULT
  auto lock = host->lock();
  const Descriptor* d = host->find(fd);
  if (!d) return Owner::kernel;
  return d->kind == Descriptor::Kind::epoll ? Owner::epoll : Owner::socket;
}

// -1 as the ssize_t the data calls return, with errno set.
inline ssize_t fail_size(int error) {
  return fail_with(error);
}

}  // namespace synack::capi
