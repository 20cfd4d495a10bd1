#include "link/shm/rendezvous.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

namespace synack::link::shm {
namespace {

socklen_t make_address(std::string_view region_name, sockaddr_un& address) {
  address = {};
  address.sun_family = AF_UNIX;
  const std::string name = rendezvous_name(region_name);
  // sun_path[0] stays NUL: the abstract namespace.
  const std::size_t length = std::min(name.size(), sizeof address.sun_path - 1);
  std::memcpy(address.sun_path + 1, name.data(), length);
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + length);
}

}  // namespace

std::string rendezvous_name(std::string_view region_name) {
  return "synack-shm/" + std::string(region_name);
}

int rendezvous_listen(std::string_view region_name) {
  const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_un address;
  const socklen_t length = make_address(region_name, address);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), length) < 0 || ::listen(fd, 4) < 0) {
    const int e = errno;
    ::close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

int rendezvous_connect(std::string_view region_name) {
  const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_un address;
  const socklen_t length = make_address(region_name, address);
  for (int attempt = 0; attempt < 100; ++attempt) {
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), length) == 0) return fd;
    if (errno != EINTR) break;
  }
  const int e = errno;
  ::close(fd);
  errno = e;
  return -1;
}

bool send_message(int socket, const void* data, std::size_t size, int fd_to_pass) {
  iovec iov{const_cast<void*>(data), size};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr message{};
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  if (fd_to_pass >= 0) {
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&message);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd_to_pass, sizeof(int));
  }
  for (int attempt = 0; attempt < 100; ++attempt) {
    const ssize_t n = ::sendmsg(socket, &message, MSG_NOSIGNAL);
    if (n == static_cast<ssize_t>(size)) return true;
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
  return false;
}

bool receive_message(int socket, void* data, std::size_t size, int& fd_received, int timeout_ms) {
  fd_received = -1;
  pollfd p{socket, POLLIN, 0};
  int ready = -1;
  for (int attempt = 0; attempt < 100 && ready < 0; ++attempt) {
    ready = ::poll(&p, 1, timeout_ms);  // EINTR restarts the whole wait: bounded by attempts
    if (ready < 0 && errno != EINTR) return false;
  }
  if (ready <= 0) {
    errno = ETIMEDOUT;
    return false;
  }
  iovec iov{data, size};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr message{};
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  const ssize_t n = ::recvmsg(socket, &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  for (cmsghdr* c = CMSG_FIRSTHDR(&message); n >= 0 && c; c = CMSG_NXTHDR(&message, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
        c->cmsg_len == CMSG_LEN(sizeof(int))) {
      std::memcpy(&fd_received, CMSG_DATA(c), sizeof(int));
    }
  }
  if (n != static_cast<ssize_t>(size) || (message.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
    if (fd_received >= 0) ::close(fd_received);
    fd_received = -1;
    if (n >= 0) errno = EPROTO;
    return false;
  }
  return true;
}

}  // namespace synack::link::shm
