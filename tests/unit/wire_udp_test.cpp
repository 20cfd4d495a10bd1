// UDP view, checksum under the IPv4 pseudo-header and header builder (RFC 768), checked
// against a datagram captured from Linux (tests/support/linux_packets.hpp).
#include "wire/udp.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <ostream>
#include <random>
#include <vector>

#include "support/linux_packets.hpp"
#include "wire/checksum.hpp"
#include "wire/ipv4.hpp"

namespace synack::wire {

// Failing expectations print the error's name. Internal linkage: each test file has its own.
[[maybe_unused]] static void PrintTo(ParseError e, std::ostream* os) {
  *os << to_string(e);
}

namespace {

template <class T>
ParseError error_of(const Result<T, ParseError>& r) {
  EXPECT_FALSE(r.has_value()) << "parse succeeded where an error was expected";
  return r.has_value() ? ParseError{} : r.error();
}

std::vector<std::uint8_t> to_vector(Bytes b) {
  return {b.begin(), b.end()};
}

constexpr Ipv4Address kSrc(198, 18, 0, 1);
constexpr Ipv4Address kDst(198, 18, 0, 2);

// Header room, then `payload`, then write_udp_header over the whole.
std::vector<std::uint8_t> build_datagram(UdpHeader h, Bytes payload, Ipv4Address src = kSrc,
                                         Ipv4Address dst = kDst) {
  std::vector<std::uint8_t> d(8 + payload.size());
  std::copy(payload.begin(), payload.end(), d.begin() + 8);
  EXPECT_EQ(write_udp_header(d, h, src, dst), 8u);
  return d;
}

// The checksum computed the slow way: pseudo-header and datagram as one byte buffer, summed
// by RFC 1071's reference loop.
std::uint16_t reference_checksum(Ipv4Address src, Ipv4Address dst, Bytes datagram) {
  std::vector<std::uint8_t> all(12);
  src.store(&all[0]);
  dst.store(&all[4]);
  all[9] = kUdp;
  store_be16(&all[10], static_cast<std::uint16_t>(datagram.size()));
  all.insert(all.end(), datagram.begin(), datagram.end());
  store_be16(&all[12 + 6], 0);
  return internet_checksum_reference(all);
}

// The captured datagram, from its UDP header on.
Bytes linux_udp() {
  return Bytes(test::kLinuxUdpDatagram).subspan(20);
}

// --- Build, then parse ----------------------------------------------------------------------

TEST(UdpBuilder, BuildThenParseGivesEveryFieldBack) {
  const std::array<std::uint8_t, 5> payload = {'h', 'e', 'l', 'l', 'o'};
  const auto d = build_datagram({.src_port = 5353, .dst_port = 53}, payload);
  const auto udp = UdpView::parse(d);
  ASSERT_TRUE(udp);
  EXPECT_EQ(udp->src_port(), 5353);
  EXPECT_EQ(udp->dst_port(), 53);
  EXPECT_EQ(udp->length(), 13);
  EXPECT_EQ(udp->checksum(), reference_checksum(kSrc, kDst, d));
  EXPECT_NE(udp->checksum(), 0);
  EXPECT_EQ(to_vector(udp->payload()), to_vector(payload));
  EXPECT_EQ(udp->payload().data(), d.data() + 8);
  EXPECT_EQ(udp->header().size(), 8u);
  EXPECT_EQ(udp->datagram().size(), 13u);
  EXPECT_TRUE(udp_checksum_ok(*udp, kSrc, kDst));
  EXPECT_EQ(d[0], 0x14);  // 5353 big-endian
  EXPECT_EQ(d[1], 0xe9);
}

TEST(UdpBuilder, RandomDatagramsRoundTripWithTheReferenceChecksum) {
  std::mt19937 rng(11);
  for (int i = 0; i < 3000; ++i) {
    std::vector<std::uint8_t> payload(rng() % 600);
    for (auto& b : payload) b = static_cast<std::uint8_t>(rng());
    const Ipv4Address src(static_cast<std::uint32_t>(rng()));
    const Ipv4Address dst(static_cast<std::uint32_t>(rng()));
    const UdpHeader h{.src_port = static_cast<std::uint16_t>(rng()),
                      .dst_port = static_cast<std::uint16_t>(rng())};
    const auto d = build_datagram(h, payload, src, dst);
    const auto udp = UdpView::parse(d);
    ASSERT_TRUE(udp);
    EXPECT_EQ(udp->src_port(), h.src_port);
    EXPECT_EQ(udp->dst_port(), h.dst_port);
    EXPECT_EQ(udp->length(), d.size());
    const std::uint16_t expected = reference_checksum(src, dst, d);
    EXPECT_EQ(udp->checksum(), expected == 0 ? 0xffff : expected);
    EXPECT_TRUE(udp_checksum_ok(*udp, src, dst));
    EXPECT_FALSE(udp_checksum_ok(*udp, src, Ipv4Address(dst.to_u32() ^ 1)));
  }
}

TEST(UdpBuilder, AComputedZeroIsSentAsAllOnes) {
  // Choose the last payload word so that the data sums to -0: the checksum computes to 0,
  // which on the wire would mean "no checksum", so RFC 768 sends 0xFFFF instead.
  std::array<std::uint8_t, 8> payload = {1, 2, 3, 4, 5, 6, 0, 0};
  auto d = build_datagram({.src_port = 1000, .dst_port = 2000}, payload);
  const std::uint16_t first = load_be16(&d[6]);
  store_be16(&payload[6], first);  // sum + ~sum = -0
  d = build_datagram({.src_port = 1000, .dst_port = 2000}, payload);
  EXPECT_EQ(reference_checksum(kSrc, kDst, d), 0);
  EXPECT_EQ(load_be16(&d[6]), 0xffff);
  const auto udp = UdpView::parse(d);
  ASSERT_TRUE(udp);
  EXPECT_TRUE(udp_checksum_ok(*udp, kSrc, kDst));
}

TEST(UdpBuilder, RefusesDatagramsItCannotDescribe) {
  std::array<std::uint8_t, 7> short_buffer{};
  EXPECT_EQ(write_udp_header(short_buffer, {.src_port = 1, .dst_port = 2}, kSrc, kDst), 0u);
  EXPECT_EQ(short_buffer, decltype(short_buffer){});
  std::vector<std::uint8_t> too_long(65536);
  EXPECT_EQ(write_udp_header(too_long, {.src_port = 1, .dst_port = 2}, kSrc, kDst), 0u);
  too_long.resize(65535);
  EXPECT_EQ(write_udp_header(too_long, {.src_port = 1, .dst_port = 2}, kSrc, kDst), 8u);
  EXPECT_EQ(load_be16(&too_long[4]), 65535);
}

TEST(UdpBuilder, EmptyPayload) {
  const auto d = build_datagram({.src_port = 7, .dst_port = 7}, {});
  const auto udp = UdpView::parse(d);
  ASSERT_TRUE(udp);
  EXPECT_EQ(udp->length(), 8);
  EXPECT_TRUE(udp->payload().empty());
  EXPECT_TRUE(udp_checksum_ok(*udp, kSrc, kDst));
}

// --- What Linux sent --------------------------------------------------------------------------

TEST(UdpLinuxPackets, ParsesTheCapturedDatagram) {
  const auto ip = Ipv4View::parse(test::kLinuxUdpDatagram);
  ASSERT_TRUE(ip);
  ASSERT_EQ(ip->protocol(), kUdp);
  const auto udp = UdpView::parse(ip->payload());
  ASSERT_TRUE(udp);
  EXPECT_EQ(udp->src_port(), 60533);
  EXPECT_EQ(udp->dst_port(), 9);
  EXPECT_EQ(udp->length(), 25);
  EXPECT_EQ(udp->checksum(), 0xa1e0);
  const std::string_view text = "synack udp test!!";
  EXPECT_EQ(to_vector(udp->payload()), std::vector<std::uint8_t>(text.begin(), text.end()));
  EXPECT_TRUE(udp_checksum_ok(*udp, ip->src(), ip->dst()));
}

TEST(UdpLinuxPackets, OurChecksumIsLinuxs) {
  const Bytes d = linux_udp();
  EXPECT_EQ(reference_checksum(kSrc, kDst, d), 0xa1e0);
  auto zeroed = to_vector(d);
  store_be16(&zeroed[6], 0);
  EXPECT_EQ(transport_checksum(kSrc.to_u32(), kDst.to_u32(), kUdp, zeroed), 0xa1e0);
}

TEST(UdpLinuxPackets, BuilderReproducesTheDatagramByteForByte) {
  auto d = to_vector(linux_udp());
  std::fill(d.begin(), d.begin() + 8, std::uint8_t{0});
  EXPECT_EQ(write_udp_header(d, {.src_port = 60533, .dst_port = 9}, kSrc, kDst), 8u);
  EXPECT_EQ(d, to_vector(linux_udp()));
}

TEST(UdpLinuxPackets, EveryFlippedBitFailsTheChecksum) {
  const Bytes d = linux_udp();
  for (std::size_t byte = 0; byte < d.size(); ++byte) {
    if (byte == 4 || byte == 5) continue;  // the length field: see the next test
    for (int bit = 0; bit < 8; ++bit) {
      auto copy = to_vector(d);
      copy[byte] ^= static_cast<std::uint8_t>(1u << bit);
      const auto udp = UdpView::parse(copy);
      ASSERT_TRUE(udp);
      EXPECT_FALSE(udp_checksum_ok(*udp, kSrc, kDst)) << "byte " << byte << " bit " << bit;
    }
  }
}

TEST(UdpLinuxPackets, AShortenedLengthFieldFailsTheChecksum) {
  for (std::uint16_t length = 8; length < 25; ++length) {
    auto copy = to_vector(linux_udp());
    store_be16(&copy[4], length);
    const auto udp = UdpView::parse(copy);
    ASSERT_TRUE(udp);
    EXPECT_FALSE(udp_checksum_ok(*udp, kSrc, kDst)) << length;
  }
}

TEST(UdpLinuxPackets, ThePseudoHeaderBindsTheAddresses) {
  const auto udp = UdpView::parse(linux_udp());
  ASSERT_TRUE(udp);
  EXPECT_TRUE(udp_checksum_ok(*udp, kSrc, kDst));
  EXPECT_FALSE(udp_checksum_ok(*udp, kSrc, Ipv4Address(198, 18, 0, 3)));
  EXPECT_FALSE(udp_checksum_ok(*udp, Ipv4Address(198, 18, 1, 1), kDst));
  // Swapping source and destination leaves the one's complement sum unchanged: the
  // checksum cannot tell, which is why demux checks the addresses themselves.
  EXPECT_TRUE(udp_checksum_ok(*udp, kDst, kSrc));
}

// --- Checksum 0 and lengths -------------------------------------------------------------------

TEST(UdpView, ChecksumZeroMeansNoneAndIsAccepted) {
  auto d = to_vector(linux_udp());
  store_be16(&d[6], 0);
  d[10] ^= 0xff;  // damage the payload: with no checksum nobody can tell
  const auto udp = UdpView::parse(d);
  ASSERT_TRUE(udp);
  EXPECT_EQ(udp->checksum(), 0);
  EXPECT_TRUE(udp_checksum_ok(*udp, kSrc, kDst));
}

TEST(UdpView, BytesPastTheLengthFieldAreIgnoredAndNotSummed) {
  auto d = to_vector(linux_udp());
  d.insert(d.end(), {0xde, 0xad, 0xbe});  // the IP payload is longer than the UDP length
  const auto udp = UdpView::parse(d);
  ASSERT_TRUE(udp);
  EXPECT_EQ(udp->datagram().size(), 25u);
  EXPECT_EQ(udp->payload().size(), 17u);
  EXPECT_TRUE(udp_checksum_ok(*udp, kSrc, kDst));
}

// --- Every malformed case, with its exact error ---------------------------------------------

TEST(UdpViewErrors, ShorterThanEightBytesIsTruncated) {
  const Bytes d = linux_udp();
  for (std::size_t n = 0; n < 8; ++n)
    EXPECT_EQ(error_of(UdpView::parse(d.first(n))), ParseError::truncated) << n;
}

TEST(UdpViewErrors, LengthFieldBelowEightIsBadLength) {
  for (std::uint16_t length = 0; length < 8; ++length) {
    auto d = to_vector(linux_udp());
    store_be16(&d[4], length);
    EXPECT_EQ(error_of(UdpView::parse(d)), ParseError::bad_length) << length;
  }
}

TEST(UdpViewErrors, LengthFieldPastTheDatagramIsBadLength) {
  for (std::uint16_t length : std::array<std::uint16_t, 3>{26, 1000, 65535}) {
    auto d = to_vector(linux_udp());
    store_be16(&d[4], length);
    EXPECT_EQ(error_of(UdpView::parse(d)), ParseError::bad_length) << length;
  }
  // Cut the buffer instead: the length field (25) now runs past it.
  EXPECT_EQ(error_of(UdpView::parse(linux_udp().first(24))), ParseError::bad_length);
  EXPECT_EQ(error_of(UdpView::parse(linux_udp().first(8))), ParseError::bad_length);
}

TEST(UdpViewErrors, RandomBytesNeverReadOutOfBounds) {
  std::mt19937 rng(5);
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::uint8_t> b(rng() % 40);
    for (auto& x : b) x = static_cast<std::uint8_t>(rng());
    if (b.size() >= 8 && (rng() % 2)) store_be16(&b[4], static_cast<std::uint16_t>(rng() % 48));
    const auto udp = UdpView::parse(b);
    if (!udp) continue;
    EXPECT_LE(udp->datagram().size(), b.size());
    EXPECT_EQ(udp->datagram().size(), udp->length());
    EXPECT_EQ(udp->payload().size() + 8, udp->datagram().size());
    (void)udp_checksum_ok(*udp, kSrc, kDst);
  }
}

}  // namespace
}  // namespace synack::wire
