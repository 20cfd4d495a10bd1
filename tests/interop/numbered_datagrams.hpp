// Numbered UDP datagrams for the TUN batching tests: each payload starts with its number
// (big-endian), and a sink collects the numbers of those that reach the link whole, so a
// test can tell a datagram lost, doubled or reordered from one merely late.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "link/link.hpp"
#include "wire/ipv4.hpp"
#include "wire/udp.hpp"

namespace synack::interop {

inline std::uint32_t datagram_number(wire::Bytes payload) {
  std::uint32_t seq = 0;
  for (std::size_t i = 0; i < 4; ++i) seq = (seq << 8) | payload[i];
  return seq;
}

// The numbers of the datagrams to `to`:`port` with `payload` bytes each and a good
// checksum, in the order the link handed them up; anything else is counted as malformed.
struct NumberedDatagrams final : link::FrameSink {
  NumberedDatagrams(Ipv4Address to, std::uint16_t port, std::size_t payload)
      : to_(to), port_(port), payload_(payload) {}

  std::vector<std::uint32_t> seqs;
  std::uint32_t malformed = 0;

  void on_frame(wire::Bytes frame, Instant /*arrived*/) override {
    auto ip = wire::Ipv4View::parse(frame);
    if (!ip || ip->protocol() != wire::kUdp || ip->dst() != to_) {
      ++malformed;
      return;
    }
    auto udp = wire::UdpView::parse(ip->payload());
    if (!udp || udp->dst_port() != port_ || udp->payload().size() != payload_ ||
        !wire::udp_checksum_ok(*udp, ip->src(), ip->dst())) {
      ++malformed;
      return;
    }
    seqs.push_back(datagram_number(udp->payload()));
  }

 private:
  Ipv4Address to_;
  std::uint16_t port_;
  std::size_t payload_;
};

}  // namespace synack::interop
