// The kernel's TCP sockets as the peers use them: blocking, with send and receive timeouts
// so no call waits forever, cubic congestion control where asked, and errors as sentences.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "base/result.hpp"
#include "bench/peers/kernel_fd.hpp"

namespace synack::bench {

using Deadline = std::chrono::steady_clock::time_point;

// nullopt when this kernel offers cubic, else why not (the reason for Run::skip).
std::optional<std::string> cubic_missing();

struct TcpOptions {
  bool cubic = false;     // TCP_CONGESTION "cubic" (this machine defaults to bbr)
  bool nodelay = false;   // TCP_NODELAY
  int timeout_ms = 5000;  // SO_RCVTIMEO and SO_SNDTIMEO: a stuck peer fails the run
};

// A listening socket on `address` ("127.0.0.1") and `port` (0: the kernel picks).
synack::Result<Fd, std::string> tcp_listen(const std::string& address, std::uint16_t port,
                                           const TcpOptions& options, int backlog = 1024);
std::uint16_t local_port(int fd);

synack::Result<Fd, std::string> tcp_connect(const std::string& address, std::uint16_t port,
                                            const TcpOptions& options);
// accept(2) on `listener`, with `options` applied to the new socket.
synack::Result<Fd, std::string> tcp_accept(int listener, const TcpOptions& options);

// Applies `options` to a socket.
std::optional<std::string> apply(int fd, const TcpOptions& options);

// Writes all `n` bytes, or says why not.
std::optional<std::string> send_all(int fd, const void* data, std::size_t n);
// Reads exactly `n` bytes (fewer: the peer closed early, an error).
std::optional<std::string> recv_exact(int fd, void* data, std::size_t n);

}  // namespace synack::bench
