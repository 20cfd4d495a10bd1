// TCP segmentation offload (Link::send_segmented): on a link that cuts super-segments,
// new data goes as one segment of several full MSS, within exactly the windows and Nagle
// rules that would govern the segments it stands for; and super-segments received (a
// TUN device's coalesced 64 KiB) are taken as one segment, their trusted checksums unread.
#include <gtest/gtest.h>

#include "support/raw_peer.hpp"
#include "wire/checksum.hpp"
#include "wire/ipv4.hpp"

namespace synack::testing {
namespace {

constexpr std::size_t kMss = 1460;  // the peer's MSS option; no timestamps, so all payload

// A RawPeer whose link segments frames of up to 64 KiB.
struct TsoPeer {
  explicit TsoPeer(tcp::Config cfg = RawPeer::test_config()) : p(cfg) {
    p.link().segmented_frame_limit = 65535;
  }
  // The super-segments sent since the last call: (payload length, segment size), with
  // each frame's checksum field checked to hold the pseudo-header sum only.
  std::vector<std::pair<std::size_t, std::size_t>> take_segmented() {
    std::vector<std::pair<std::size_t, std::size_t>> out;
    for (const auto& s : p.link().segmented_log) {
      const auto ip = wire::Ipv4View::parse(s.frame);
      EXPECT_TRUE(ip.has_value());
      if (!ip) continue;
      const auto tcp = wire::TcpView::parse(ip->payload());
      EXPECT_TRUE(tcp.has_value());
      if (!tcp) continue;
      wire::ChecksumAccumulator pseudo;
      wire::add_ipv4_pseudo_header(pseudo, ip->src().to_u32(), ip->dst().to_u32(), wire::kTcp,
                                   static_cast<std::uint16_t>(ip->payload().size()));
      EXPECT_EQ(wire::load_be16(ip->payload().data() + 16), pseudo.sum())
          << "the checksum field holds the pseudo-header sum, left for the link to complete";
      out.emplace_back(tcp->payload().size(), s.segment_size);
    }
    p.link().segmented_log.clear();
    return out;
  }
  using Sizes = std::vector<std::pair<std::size_t, std::size_t>>;
  RawPeer p;
};

tcp::Config nodelay() {
  tcp::Config cfg = RawPeer::test_config();
  cfg.nodelay = true;
  return cfg;
}

TEST(Tso, FullSegmentsGoAsOneAndNagleHoldsTheShortLastOne) {
  TsoPeer t;
  const Opened c = t.p.accept_established();
  t.take_segmented();  // the handshake's segments went this way too, checksum offloaded
  const auto segs_before = t.p.counters().tcp.out_segs;
  ASSERT_FALSE(t.p.write(c.socket, std::string(10000, 'x')));
  EXPECT_EQ(t.take_segmented(), (TsoPeer::Sizes{{6 * kMss, kMss}}));
  EXPECT_EQ(t.p.counters().tcp.out_segs - segs_before, 6u);  // counted as the link sends them
  for (std::uint32_t i = 0; i < 6; ++i) {
    t.p.expect({.flags = ACK, .seq = c.iss + 1 + 1460 * i, .ack = 1001, .len = kMss});
  }
  t.p.expect_nothing();  // 1240 bytes left: a small segment with data in flight (Nagle)

  t.p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 1 + 6 * 1460});
  EXPECT_EQ(t.take_segmented(), (TsoPeer::Sizes{{1240, kMss}}));
  t.p.expect({.flags = PSH | ACK, .seq = c.iss + 1 + 6 * 1460, .len = 1240});
  t.p.expect_nothing();
}

