// A raw node on the simulated network: not a stack, just an address and a wire. The test
// writes IPv4 frames byte by byte and sends them to a host; every frame that comes back to
// the node's address is kept for the test to read. It plays a pinging host, a scanner or a
// blind attacker beside the stacks under test.
//
//   RawNode raw(world.net(), Ipv4Address(198, 18, 0, 9));
//   raw.send(icmp_echo_request(raw.address(), server_addr, 7, 1, data));
//   world.run_for(milliseconds(20));
//   auto reply = raw.pop();
#pragma once

#include <deque>
#include <optional>
#include <vector>

#include "link/sim/network.hpp"
#include "synack/endpoint.hpp"
#include "wire/tcp.hpp"

namespace synack::testing {

using Frame = std::vector<std::uint8_t>;

class RawNode final : public sim::Node, public link::FrameSink {
 public:
  RawNode(sim::Network& net, Ipv4Address address);

  Ipv4Address address() const { return Ipv4Address(link_.address()); }
  // Routed by the frame's IPv4 destination, as any host's frame is.
  void send(wire::Bytes frame);
  // Put on the wire to `host` whatever the frame's header says (or whether it has one).
  void send_to_host(Ipv4Address host, wire::Bytes frame);

  // The oldest frame received and not yet taken.
  std::optional<Frame> pop();
  std::size_t pending() const { return received_.size(); }
  std::uint64_t received_total() const { return received_total_; }

  void poll(Instant now) override;
  std::optional<Instant> next_deadline() const override { return std::nullopt; }
  void on_frame(wire::Bytes frame, Instant arrived) override;

 private:
  sim::Network& net_;
  sim::SimLink& link_;
  std::deque<Frame> received_;
  std::uint64_t received_total_ = 0;
};

// --- Frame builders: whole IPv4 packets, checksums right unless the test breaks them. ---

// The 20-byte header of `header` followed by `payload`.
Frame ipv4_frame(const wire::Ipv4Header& header, wire::Bytes payload);
Frame tcp_frame(Ipv4Address src, Ipv4Address dst, const wire::TcpHeader& header,
                wire::Bytes payload = {});
Frame udp_frame(Endpoint from, Endpoint to, wire::Bytes payload);
Frame icmp_echo_request(Ipv4Address src, Ipv4Address dst, std::uint16_t identifier,
                        std::uint16_t sequence, wire::Bytes data);

inline wire::Bytes as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace synack::testing
