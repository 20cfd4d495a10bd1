// Vocabulary of the socket API: descriptors, readiness, shutdown modes and options.
#pragma once

#include <cstdint>

namespace synack {

// A socket descriptor, small and reused like a file descriptor.
using SocketId = int;

enum class Shutdown { read, write, both };

// Readiness as poll(2) reports it.
struct Readiness {
  bool readable = false;  // POLLIN: data, EOF, a pending connection, or an error to collect
  bool writable = false;  // POLLOUT: room in the send buffer, or connect() finished
  bool error = false;     // POLLERR: SO_ERROR is set
  bool hangup = false;    // POLLHUP: the connection is closed both ways
};

// Socket options (SOL_SOCKET and IPPROTO_TCP levels), each an integer as in setsockopt(2).
enum class Option {
  reuse_addr,      // SO_REUSEADDR: bind past TIME_WAIT connections on the port
  send_buffer,     // SO_SNDBUF, bytes
  receive_buffer,  // SO_RCVBUF, bytes
  linger,          // SO_LINGER: -1 off, else l_linger seconds (0: close() sends RST)
  keepalive,       // SO_KEEPALIVE: 0 or 1
  keep_idle,       // TCP_KEEPIDLE, seconds
  keep_interval,   // TCP_KEEPINTVL, seconds
  keep_count,      // TCP_KEEPCNT
  nodelay,         // TCP_NODELAY: 0 or 1
  max_segment,     // TCP_MAXSEG: our MSS, bytes
  user_timeout,    // TCP_USER_TIMEOUT: ms data may stay unacknowledged before ETIMEDOUT; 0 off
};

}  // namespace synack
