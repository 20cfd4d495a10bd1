// What a kernel descriptor of a synack_host stands for: a socket (with the per-descriptor
// state POSIX keeps above the protocol: O_NONBLOCK, timeouts, the address family) or an
// epoll instance (its interest list).
#pragma once

#include <cstdint>
#include <map>
#include <optional>

#include "synack/socket.hpp"
#include "synack/time.hpp"

namespace synack::capi {

struct EpollInterest {
  std::uint32_t events = 0;  // EPOLLIN | EPOLLOUT | EPOLLET | EPOLLONESHOT ...
  std::uint64_t data = 0;    // epoll_data_t, returned as given
  bool disabled = false;     // EPOLLONESHOT fired; re-armed by EPOLL_CTL_MOD
  // EPOLLET: the readiness last reported, so only a new edge is reported again.
  std::uint32_t reported = 0;
  // EPOLLET: the stack's count of packets received when last reported. A packet since then
  // may be a new event on a descriptor still ready (more data), which Linux reports again.
  std::uint64_t arrivals = 0;
};

// What getsockopt reports that the stack does not keep (capi/sockopt.cpp).
struct ReportedOptions {
  int send_buffer = 0;     // SO_SNDBUF as set here, doubled as Linux reports it; 0: not set
  int receive_buffer = 0;  // SO_RCVBUF likewise
  int linger_seconds = 0;  // l_linger, which Linux keeps while SO_LINGER is off
  int max_segment = 0;     // TCP_MAXSEG as set (Linux's user_mss); 0: none
  bool keepalive = false;  // SO_KEEPALIVE on a UDP socket: kept and reported, as on Linux
};

struct Descriptor {
  enum class Kind : std::uint8_t { tcp, udp, epoll } kind = Kind::tcp;
  int kernel_fd = -1;  // the eventfd standing for it (the descriptor number itself)
  bool cloexec = false;
  // Given by Host::add and never given again: a call that slept notices when its
  // descriptor was closed, even if the same number (and socket) came back meanwhile.
  std::uint64_t serial = 0;
  // Sockets
  SocketId socket = -1;
  int domain = 0;  // AF_INET, or AF_INET6 (IPv4-mapped addresses only)
  // TCP connect() as the socket layer follows it (Linux's sock->state): a second
  // connect() during the handshake answers EALREADY, the first after it 0, then EISCONN.
  enum class Connect : std::uint8_t { unconnected, connecting, connected };
  Connect connect = Connect::unconnected;
  bool bound = false;       // bind() chose the local address: kept when Linux disconnects
  bool shut_read = false;   // UDP shutdown(SHUT_RD): reads end (TCP's is the stack's)
  bool shut_write = false;  // UDP shutdown(SHUT_WR): sends fail with EPIPE
  bool nonblocking = false;
  bool listening = false;
  std::optional<Duration> receive_timeout;  // SO_RCVTIMEO; nullopt waits for ever
  std::optional<Duration> send_timeout;     // SO_SNDTIMEO
  ReportedOptions options;
  // Epoll instances: the watched descriptor number -> its interest
  std::map<int, EpollInterest> interests;
  int last_reported = -1;  // epoll_wait resumes after it, so every ready descriptor gets a turn
};

}  // namespace synack::capi
