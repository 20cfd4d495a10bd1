#include "support/raw_node.hpp"

#include <gtest/gtest.h>

#include "wire/icmp.hpp"
#include "wire/udp.hpp"

namespace synack::testing {

RawNode::RawNode(sim::Network& net, Ipv4Address address)
    : net_(net), link_(net.add_host(address.to_u32())) {
  net_.add_node(*this, &link_);
}

void RawNode::send(wire::Bytes frame) {
  link_.send(frame, net_.now());
}

void RawNode::send_to_host(Ipv4Address host, wire::Bytes frame) {
  link_.send_to_host(host.to_u32(), frame, net_.now());
}

std::optional<Frame> RawNode::pop() {
  if (received_.empty()) return std::nullopt;
  Frame f = std::move(received_.front());
  received_.pop_front();
  return f;
}

void RawNode::poll(Instant now) {
  while (link_.receive(now, *this, 1024) > 0) {
  }
}

void RawNode::on_frame(wire::Bytes frame, Instant /*arrived*/) {
  ++received_total_;
  received_.emplace_back(frame.begin(), frame.end());
}

Frame ipv4_frame(const wire::Ipv4Header& header, wire::Bytes payload) {
  Frame f(20 + payload.size());
  const std::size_t n =
      wire::write_ipv4_header(wire::MutableBytes(f.data(), 20), header, payload.size());
  EXPECT_EQ(n, 20u);
  std::copy(payload.begin(), payload.end(), f.begin() + 20);
  return f;
}

Frame tcp_frame(Ipv4Address src, Ipv4Address dst, const wire::TcpHeader& header,
                wire::Bytes payload) {
  Frame segment(60 + payload.size());
  const std::size_t n = wire::write_tcp(segment, header, payload, src.to_u32(), dst.to_u32());
  EXPECT_GT(n, 0u);
  segment.resize(n);
  return ipv4_frame({.src = src, .dst = dst, .protocol = wire::kTcp}, segment);
}

Frame udp_frame(Endpoint from, Endpoint to, wire::Bytes payload) {
  Frame datagram(8 + payload.size());
  std::copy(payload.begin(), payload.end(), datagram.begin() + 8);
  EXPECT_EQ(wire::write_udp_header(datagram, {from.port, to.port}, from.address, to.address), 8u);
  return ipv4_frame({.src = from.address, .dst = to.address, .protocol = wire::kUdp}, datagram);
}

Frame icmp_echo_request(Ipv4Address src, Ipv4Address dst, std::uint16_t identifier,
                        std::uint16_t sequence, wire::Bytes data) {
  Frame message(8 + data.size());
  EXPECT_EQ(wire::write_icmp_echo_request(message, identifier, sequence, data), message.size());
  return ipv4_frame({.src = src, .dst = dst, .protocol = wire::kIcmp}, message);
}

}  // namespace synack::testing