TEST(Tso, WithNodelayTheLastShortSegmentGoesInTheSuperSegment) {
  TsoPeer t(nodelay());
  const Opened c = t.p.accept_established();
  t.take_segmented();
  ASSERT_FALSE(t.p.write(c.socket, std::string(10000, 'x')));
  EXPECT_EQ(t.take_segmented(), (TsoPeer::Sizes{{10000, kMss}}));
  for (std::uint32_t i = 0; i < 6; ++i) {
    t.p.expect({.flags = ACK, .seq = c.iss + 1 + 1460 * i, .len = kMss});
  }
  t.p.expect({.flags = PSH | ACK, .seq = c.iss + 1 + 6 * 1460, .len = 1240});  // PSH last only
  t.p.expect_nothing();
}

TEST(Tso, TheCongestionWindowBoundsTheSuperSegment) {
  TsoPeer t;
  const Opened c = t.p.accept_established();
  t.take_segmented();
  ASSERT_FALSE(t.p.write(c.socket, std::string(30000, 'x')));
  // RFC 6928's initial window: 10 segments, not one octet more.
  EXPECT_EQ(t.take_segmented(), (TsoPeer::Sizes{{10 * kMss, kMss}}));
  for (int i = 0; i < 10; ++i) t.p.expect({.flags = ACK, .len = kMss});
  t.p.expect_nothing();
}

TEST(Tso, ThePeersWindowBoundsTheSuperSegmentAndSenderSwsAvoidanceTheRest) {
  TsoPeer t;
  const Opened c = t.p.accept_established(1000, /*window=*/5000);
  t.take_segmented();
  ASSERT_FALSE(t.p.write(c.socket, std::string(30000, 'x')));
  // Three full segments fit; the 620 octets left of the window are no full segment, not
  // all there is, and under half the largest window offered (RFC 9293 §3.8.6.2.1).
  EXPECT_EQ(t.take_segmented(), (TsoPeer::Sizes{{3 * kMss, kMss}}));
  for (std::uint32_t i = 0; i < 3; ++i) {
    t.p.expect({.flags = ACK, .seq = c.iss + 1 + 1460 * i, .len = kMss});
  }
  t.p.expect_nothing();
}

TEST(Tso, TheFinGoesWithTheLastPiece) {
  TsoPeer t;
  const Opened c = t.p.accept_established();
  t.take_segmented();
  ASSERT_FALSE(t.p.write(c.socket, std::string(5000, 'x')));
  EXPECT_EQ(t.take_segmented(), (TsoPeer::Sizes{{3 * kMss, kMss}}));
  ASSERT_FALSE(t.p.shutdown(c.socket, Shutdown::write));
  EXPECT_EQ(t.take_segmented(), (TsoPeer::Sizes{{620, kMss}}));
  for (int i = 0; i < 3; ++i) t.p.expect({.flags = ACK, .len = kMss});
  t.p.expect({.flags = FIN | PSH | ACK, .seq = c.iss + 1 + 3 * 1460, .len = 620});
  t.p.expect_nothing();
}

TEST(Tso, ARetransmissionIsOneSegment) {
  TsoPeer t;
  const Opened c = t.p.accept_established();
  t.take_segmented();
  ASSERT_FALSE(t.p.write(c.socket, std::string(4 * kMss, 'x')));
  EXPECT_EQ(t.take_segmented(), (TsoPeer::Sizes{{4 * kMss, kMss}}));
  for (int i = 0; i < 4; ++i) t.p.expect({.flags = i == 3 ? PSH | ACK : ACK, .len = kMss});
  ASSERT_TRUE(t.p.advance_to_next_deadline());  // the retransmission timeout
  EXPECT_EQ(t.take_segmented(), (TsoPeer::Sizes{{kMss, kMss}}));
  t.p.expect({.flags = ACK, .seq = c.iss + 1, .len = kMss});
  t.p.expect_nothing();
}

TEST(Tso, WithoutTheCapabilityNothingIsSegmented) {
  RawPeer p;
  const Opened c = p.accept_established();
  ASSERT_FALSE(p.write(c.socket, std::string(10000, 'x')));
  EXPECT_TRUE(p.link().segmented_log.empty());
  for (int i = 0; i < 6; ++i) p.expect({.flags = ACK, .len = kMss});
  p.expect_nothing();
}

