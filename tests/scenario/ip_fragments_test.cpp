// The IP layer of a stack on the simulator, played against by a raw node: fragmented
// datagrams reassembled and handed up exactly as whole ones (UDP read whole, a SYN answered),
// overlapping fragments dropped, a partial datagram timed out with ICMP time exceeded,
// malformed IP options answered with a parameter problem, and the subnet's broadcast
// address refused as a source.
#include <gtest/gtest.h>

#include "stack/counters.hpp"
#include "support/flow.hpp"
#include "support/raw_node.hpp"
#include "wire/checksum.hpp"
#include "wire/icmp.hpp"
#include "wire/udp.hpp"

namespace synack::testing {
namespace {

using wire::TcpFlags;

constexpr Ipv4Address kRawAddr{198, 18, 0, 66};
constexpr std::uint16_t kUdpPort = 7;
constexpr std::uint16_t kListenPort = 80;

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

void fix_checksum(Frame& f) {
  const std::size_t header = std::size_t{f[0] & 0x0fu} * 4;
  wire::store_be16(&f[10], 0);
  wire::store_be16(&f[10], wire::internet_checksum(wire::Bytes(f.data(), header)));
}

// Octets [start, end) of the payload of `whole` (a frame with a 20-octet header) as a
// fragment with identification `id`.
Frame fragment(const Frame& whole, std::size_t start, std::size_t end, bool more,
               std::uint16_t id = 4242) {
  Frame f(whole.begin(), whole.begin() + 20);
  f.insert(f.end(), whole.begin() + 20 + static_cast<std::ptrdiff_t>(start),
           whole.begin() + 20 + static_cast<std::ptrdiff_t>(end));
  wire::store_be16(&f[2], static_cast<std::uint16_t>(f.size()));
  wire::store_be16(&f[4], id);
  wire::store_be16(&f[6], static_cast<std::uint16_t>((more ? 0x2000 : 0) | (start / 8)));
  fix_checksum(f);
  return f;
}

// `whole` with IP options inserted after its 20-octet header (a multiple of 4 octets).
Frame with_options(const Frame& whole, const Frame& options) {
  Frame f(whole.begin(), whole.begin() + 20);
  f.insert(f.end(), options.begin(), options.end());
  f.insert(f.end(), whole.begin() + 20, whole.end());
  f[0] = static_cast<std::uint8_t>(0x40 | ((20 + options.size()) / 4));
  wire::store_be16(&f[2], static_cast<std::uint16_t>(f.size()));
  fix_checksum(f);
  return f;
}

struct IpFragments : ::testing::Test {
  sim::World world{7, sim::ChannelParams{.delay = milliseconds(1)}};
  sim::Host& server = world.add_host(kServerAddr);
  RawNode raw{world.net(), kRawAddr};

