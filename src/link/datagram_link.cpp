#include "link/datagram_link.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace synack::link {

std::pair<std::unique_ptr<DatagramLink>, std::unique_ptr<DatagramLink>> DatagramLink::pair(
    std::size_t mtu) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0) {
    throw std::system_error(errno, std::generic_category(), "socketpair");
  }
  // Room for a few hundred frames each way, like a device queue.
  const int bytes = 4 << 20;
  for (const int fd : fds) {
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  }
  return {std::unique_ptr<DatagramLink>(new DatagramLink(fds[0], mtu)),
          std::unique_ptr<DatagramLink>(new DatagramLink(fds[1], mtu))};
}

DatagramLink::DatagramLink(int fd, std::size_t mtu) : fd_(fd), mtu_(mtu), buffer_(65536) {}

DatagramLink::~DatagramLink() {
  ::close(fd_);
}

void DatagramLink::send(wire::Bytes frame, Instant /*now*/) {
  if (frame.size() > mtu_) {
    ++send_dropped_;
    return;
  }
  for (;;) {
    if (::send(fd_, frame.data(), frame.size(), MSG_DONTWAIT) >= 0) return;
    if (errno == EINTR) continue;
    ++send_dropped_;  // the peer's queue is full: the medium drops, as a device would
    return;
  }
}

std::size_t DatagramLink::receive(Instant now, FrameSink& sink, std::size_t budget) {
  std::size_t delivered = 0;
  while (delivered < budget) {
    const ssize_t n = ::recv(fd_, buffer_.data(), buffer_.size(), MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    ++delivered;
    sink.on_frame(wire::Bytes(buffer_.data(), static_cast<std::size_t>(n)), now);
  }
  return delivered;
}

}  // namespace synack::link
