// Two synack hosts wired back to back through the C ABI's packet calls, and the same
// shapes made of kernel sockets over loopback, so that a test can run one script on both
// and hold synack to what Linux does.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <vector>

#include "synack/synack.h"

namespace synack::capi::testing {

inline sockaddr_in ipv4(const char* address, std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, address, &a.sin_addr);
  return a;
}

inline const sockaddr* as_sockaddr(const sockaddr_in& a) {
  return static_cast<const sockaddr*>(static_cast<const void*>(&a));
}

// Host a (192.168.0.1) and host b (192.168.0.2), whose packets the test carries.
class HostPair {
 public:
  HostPair() : a(synack_host_new("local=192.168.0.1")), b(synack_host_new("local=192.168.0.2")) {}
  ~HostPair() {
    synack_host_free(a);
    synack_host_free(b);
  }
  HostPair(const HostPair&) = delete;
  HostPair& operator=(const HostPair&) = delete;

  // Carries packets both ways until neither host has one to send. A host with nothing
  // waiting moves its clock to its next timer within synack_netdev_receive's limit, so
  // delayed ACKs go out on the way.
  void pump() {
    for (int round = 0; round < 1000; ++round) {
      const bool moved = carry(a, b) | carry(b, a);
      if (!moved) return;
    }
    ADD_FAILURE() << "the hosts never went quiet";
  }

  // Drops every packet `from` has queued (a peer that vanished).
  static void drop(synack_host* from) {
    std::vector<std::uint8_t> buf(65536);
    for (int i = 0; i < 1000; ++i) {
      std::size_t n = buf.size();
      long long at = 0;
      synack_netdev_receive(from, buf.data(), &n, &at);
      if (n == 0) return;
    }
  }

  synack_host* a;
  synack_host* b;

 private:
  static bool carry(synack_host* from, synack_host* to) {
    std::vector<std::uint8_t> buf(65536);
    bool any = false;
    for (int i = 0; i < 1000; ++i) {
      std::size_t n = buf.size();
      long long at = 0;
      if (synack_netdev_receive(from, buf.data(), &n, &at) != 0 || n == 0) break;
      synack_netdev_send(to, buf.data(), n);
      any = true;
    }
    return any;
  }
};

// A listener on host b's port, a client on host a connected to it, and the accepted
// socket: the three descriptors of an established connection.
struct SynackConnection {
  int listener = -1;
  int client = -1;
  int server = -1;
};

inline SynackConnection connect_pair(HostPair& pair, std::uint16_t port = 8080) {
  SynackConnection c;
  c.listener = synack_socket(pair.b, AF_INET, SOCK_STREAM, 0);
  const sockaddr_in any = ipv4("0.0.0.0", port);
  EXPECT_EQ(synack_bind(pair.b, c.listener, as_sockaddr(any), sizeof any), 0);
  EXPECT_EQ(synack_listen(pair.b, c.listener, 16), 0);
  c.client = synack_socket(pair.a, AF_INET, SOCK_STREAM, 0);
  EXPECT_EQ(synack_fcntl(pair.a, c.client, F_SETFL, O_NONBLOCK), 0);
  const sockaddr_in to = ipv4("192.168.0.2", port);
  EXPECT_EQ(synack_connect(pair.a, c.client, as_sockaddr(to), sizeof to), -1);
  EXPECT_EQ(errno, EINPROGRESS);
  pair.pump();
  EXPECT_EQ(synack_fcntl(pair.a, c.client, F_SETFL, 0), 0);
  c.server = synack_accept(pair.b, c.listener, nullptr, nullptr);
  EXPECT_GE(c.server, 0);
  return c;
}

// The same over the kernel's loopback.
struct KernelConnection {
  int listener = -1;
  int client = -1;
  int server = -1;
  sockaddr_in address{};  // the listener's
  ~KernelConnection() {
    for (int fd : {listener, client, server}) {
      if (fd >= 0) ::close(fd);
    }
  }
};

// A kernel listener on 127.0.0.1 (an ephemeral port), with `c.address` set.
inline void kernel_listen(KernelConnection& c) {
  c.listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  c.address = ipv4("127.0.0.1", 0);
  EXPECT_EQ(::bind(c.listener, as_sockaddr(c.address), sizeof c.address), 0);
  EXPECT_EQ(::listen(c.listener, 16), 0);
  socklen_t len = sizeof c.address;
  ::getsockname(c.listener, static_cast<sockaddr*>(static_cast<void*>(&c.address)), &len);
}

// Loopback delivers within the sending call; a short pause lets softirq work settle.
inline void kernel_settle() {
  ::usleep(20'000);
}

inline void kernel_connect(KernelConnection& c) {
  kernel_listen(c);
  c.client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  EXPECT_EQ(::connect(c.client, as_sockaddr(c.address), sizeof c.address), 0);
  c.server = ::accept4(c.listener, nullptr, nullptr, SOCK_CLOEXEC);
  EXPECT_GE(c.server, 0);
  kernel_settle();
}

}  // namespace synack::capi::testing
