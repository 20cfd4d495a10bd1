// Per-connection settings: the socket options and the stack-wide defaults they start from.
// Defaults follow Linux where Linux is the reference users compare with.
#pragma once

#include <cstddef>
#include <cstdint>

#include "synack/time.hpp"

namespace synack::tcp {

struct Keepalive {
  bool enabled = false;             // SO_KEEPALIVE, off by default [RFC9293 MUST-24, MUST-25]
  Duration idle = seconds(7200);    // TCP_KEEPIDLE: 2 hours [RFC9293 MUST-27, MUST-28]
  Duration interval = seconds(75);  // TCP_KEEPINTVL
  int count = 9;                    // TCP_KEEPCNT

  bool operator==(const Keepalive&) const = default;
};

struct Linger {
  bool enabled = false;  // SO_LINGER l_onoff
  int seconds = 0;       // l_linger; 0 with enabled means close() aborts with RST

  bool operator==(const Linger&) const = default;
};

struct Config {
  std::size_t send_buffer = 64 * 1024;     // SO_SNDBUF: bytes we hold until ACKed
  std::size_t receive_buffer = 64 * 1024;  // SO_RCVBUF: the most we advertise
  std::uint16_t mss = 1460;                // TCP_MAXSEG: our MSS option; 1500 MTU - 40
  bool nodelay = false;                    // TCP_NODELAY: Nagle off
  Keepalive keepalive;
  Linger linger;

  Duration msl = seconds(30);               // TIME_WAIT lasts 2·MSL = 60 s, as on Linux
  Duration rto_initial = seconds(1);        // RFC 6298 (2.1)
  Duration rto_min = milliseconds(200);     // Linux TCP_RTO_MIN
  Duration rto_max = seconds(120);          // Linux TCP_RTO_MAX
  Duration delayed_ack = milliseconds(40);  // Linux's delayed ACK
  int syn_retries = 6;                      // Linux tcp_syn_retries: ~127 s before timed_out
  int synack_retries = 5;                   // Linux tcp_synack_retries
  int data_retries = 15;                    // Linux tcp_retries2
  bool window_scaling = true;               // RFC 7323 §2
  bool timestamps = true;                   // RFC 7323 §3, and PAWS (§5)
  bool sack = true;                         // RFC 2018 and RFC 6675
  // TCP_USER_TIMEOUT (RFC 5482's "user timeout", with Linux's meaning): how long sent data
  // may stay unacknowledged, counted from its first retransmission (from the first SYN when
  // connecting), before the connection is given up with timed_out. It replaces the
  // data_retries count; a SYN gives up at whichever of the two comes first. It also bounds
  // a window shut since the first zero-window probe, and keepalive probing (counted from
  // the last segment received) instead of keepalive.count. Zero: off.
  Duration user_timeout{};
  // The largest the receive buffer may grow to: Linux's tcp_rmem[2]. Linux picks its window
  // scale for that (RFC 7323 §2.3: shift 7 for 6 MiB), not for the buffer of the moment; we
  // do too, so our SYNs offer what a Linux peer's do. The windows we advertise still come
  // from receive_buffer. An SO_RCVBUF set by the application fixes the buffer and lowers
  // this to it, as Linux's window_clamp does.
  std::size_t receive_buffer_max = 6 * 1024 * 1024;
  // RFC 5961 §7: at most this many challenge ACKs per challenge_ack_window, per connection;
  // the rest are suppressed (and counted). Linux's tcp_challenge_ack_limit (1000/s) was one
  // budget shared by every connection, and that sharing is the side channel of
  // CVE-2016-5696: an off-path attacker who exhausts it can tell, by which of its own
  // challenge ACKs go missing, whether a guessed 4-tuple or sequence number hit a connection.
  // A budget of each connection's own leaks nothing about any other. Ten a second is enough
  // for a real peer that is out of step (a challenge ACK per stray RST or SYN it sends)
  // while keeping a blind attacker's reflected traffic to a trickle. Zero: no limit.
  std::uint32_t challenge_ack_limit = 10;
  Duration challenge_ack_window = seconds(1);
  // RFC 4987 SYN cookies (Linux's tcp_syncookies = 1): a listener whose half-open queue
  // is full answers a SYN with a cookie instead of dropping it. Read from the listener.
  bool syn_cookies = true;

  bool operator==(const Config&) const = default;
};

// RFC 7323 §2.3: the shift that lets `buffer` bytes be advertised in 16 bits (at most 14).
std::uint8_t window_shift_for(std::size_t buffer);

}  // namespace synack::tcp
