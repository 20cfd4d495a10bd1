// The virtio-net header a TUN device with IFF_VNET_HDR exchanges (link/tun/vnet_header),
// and the software TCP segmentation (link/tcp_segmentation) that is both the fallback of
// Link::send_segmented and the reference for what the kernel makes of a super-segment.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "link/tcp_segmentation.hpp"
#include "link/tun/vnet_header.hpp"
#include "wire/checksum.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"

namespace synack::link {
namespace {

constexpr std::uint32_t kSrc = 0xc6120002;  // 198.18.0.2
constexpr std::uint32_t kDst = 0xc6120001;  // 198.18.0.1

// A TCP/IPv4 frame as the stack hands it to send_segmented: the checksum field holding
// only the pseudo-header sum.
// (noipa: GCC 12 clones it for payload 0 and then warns, wrongly, of bounds.)
[[gnu::noipa]] std::vector<std::uint8_t> tcp_frame(std::size_t payload, wire::TcpFlags flags,
                                                   std::uint16_t ip_id = 7,
                                                   std::uint32_t seq = 1000) {
  std::vector<std::uint8_t> f(20 + 32 + payload);  // IPv4, TCP with timestamps, payload
  std::uint8_t next = 0;
  std::generate(f.begin() + 52, f.end(), [&] { return next += 7; });
  wire::TcpHeader h;
  h.src_port = 80;
  h.dst_port = 40000;
  h.seq = seq;
  h.ack = 5000;
  h.flags = flags;
  h.window = 1000;
  h.options.timestamps = wire::TcpTimestamps{1, 2};  // 12 option bytes, in every piece
  const std::size_t len = wire::write_tcp_in_place_for_offload(
      wire::MutableBytes(f.data() + 20, f.size() - 20), h, payload, kSrc, kDst);
  EXPECT_EQ(len, 32 + payload);
  wire::Ipv4Header ip;
  ip.src = wire::Ipv4Address(kSrc);
  ip.dst = wire::Ipv4Address(kDst);
  ip.protocol = wire::kTcp;
  ip.id = ip_id;
  wire::write_ipv4_header(wire::MutableBytes(f.data(), 20), ip, len);
  f.resize(20 + len);
  return f;
}

TEST(VnetHeader, EncodesLittleEndianInVirtioOrder) {
  const VnetHeader h{.flags = kVnetNeedsCsum,
                     .gso_type = kVnetGsoTcpv4,
                     .hdr_len = 52,
                     .gso_size = 1448,
                     .csum_start = 20,
                     .csum_offset = 16};
  const auto bytes = encode_vnet_header(h);
  const std::array<std::uint8_t, 10> expected{1, 1, 52, 0, 0xa8, 0x05, 20, 0, 16, 0};
  EXPECT_EQ(bytes, expected);
  EXPECT_EQ(decode_vnet_header(wire::Bytes(bytes.data(), bytes.size())), h);
}

TEST(VnetHeader, ChecksumIsTrustedWhenLeftToCompleteOrAlreadyChecked) {
  EXPECT_TRUE(vnet_checksum_trusted({.flags = kVnetNeedsCsum}));
  EXPECT_TRUE(vnet_checksum_trusted({.flags = kVnetDataValid}));
  EXPECT_FALSE(vnet_checksum_trusted({}));
  EXPECT_FALSE(vnet_checksum_trusted({.gso_type = kVnetGsoTcpv4, .gso_size = 1448}));
}

TEST(VnetHeader, ASuperSegmentAsksForTcpv4SegmentationAndTheChecksum) {
  const auto f = tcp_frame(3000, wire::TcpFlags::ack);
  EXPECT_EQ(vnet_header_for_tcp(f, 1448), (VnetHeader{.flags = kVnetNeedsCsum,
                                                      .gso_type = kVnetGsoTcpv4,
                                                      .hdr_len = 52,
                                                      .gso_size = 1448,
                                                      .csum_start = 20,
                                                      .csum_offset = 16}));
}

TEST(VnetHeader, OneSegmentAsksOnlyForTheChecksum) {
  for (const std::size_t payload : {std::size_t{0}, std::size_t{1448}}) {
    const auto f = tcp_frame(payload, wire::TcpFlags::ack);
    EXPECT_EQ(vnet_header_for_tcp(f, 1448), (VnetHeader{.flags = kVnetNeedsCsum,
                                                        .gso_type = kVnetGsoNone,
                                                        .hdr_len = 52,
                                                        .gso_size = 0,
                                                        .csum_start = 20,
                                                        .csum_offset = 16}))
        << payload;
  }
}

TEST(VnetHeader, AFrameThatIsNotTcpGetsNoOffload) {
  auto f = tcp_frame(100, wire::TcpFlags::ack);
  f[9] = 17;  // UDP
  EXPECT_EQ(vnet_header_for_tcp(f, 1448), VnetHeader{});
  EXPECT_EQ(vnet_header_for_tcp(wire::Bytes(f.data(), 19), 1448), VnetHeader{});
}

TEST(TcpSegmentation, PiecesCarryTheHeadersWithSequenceIdsFlagsAndChecksumsOfTheirOwn) {
  const auto f = tcp_frame(3000, wire::TcpFlags::ack | wire::TcpFlags::psh | wire::TcpFlags::fin);
  std::vector<std::vector<std::uint8_t>> pieces;
  const std::size_t n =
      segment_tcp_frame(f, 1448, [&](wire::Bytes p) { pieces.emplace_back(p.begin(), p.end()); });
  ASSERT_EQ(n, 3u);
  ASSERT_EQ(pieces.size(), 3u);
  const std::size_t lengths[] = {1448, 1448, 104};
  std::vector<std::uint8_t> joined;
  std::uint32_t seq = 1000;
  for (std::size_t i = 0; i < 3; ++i) {
    const auto ip = wire::Ipv4View::parse(pieces[i]);  // checks the header checksum
    ASSERT_TRUE(ip.has_value()) << i;
    EXPECT_EQ(ip->to_header().id, 7 + i);
    EXPECT_TRUE(wire::tcp_checksum_ok(kSrc, kDst, ip->payload())) << i;
    const auto tcp = wire::TcpView::parse(ip->payload());
    ASSERT_TRUE(tcp.has_value());
    const wire::TcpHeader h = tcp->to_header();
    EXPECT_EQ(h.seq, seq);
    EXPECT_EQ(h.ack, 5000u);
    EXPECT_EQ(h.flags, i == 2 ? wire::TcpFlags::ack | wire::TcpFlags::psh | wire::TcpFlags::fin
                              : wire::TcpFlags::ack);
    ASSERT_TRUE(h.options.timestamps.has_value());
    EXPECT_EQ(tcp->payload().size(), lengths[i]);
    joined.insert(joined.end(), tcp->payload().begin(), tcp->payload().end());
    seq += static_cast<std::uint32_t>(lengths[i]);
  }
  EXPECT_EQ(joined, std::vector<std::uint8_t>(f.begin() + 52, f.end()));
}

TEST(TcpSegmentation, OneSegmentIsEmittedOnceWithItsChecksumCompleted) {
  const auto f = tcp_frame(0, wire::TcpFlags::ack);
  std::vector<std::vector<std::uint8_t>> pieces;
  EXPECT_EQ(
      segment_tcp_frame(f, 1448, [&](wire::Bytes p) { pieces.emplace_back(p.begin(), p.end()); }),
      1u);
  ASSERT_EQ(pieces.size(), 1u);
  EXPECT_EQ(pieces[0].size(), f.size());
  EXPECT_TRUE(wire::tcp_checksum_ok(kSrc, kDst, wire::Bytes(pieces[0]).subspan(20)));
  // Only the checksum differs from what was handed over.
  auto expected = f;
  expected[36] = pieces[0][36];
  expected[37] = pieces[0][37];
  EXPECT_EQ(pieces[0], expected);
}

TEST(TcpSegmentation, TheCompletedChecksumIsThePseudoHeaderSumPlusTheSegment) {
  // What a device does with NEEDS_CSUM: sum from csum_start, field included, complement.
  auto f = tcp_frame(500, wire::TcpFlags::ack);
  wire::ChecksumAccumulator acc;
  acc.add(wire::Bytes(f).subspan(20));
  const std::uint16_t completed = acc.finish();
  f[36] = static_cast<std::uint8_t>(completed >> 8);
  f[37] = static_cast<std::uint8_t>(completed);
  EXPECT_TRUE(wire::tcp_checksum_ok(kSrc, kDst, wire::Bytes(f).subspan(20)));
}

TEST(TcpSegmentation, WhatIsNotTcpOverIpv4IsNotCut) {
  auto f = tcp_frame(3000, wire::TcpFlags::ack);
  int calls = 0;
  auto count = [&](wire::Bytes) { ++calls; };
  EXPECT_EQ(segment_tcp_frame(wire::Bytes(f.data(), 30), 1448, count), 0u);
  f[0] = 0x65;  // IPv6 version
  EXPECT_EQ(segment_tcp_frame(f, 1448, count), 0u);
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace synack::link
