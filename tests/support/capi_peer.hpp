// The raw-peer harness over the C ABI: the test plays a remote host (192.0.2.1) on the
// wire of a synack_host, building each IPv4 packet by hand, handing it in with
// synack_netdev_send, and asserting the exact packets synack_netdev_receive gives back
// with their virtual send times, while it drives the host's sockets through synack.h.
//
//   CapiPeer p;
//   int l = p.listen(8080);
//   p.inject({.flags = SYN, .seq = 1000, .options = {.mss = 1460}, .dst_port = 8080});
//   auto synack = p.expect({.flags = SYN | ACK, .ack = 1001});
#pragma once

#include <netinet/in.h>

#include <optional>
#include <string>

#include "support/raw_peer.hpp"
#include "synack/synack.h"

namespace synack::testing {

class CapiPeer {
 public:
  static constexpr Ipv4Address kLocal{192, 168, 0, 1};  // the host under test
  static constexpr Ipv4Address kRemote{192, 0, 2, 1};   // the test, playing the peer
  static constexpr std::uint16_t kRemotePort = 40000;

  // Plain segments by default: no window scaling, SACK or timestamps to predict.
  explicit CapiPeer(const char* flags = "wscale=0 sack=0 timestamps=0");
  ~CapiPeer();
  CapiPeer(const CapiPeer&) = delete;
  CapiPeer& operator=(const CapiPeer&) = delete;

  synack_host* host() { return host_; }

  // A segment from the peer (to `in.dst_port`, or the port last listened on).
  void inject(const In& in);
  void inject_udp(std::uint16_t from_port, std::uint16_t to_port, const std::string& payload);
  // The next TCP segment the host sends: synack_netdev_receive, which moves virtual time to
  // the next timer when none is waiting. Non-TCP packets are skipped.
  std::optional<Seen> next();
  // The next packet, whatever it is, with its send time (µs since the virtual epoch).
  std::optional<std::vector<std::uint8_t>> next_packet(long long* at_usecs = nullptr);
  Seen expect(const Out& out);
  // Nothing sent, now or by any timer within synack_netdev_receive's limit.
  void expect_nothing();

  // socket, bind to the wildcard on `port`, listen.
  int listen(std::uint16_t port, int backlog = 16);
  // listen(port), the handshake from the peer (ISS peer_iss), accept(): the connected
  // descriptor; `iss` is the host's ISS. With `rtt`, the peer's ACK comes that much later.
  struct Accepted {
    int fd = -1;
    int listener = -1;
    std::uint32_t iss = 0;
    std::uint32_t peer_iss = 0;
  };
  Accepted accept_established(std::uint16_t port = 8080, std::uint32_t peer_iss = 1000,
                              Duration rtt = {});

  std::uint16_t port() const { return port_; }
  // Microseconds of virtual time since the epoch, read without moving the clock.
  static long long usecs(Instant t) { return to_nanos(t) / 1000; }

 private:
  synack_host* host_;
  std::uint16_t port_ = 0;
};

sockaddr_in ipv4_address(Ipv4Address address, std::uint16_t port);
const sockaddr* as_sockaddr(const sockaddr_in& a);
sockaddr* as_sockaddr(sockaddr_in& a);

}  // namespace synack::testing