// --- Receiving ------------------------------------------------------------------------------

// A data segment from the peer as the kernel hands it over a TUN device with offloads: a
// super-segment whose checksum field holds only the pseudo-header sum.
std::vector<std::uint8_t> partial_checksum_frame(std::uint32_t seq, std::uint32_t ack,
                                                 const std::string& payload,
                                                 std::uint16_t dst_port) {
  wire::TcpHeader h;
  h.src_port = RawPeer::kRemotePort;
  h.dst_port = dst_port;
  h.seq = seq;
  h.ack = ack;
  h.flags = ACK;
  h.window = 65535;
  std::vector<std::uint8_t> f(20 + 20 + payload.size());
  std::copy(payload.begin(), payload.end(), f.begin() + 40);
  const std::size_t len = wire::write_tcp_in_place_for_offload(
      wire::MutableBytes(f.data() + 20, f.size() - 20), h, payload.size(),
      RawPeer::kRemote.to_u32(), RawPeer::kLocal.to_u32());
  EXPECT_EQ(len, 20 + payload.size());
  wire::Ipv4Header ip;
  ip.src = RawPeer::kRemote;
  ip.dst = RawPeer::kLocal;
  ip.protocol = wire::kTcp;
  EXPECT_EQ(wire::write_ipv4_header(wire::MutableBytes(f.data(), 20), ip, len), 20u);
  return f;
}

std::string pattern(std::size_t n, std::size_t from = 0) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (from + i) % 23);
  return s;
}

TEST(Tso, ATrustedSuperSegmentIsTakenWholeAndAckedAtOnce) {
  RawPeer p;
  const Opened c = p.accept_established();
  const std::string data = pattern(30000);
  p.link().push_incoming(partial_checksum_frame(1001, c.iss + 1, data, p.local_port()),
                         /*trusted=*/true);
  p.poll();
  // More than two full segments' worth: RFC 5681 §4.2's ACK goes at once, not delayed.
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 1001 + 30000, .window = 65535 - 30000});
  p.expect_nothing();
  std::string got;
  ASSERT_FALSE(p.read(c.socket, got));
  EXPECT_EQ(got, data);
  EXPECT_EQ(p.counters().tcp.bad_checksum, 0u);
}

TEST(Tso, TheSameFrameUntrustedFailsItsChecksum) {
  RawPeer p;
  const Opened c = p.accept_established();
  p.link().push_incoming(partial_checksum_frame(1001, c.iss + 1, pattern(3000), p.local_port()));
  p.poll();
  EXPECT_EQ(p.counters().tcp.bad_checksum, 1u);
  p.expect_nothing();
}

TEST(Tso, LargeSegmentsOutOfOrderAreSackedAndJoined) {
  RawPeer p;
  wire::TcpOptions syn;
  syn.mss = 1460;
  syn.sack_permitted = true;
  const Opened c = p.accept_established(1000, 65535, syn);
  const std::string data = pattern(40000);
  // The second half first: held above a hole, SACKed with a duplicate ACK at once.
  p.link().push_incoming(
      partial_checksum_frame(1001 + 20000, c.iss + 1, data.substr(20000), p.local_port()), true);
  p.poll();
  const Seen dup = p.expect({.flags = ACK, .ack = 1001});
  ASSERT_EQ(dup.header.options.sack_block_count, 1u);
  EXPECT_EQ(dup.header.options.sack_blocks[0].left, 1001u + 20000);
  EXPECT_EQ(dup.header.options.sack_blocks[0].right, 1001u + 40000);
  p.link().push_incoming(
      partial_checksum_frame(1001, c.iss + 1, data.substr(0, 20000), p.local_port()), true);
  p.poll();
  p.expect({.flags = ACK, .ack = 1001 + 40000});
  p.expect_nothing();
  std::string got;
  ASSERT_FALSE(p.read(c.socket, got));
  EXPECT_EQ(got, data);
}

}  // namespace
}  // namespace synack::testing
