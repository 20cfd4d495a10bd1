#include "bench/peers/kernel_tcp.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace synack::bench {
namespace {

std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

std::optional<sockaddr_in> ipv4(const std::string& address, std::uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  if (::inet_pton(AF_INET, address.c_str(), &sa.sin_addr) != 1) return std::nullopt;
  return sa;
}

}  // namespace

std::optional<std::string> cubic_missing() {
  std::ifstream in("/proc/sys/net/ipv4/tcp_available_congestion_control");
  if (!in) return "cannot read /proc/sys/net/ipv4/tcp_available_congestion_control";
  std::string name;
  while (in >> name) {
    if (name == "cubic") return std::nullopt;
  }
  return "this kernel offers no cubic congestion control (modprobe tcp_cubic)";
}

std::optional<std::string> apply(int fd, const TcpOptions& options) {
  if (options.cubic) {
    static constexpr char kCubic[] = "cubic";
    if (::setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, kCubic, sizeof kCubic - 1) != 0) {
      return errno_text("setsockopt TCP_CONGESTION cubic");
    }
  }
  if (options.nodelay) {
    const int one = 1;
    if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) {
      return errno_text("setsockopt TCP_NODELAY");
    }
  }
  timeval tv{};
  tv.tv_sec = options.timeout_ms / 1000;
  tv.tv_usec = (options.timeout_ms % 1000) * 1000;
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0) {
    return errno_text("setsockopt SO_RCVTIMEO/SO_SNDTIMEO");
  }
  return std::nullopt;
}

synack::Result<Fd, std::string> tcp_listen(const std::string& address, std::uint16_t port,
                                           const TcpOptions& options, int backlog) {
  const auto sa = ipv4(address, port);
  if (!sa) return synack::Unexpected("bad IPv4 address " + address);
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return synack::Unexpected(errno_text("socket"));
  const int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  // Set before listen(): accepted sockets inherit the congestion control and timeouts.
  if (auto e = apply(fd.get(), options)) return synack::Unexpected(*e);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&*sa), sizeof *sa) != 0) {
    return synack::Unexpected(errno_text("bind " + address + ":" + std::to_string(port)));
  }
  if (::listen(fd.get(), backlog) != 0) return synack::Unexpected(errno_text("listen"));
  return fd;
}

std::uint16_t local_port(int fd) {
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) return 0;
  return ntohs(sa.sin_port);
}

synack::Result<Fd, std::string> tcp_connect(const std::string& address, std::uint16_t port,
                                            const TcpOptions& options) {
  const auto sa = ipv4(address, port);
  if (!sa) return synack::Unexpected("bad IPv4 address " + address);
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return synack::Unexpected(errno_text("socket"));
  if (auto e = apply(fd.get(), options)) return synack::Unexpected(*e);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&*sa), sizeof *sa) != 0) {
    return synack::Unexpected(errno_text("connect " + address + ":" + std::to_string(port)));
  }
  return fd;
}

synack::Result<Fd, std::string> tcp_accept(int listener, const TcpOptions& options) {
  Fd fd(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
  if (!fd) return synack::Unexpected(errno_text("accept"));
  if (auto e = apply(fd.get(), options)) return synack::Unexpected(*e);
  return fd;
}

std::optional<std::string> send_all(int fd, const void* data, std::size_t n) {
  const auto* p = static_cast<const std::uint8_t*>(data);
  while (n > 0) {
    const ssize_t sent = ::send(fd, p, n, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      return errno_text("send");  // EAGAIN here is SO_SNDTIMEO expiring
    }
    p += sent;
    n -= static_cast<std::size_t>(sent);
  }
  return std::nullopt;
}

std::optional<std::string> recv_exact(int fd, void* data, std::size_t n) {
  auto* p = static_cast<std::uint8_t*>(data);
  while (n > 0) {
    const ssize_t got = ::recv(fd, p, n, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      return errno_text("recv");  // EAGAIN here is SO_RCVTIMEO expiring
    }
    if (got == 0) return "the peer closed with " + std::to_string(n) + " bytes still due";
    p += got;
    n -= static_cast<std::size_t>(got);
  }
  return std::nullopt;
}

}  // namespace synack::bench
