// Script openings the packetdrill tests share, each written as its packetdrill lines, and
// the stack's defaults they expect: an MSS of 1460, a 64 KiB receive buffer, so a SYN
// window of 65535, and a window scale of 7, chosen as Linux does for the largest the buffer
// may grow to (tcp::Config::receive_buffer_max, 6 MiB, as tcp_rmem[2]), not for the 64 KiB.
//
// Later windows count units of 128 octets (RFC 7323 §2.3). A window kept from the last ACK
// is rounded up to a unit, never down, so its right edge never moves left; a right edge
// that moves (by at least an MSS or half the buffer, whichever is less: RFC 9293
// §3.8.6.2.2) offers the free space rounded down.
// So the first window after the SYN,ACK's 65535 is 65536 = 512 << 7, the whole buffer, and
// the buffer keeps 127 octets of slack for what rounding up offers beyond it.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>

#include "support/packetdrill_driver.hpp"

namespace synack::testing {

using namespace std::chrono_literals;

// The remote's SYN as Linux sends it, and the stack's answer, with timestamps
// (`MSS, SACK-permitted, timestamps, NOP, window scale`) and without them
// (`MSS, NOP, NOP, SACK-permitted, NOP, window scale`).
inline constexpr const char* kSynTs =
    "S 0:0(0) win 32792 <mss 1000,sackOK,TS val 100 ecr 0,nop,wscale 7>";
inline constexpr const char* kSynAckTs =
    "S. 0:0(0) ack 1 win 65535 <mss 1460,sackOK,TS val * ecr 100,nop,wscale 7>";
inline constexpr const char* kSyn = "S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>";
inline constexpr const char* kSynAck =
    "S. 0:0(0) ack 1 win 65535 <mss 1460,nop,nop,sackOK,nop,wscale 7>";

struct Accepted {
  int listener = -1;
  int fd = -1;
};

// 0    socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
// +0   setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
// +0   bind(3, ..., ...) = 0
// +0   listen(3, 1) = 0
// +0   < S 0:0(0) win 32792 <...>
// +0   > S. 0:0(0) ack 1 <...>
// +.1  < . 1:1(0) ack 1 win 257
// +0   accept(3, ..., ...) = 4
// With `timestamps`, the remote's TS val is 100 on the SYN and 200 on the ACK.
inline Accepted passive_open(Packetdrill& pd, bool timestamps) {
  Accepted a;
  a.listener = pd.socket();
  EXPECT_GE(a.listener, 0);
  EXPECT_EQ(pd.set_int_option(a.listener, SOL_SOCKET, SO_REUSEADDR, 1), 0);
  EXPECT_EQ(pd.bind(a.listener), 0);
  EXPECT_EQ(pd.listen(a.listener, 1), 0);
  pd.inject(timestamps ? kSynTs : kSyn);
  pd.expect(timestamps ? kSynAckTs : kSynAck);
  pd.at(pd.now() + 100ms);
  pd.inject(timestamps ? ". 1:1(0) ack 1 win 257 <nop,nop,TS val 200 ecr *>"
                       : ". 1:1(0) ack 1 win 257");
  sockaddr_storage peer{};
  socklen_t len = sizeof peer;
  a.fd = pd.accept(a.listener, reinterpret_cast<sockaddr*>(&peer), &len);
  EXPECT_GE(a.fd, 0) << std::strerror(errno);
  EXPECT_EQ(address_text(peer), address_text(pd.remote_address()));
  return a;
}

// Bytes a test can recognize: "abcdefghijklmnopqrstuvwxyzabcd..." for `n` bytes.
inline std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
  return s;
}

// Reads until `n` bytes came (or an error or EOF stops it).
inline std::string read_all(Packetdrill& pd, int fd, std::size_t n) {
  std::string out;
  std::string buf(65536, '\0');
  while (out.size() < n) {
    const ssize_t r = pd.read(fd, buf.data(), std::min(buf.size(), n - out.size()));
    if (r <= 0) break;
    out.append(buf.data(), static_cast<std::size_t>(r));
  }
  return out;
}

}  // namespace synack::testing
