// A synack Stack: one IPv4 host with TCP, UDP and ICMP, driven by one thread.
//
//   synack::Stack stack(link, clock, {.address = Ipv4Address(198, 18, 0, 2)});
//   SocketId s = *stack.tcp_socket();
//   stack.bind(s, {Ipv4Address(), 80});
//   stack.listen(s, 128);
//   ...  stack.poll(now);  next wake-up: stack.next_deadline()
//
// The API is non-blocking, with poll-like readiness: accept() and read() answer
// resource_unavailable_try_again until something is there; connect() answers
// operation_in_progress and the socket turns writable (or reports its error) when the
// handshake ends. Errors are std::error_code with POSIX meanings.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <system_error>

#include "synack/endpoint.hpp"
#include "synack/socket.hpp"
#include "synack/time.hpp"

namespace synack {

namespace link {
class Link;
}
namespace trace {
class Sink;
}
namespace tcp {
struct Config;
enum class State : std::uint8_t;
}  // namespace tcp
struct Counters;

struct StackConfig {
  Ipv4Address address;
  // The length of the subnet's prefix (198.18.0.2/24: 24), for its directed broadcast
  // (198.18.0.255) and network (198.18.0.0) addresses, which no peer may use as its source
  // (RFC 1122 §3.2.1.3): such datagrams are dropped. 31 (RFC 3021) and 32 have neither.
  std::uint8_t prefix_length = 24;
  // The secret behind ISNs (RFC 6528) and ephemeral ports (RFC 6056). Give each stack a
  // random one; the simulator derives it from its seed.
  std::uint64_t secret[2] = {0x736e6b6163737973ull, 0x2d6b63616e797321ull};
  std::uint16_t ephemeral_low = 32768;  // Linux ip_local_port_range
  std::uint16_t ephemeral_high = 60999;
  // Resource limits. Sockets open at once (socket(), and accept() of a queued connection):
  // beyond it EMFILE, and a listener drops new SYNs. Buffer memory: the bytes held in TCP
  // send and receive buffers, out-of-order data and UDP queues, all sockets together;
  // beyond it write() and sendto() fail with ENOBUFS, arriving data is dropped (TCP: not
  // ACKed, so the peer sends it again) and a listener drops new SYNs. Each refusal is counted.
  std::size_t max_sockets = 65536;
  std::size_t max_buffer_memory = std::size_t{256} << 20;
  std::size_t udp_receive_queue = 212992;  // bytes per UDP socket (Linux rmem_default)
};

class Stack {
 public:
  Stack(link::Link& link, const Clock& clock, const StackConfig& config);
  ~Stack();
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  // --- Driving -----------------------------------------------------------------------------
  // Does everything due at `now`: receives frames, fires timers, sends what is ready.
  void poll(Instant now);
  // When poll() is next needed with no frame arriving; nullopt when there is nothing to do.
  std::optional<Instant> next_deadline() const;

  // --- Sockets -----------------------------------------------------------------------------
  std::error_code tcp_socket(SocketId& out);
  std::error_code udp_socket(SocketId& out);
  std::error_code bind(SocketId s, Endpoint local);
  std::error_code listen(SocketId s, int backlog);
  // A completed connection, or resource_unavailable_try_again.
  std::error_code accept(SocketId listener, SocketId& out, Endpoint* peer = nullptr);
  // TCP: operation_in_progress, then readiness tells. UDP: sets the default peer, or with
  // Endpoint{} (0.0.0.0:0) removes it, as connect(AF_UNSPEC) does.
  std::error_code connect(SocketId s, Endpoint remote);
  // Bytes read, 0 at end of stream. UDP: one datagram (truncated to out.size()).
  std::error_code read(SocketId s, std::span<std::uint8_t> out, std::size_t& n);
  std::error_code write(SocketId s, std::span<const std::uint8_t> data, std::size_t& n);
  std::error_code shutdown(SocketId s, Shutdown how);
  std::error_code close(SocketId s);
  std::error_code getsockname(SocketId s, Endpoint& out) const;
  std::error_code getpeername(SocketId s, Endpoint& out) const;
  std::error_code setsockopt(SocketId s, Option opt, int value);
  std::error_code getsockopt(SocketId s, Option opt, int& value) const;
  // read() that leaves the bytes in place (MSG_PEEK), with read()'s errors. UDP: the next
  // datagram, as receive_from() gives it. TCP leaves `from` alone and `truncated` false.
  std::error_code peek(SocketId s, std::span<std::uint8_t> out, std::size_t& n,
                       Endpoint* from = nullptr, bool* truncated = nullptr);
  // What a socket holds (FIONREAD and SIOCOUTQ). invalid_argument for a listener.
  struct Queued {
    std::size_t readable = 0;        // TCP: bytes read() can return; UDP: the next datagram's size
    std::size_t unacknowledged = 0;  // TCP: bytes written and not yet acknowledged
  };
  std::error_code queued(SocketId s, Queued& out) const;
  // SO_ERROR: the pending error, cleared by reading it.
  std::error_code socket_error(SocketId s);
  Readiness readiness(SocketId s) const;
  // The TCP state of a connected socket (LISTEN for a listener, CLOSED otherwise).
  tcp::State tcp_state(SocketId s) const;

  // UDP datagrams. `truncated` is set when the datagram was longer than `out`.
  std::error_code send_to(SocketId s, std::span<const std::uint8_t> data, Endpoint to);
  std::error_code receive_from(SocketId s, std::span<std::uint8_t> out, std::size_t& n,
                               Endpoint* from = nullptr, bool* truncated = nullptr);

  // --- Observation -------------------------------------------------------------------------
  Ipv4Address address() const;
  const Counters& counters() const;
  void set_trace(trace::Sink* sink);
  // Connections the stack still holds, including orphans closing and TIME_WAIT.
  std::size_t connection_count() const;
  std::size_t timers_armed() const;
  // Buffer memory in use: what StackConfig::max_buffer_memory limits.
  std::size_t buffer_memory() const;
  // Defaults for new TCP sockets (MSL, RTO bounds, retries, buffers ...).
  tcp::Config& tcp_defaults();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace synack