  Frame syn(std::uint32_t seq, Ipv4Address src = kRawAddr) {
    wire::TcpHeader h;
    h.src_port = 40000;
    h.dst_port = kListenPort;
    h.seq = seq;
    h.flags = TcpFlags::syn;
    h.window = 8192;
    return tcp_frame(src, kServerAddr, h);
  }
  SocketId listen() {
    SocketId s = -1;
    EXPECT_FALSE(server.stack.tcp_socket(s));
    EXPECT_FALSE(server.stack.bind(s, {Ipv4Address(), kListenPort}));
    EXPECT_FALSE(server.stack.listen(s, 8));
    return s;
  }
  void send_all(const std::vector<Frame>& frames) {
    for (const Frame& f : frames) raw.send(f);
    world.run_for(milliseconds(20));
  }
  // The next frame back, parsed as IPv4 from the server to the raw node.
  std::optional<Frame> reply() {
    auto f = raw.pop();
    if (!f) return std::nullopt;
    auto ip = wire::Ipv4View::parse(*f);
    EXPECT_TRUE(ip);
    if (ip) {
      EXPECT_EQ(ip->src(), kServerAddr);
      EXPECT_EQ(ip->dst(), kRawAddr);
    }
    return f;
  }
};

TEST_F(IpFragments, AUdpDatagramOf3000BytesInThreeFragmentsIsReadWholeAndAnswered) {
  SocketId s = -1;
  ASSERT_FALSE(server.stack.udp_socket(s));
  ASSERT_FALSE(server.stack.bind(s, {Ipv4Address(), kUdpPort}));
  const std::string data = pattern(3000, 3);
  const Frame whole = udp_frame({kRawAddr, 5000}, {kServerAddr, kUdpPort}, bytes_of(data));
  ASSERT_EQ(whole.size(), 20u + 8u + 3000u);
  // Out of order: the last, the first, the middle.
  send_all({fragment(whole, 2960, 3008, false), fragment(whole, 0, 1480, true),
            fragment(whole, 1480, 2960, true)});

  std::string got(4000, '\0');
  std::size_t n = 0;
  Endpoint from;
  bool truncated = false;
  ASSERT_FALSE(server.stack.receive_from(
      s, std::span(reinterpret_cast<std::uint8_t*>(got.data()), got.size()), n, &from, &truncated));
  EXPECT_EQ(n, 3000u);
  EXPECT_TRUE(same_bytes(got.substr(0, n), data));
  EXPECT_EQ(from, (Endpoint{kRawAddr, 5000}));
  const Counters& c = server.stack.counters();
  EXPECT_EQ(c.ip.reasm_reqds, 3u);
  EXPECT_EQ(c.ip.reasm_oks, 1u);
  EXPECT_EQ(c.ip.reasm_fails, 0u);
  EXPECT_EQ(c.ip.in_delivers, 1u);
  EXPECT_EQ(c.udp.in_datagrams, 1u);
  EXPECT_EQ(server.stack.buffer_memory(), 0u) << "the datagram read, nothing is held";

  // We never fragment what we send: 3000 octets do not fit the 1500-octet MTU (EMSGSIZE,
  // as Linux with IP_PMTUDISC_DO); the first 1000 go back whole, with DF set.
  EXPECT_EQ(server.stack.send_to(s, bytes_of(data), from),
            std::make_error_code(std::errc::message_size));
  ASSERT_FALSE(server.stack.send_to(s, bytes_of(data).first(1000), from));
  world.run_for(milliseconds(20));
  const auto r = reply();
  ASSERT_TRUE(r);
  const auto ip = wire::Ipv4View::parse(*r);
  EXPECT_TRUE(ip->dont_fragment());
  EXPECT_FALSE(ip->is_fragment());
  auto udp = wire::UdpView::parse(ip->payload());
  ASSERT_TRUE(udp);
  EXPECT_EQ(udp->dst_port(), 5000);
  EXPECT_TRUE(
      same_bytes(std::string(udp->payload().begin(), udp->payload().end()), data.substr(0, 1000)));
}

TEST_F(IpFragments, AFragmentedPingIsEchoedWhole) {
  const std::string data = pattern(1200, 5);
  const Frame whole = icmp_echo_request(kRawAddr, kServerAddr, 9, 1, bytes_of(data));
  send_all({fragment(whole, 0, 608, true), fragment(whole, 608, 1208, false)});
  const auto r = reply();
  ASSERT_TRUE(r);
  const auto ip = wire::Ipv4View::parse(*r);
  auto icmp = wire::IcmpView::parse(ip->payload());
  ASSERT_TRUE(icmp);
  EXPECT_EQ(icmp->type(), wire::kIcmpEchoReply);
  EXPECT_EQ(icmp->identifier(), 9);
  EXPECT_TRUE(same_bytes(std::string(icmp->echo_data().begin(), icmp->echo_data().end()), data));
  EXPECT_FALSE(raw.pop());
}

TEST_F(IpFragments, AFragmentedSynIsAnsweredAsAWholeOne) {
  listen();
  const Frame whole = syn(1000);
  // RFC 1858: the first fragment holds 16 octets of TCP header, flags included.
  send_all({fragment(whole, 16, 20, false), fragment(whole, 0, 16, true)});
  const auto r = reply();
  ASSERT_TRUE(r);
  const auto ip = wire::Ipv4View::parse(*r);
  auto tcp = wire::TcpView::parse(ip->payload());
  ASSERT_TRUE(tcp);
  EXPECT_EQ(tcp->flags(), TcpFlags::syn | TcpFlags::ack);
  EXPECT_EQ(tcp->ack(), 1001u);
  EXPECT_EQ(tcp->dst_port(), 40000);
  EXPECT_EQ(server.stack.counters().tcp.passive_opens, 1u);
}

TEST_F(IpFragments, OverlappingAndTinyFragmentsAreDroppedUnanswered) {
  listen();
  const Frame whole = syn(1000);
  // Bytes 8..15 written twice, the second time with other flags: the datagram is dropped.
  Frame rewritten = syn(1000);
  rewritten[20 + 13] = 0x04;  // RST
  send_all({fragment(whole, 0, 16, true), fragment(rewritten, 8, 20, false)});
  // The tiny ones (RFC 1858 §3.2): 8 octets first, and a fragment at offset 8.
  send_all({fragment(whole, 0, 8, true, 1), fragment(whole, 8, 16, true, 1),
            fragment(whole, 16, 20, false, 1)});
  EXPECT_FALSE(raw.pop());
  const Counters& c = server.stack.counters();
  EXPECT_EQ(c.ip.reasm_reqds, 5u);
  EXPECT_EQ(c.ip.reasm_overlaps, 1u);
  EXPECT_EQ(c.ip.reasm_fails, 3u);  // the overlap and the two tiny ones
  EXPECT_EQ(c.ip.reasm_oks, 0u);
  EXPECT_EQ(c.tcp.passive_opens, 0u);
  // The last fragment of the tiny set is held, alone, until its time runs out: no first
  // fragment came, so nothing is sent (RFC 1122 §3.3.2).
  world.run_for(seconds(31));
  EXPECT_EQ(c.ip.reasm_timeouts, 1u);
  EXPECT_EQ(c.ip.reasm_fails, 4u);
  EXPECT_FALSE(raw.pop());
}

TEST_F(IpFragments, APartialDatagramTimesOutWithTimeExceededQuotingItsFirstFragment) {
  SocketId s = -1;
  ASSERT_FALSE(server.stack.udp_socket(s));
  ASSERT_FALSE(server.stack.bind(s, {Ipv4Address(), kUdpPort}));
  const Frame whole =
      udp_frame({kRawAddr, 5000}, {kServerAddr, kUdpPort}, bytes_of(pattern(2000, 1)));
  const Frame first = fragment(whole, 0, 1480, true);
  send_all({first});
  EXPECT_GT(server.stack.buffer_memory(), 1480u) << "held fragments count as buffer memory";
  EXPECT_EQ(server.stack.next_deadline(), kEpoch + seconds(30) + milliseconds(1));
  world.run_for(seconds(29));
  EXPECT_FALSE(raw.pop());
  world.run_for(seconds(2));
  const auto r = reply();
  ASSERT_TRUE(r);
  const auto ip = wire::Ipv4View::parse(*r);
  auto icmp = wire::IcmpView::parse(ip->payload());
  ASSERT_TRUE(icmp);
  EXPECT_EQ(icmp->type(), wire::kIcmpTimeExceeded);
  EXPECT_EQ(icmp->code(), wire::kIcmpReassemblyTimeExceeded);
  // The quote: the first fragment's header and payload, as much as 576 octets take.
  ASSERT_EQ(icmp->quoted().size(), wire::kIcmpMaxErrorQuote);
  EXPECT_TRUE(std::equal(icmp->quoted().begin(), icmp->quoted().end(), first.begin()));
  const Counters& c = server.stack.counters();
  EXPECT_EQ(c.ip.reasm_timeouts, 1u);
  EXPECT_EQ(c.ip.reasm_fails, 1u);
  EXPECT_EQ(c.icmp.out_time_excds, 1u);
  EXPECT_EQ(server.stack.buffer_memory(), 0u);
  EXPECT_EQ(server.stack.next_deadline(), std::nullopt);
}

TEST_F(IpFragments, MalformedIpOptionsGetAParameterProblemValidOnesAreIgnored) {
  listen();
  // Record route (7) with a length of 39, past the 4 octets of options: pointer 21.
  send_all({with_options(syn(1), {7, 39, 4, 0})});
  auto r = reply();
  ASSERT_TRUE(r);
  auto ip = wire::Ipv4View::parse(*r);
  auto icmp = wire::IcmpView::parse(ip->payload());
  ASSERT_TRUE(icmp);
  EXPECT_EQ(icmp->type(), wire::kIcmpParameterProblem);
  EXPECT_EQ(icmp->code(), 0);
  EXPECT_EQ(icmp->rest_of_header(), 21u << 24);
  EXPECT_EQ(server.stack.counters().ip.in_hdr_errors, 1u);
  EXPECT_EQ(server.stack.counters().icmp.out_parm_probs, 1u);
  // Length 0; and a non-first fragment with a bad option is dropped without a word.
  send_all({with_options(syn(2), {7, 0, 0, 0})});
  r = reply();
  ASSERT_TRUE(r);
  ip = wire::Ipv4View::parse(*r);
  EXPECT_EQ(wire::IcmpView::parse(ip->payload())->rest_of_header(), 21u << 24);
  send_all({with_options(fragment(syn(3), 16, 20, false), {1, 1, 1, 7})});
  EXPECT_FALSE(raw.pop());
  EXPECT_EQ(server.stack.counters().ip.in_hdr_errors, 3u);
  EXPECT_EQ(server.stack.counters().tcp.passive_opens, 0u);
  // Router alert and a NOP: the SYN is answered.
  send_all({with_options(syn(4), {148, 4, 0, 0, 1, 0, 0, 0})});
  r = reply();
  ASSERT_TRUE(r);
  ip = wire::Ipv4View::parse(*r);
  EXPECT_EQ(wire::TcpView::parse(ip->payload())->flags(), TcpFlags::syn | TcpFlags::ack);
  EXPECT_EQ(server.stack.counters().tcp.passive_opens, 1u);
}

TEST(IpSubnet, TheDirectedBroadcastOfTheConfiguredPrefixIsNoSource) {
  sim::World world{9, sim::ChannelParams{.delay = milliseconds(1)}};
  // 198.18.0.255 is an ordinary host on a /16, and the /16's broadcast is not.
  sim::Host& server = world.add_host(StackConfig{.address = kServerAddr, .prefix_length = 16});
  RawNode host_255{world.net(), Ipv4Address(198, 18, 0, 255)};
  RawNode broadcast{world.net(), Ipv4Address(198, 18, 255, 255)};
  for (RawNode* node : {&host_255, &broadcast}) {
    node->send(icmp_echo_request(node->address(), kServerAddr, 1, 1, bytes_of("ping")));
  }
  world.run_for(milliseconds(20));
  EXPECT_EQ(host_255.pending(), 1u);
  EXPECT_EQ(broadcast.pending(), 0u);
  EXPECT_EQ(server.stack.counters().ip.in_bad_source, 1u);
  EXPECT_EQ(server.stack.counters().icmp.out_echo_reps, 1u);
}

}  // namespace
}  // namespace synack::testing
