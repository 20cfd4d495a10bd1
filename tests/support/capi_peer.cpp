#include "support/capi_peer.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>

#include "support/raw_node.hpp"
#include "wire/ipv4.hpp"

namespace synack::testing {

namespace {
constexpr long long kEpochUsecs = 1'767'225'600'000'000;  // virtual time 0 (synack.h)
}

sockaddr_in ipv4_address(Ipv4Address address, std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(address.to_u32());
  return a;
}

const sockaddr* as_sockaddr(const sockaddr_in& a) {
  return static_cast<const sockaddr*>(static_cast<const void*>(&a));
}

sockaddr* as_sockaddr(sockaddr_in& a) {
  return static_cast<sockaddr*>(static_cast<void*>(&a));
}

CapiPeer::CapiPeer(const char* flags) : host_(synack_host_new(flags)) {
  EXPECT_NE(host_, nullptr);
}

CapiPeer::~CapiPeer() {
  synack_host_free(host_);
}

void CapiPeer::inject(const In& in) {
  wire::TcpHeader h;
  h.src_port = in.src_port ? in.src_port : kRemotePort;
  h.dst_port = in.dst_port ? in.dst_port : port_;
  h.seq = in.seq;
  h.ack = in.ack;
  h.flags = in.flags;
  h.window = in.window;
  h.options = in.options;
  const Frame frame = tcp_frame(kRemote, kLocal, h, as_bytes(in.payload));
  EXPECT_EQ(synack_netdev_send(host_, frame.data(), frame.size()), 0);
}

void CapiPeer::inject_udp(std::uint16_t from_port, std::uint16_t to_port,
                          const std::string& payload) {
  const Frame frame = udp_frame({kRemote, from_port}, {kLocal, to_port}, as_bytes(payload));
  EXPECT_EQ(synack_netdev_send(host_, frame.data(), frame.size()), 0);
}

std::optional<std::vector<std::uint8_t>> CapiPeer::next_packet(long long* at_usecs) {
  std::vector<std::uint8_t> buf(65536);
  std::size_t count = buf.size();
  long long at = 0;
  EXPECT_EQ(synack_netdev_receive(host_, buf.data(), &count, &at), 0);
  if (count == 0) return std::nullopt;
  buf.resize(count);
  if (at_usecs) *at_usecs = at - kEpochUsecs;
  return buf;
}

std::optional<Seen> CapiPeer::next() {
  long long at = 0;
  while (auto packet = next_packet(&at)) {
    auto ip = wire::Ipv4View::parse(*packet);
    EXPECT_TRUE(ip.has_value()) << "the host sent a malformed IPv4 packet";
    if (!ip || ip->protocol() != wire::kTcp) continue;
    EXPECT_EQ(ip->src(), kLocal);
    EXPECT_EQ(ip->dst(), kRemote);
    auto tcp = wire::TcpView::parse(ip->payload());
    EXPECT_TRUE(tcp.has_value()) << "the host sent a malformed TCP segment";
    if (!tcp) continue;
    EXPECT_TRUE(wire::tcp_checksum_ok(ip->src().to_u32(), ip->dst().to_u32(), ip->payload()));
    Seen s;
    s.at = from_nanos(at * 1000);
    s.header = tcp->to_header();
    s.payload.assign(tcp->payload().begin(), tcp->payload().end());
    return s;
  }
  return std::nullopt;
}

Seen CapiPeer::expect(const Out& out) {
  return check_seen(next(), out);
}

void CapiPeer::expect_nothing() {
  if (auto s = next()) ADD_FAILURE() << "expected no segment, got " << s->describe();
}

int CapiPeer::listen(std::uint16_t port, int backlog) {
  const int fd = synack_socket(host_, AF_INET, SOCK_STREAM, 0);
  EXPECT_GE(fd, 0);
  const sockaddr_in any = ipv4_address(Ipv4Address(), port);
  EXPECT_EQ(synack_bind(host_, fd, as_sockaddr(any), sizeof any), 0);
  EXPECT_EQ(synack_listen(host_, fd, backlog), 0);
  port_ = port;
  return fd;
}

CapiPeer::Accepted CapiPeer::accept_established(std::uint16_t port, std::uint32_t peer_iss,
                                                Duration rtt) {
  Accepted a;
  a.listener = listen(port);
  a.peer_iss = peer_iss;
  wire::TcpOptions syn;
  syn.mss = 1460;
  inject({.flags = SYN, .seq = peer_iss, .options = syn});
  const Seen synack = expect({.flags = SYN | ACK, .ack = peer_iss + 1});
  a.iss = synack.header.seq;
  if (rtt > Duration{}) {
    synack_usleep(host_, static_cast<useconds_t>(rtt.count() / 1000));
  }
  inject({.flags = ACK, .seq = peer_iss + 1, .ack = a.iss + 1});
  a.fd = synack_accept(host_, a.listener, nullptr, nullptr);
  EXPECT_GE(a.fd, 0);
  return a;
}

}  // namespace synack::testing
