// The Internet checksum (RFC 1071), its pseudo-header form for TCP and UDP, and incremental
// update (RFC 1624): the fast path against the byte-at-a-time reference, the accumulator at
// every kind of split, and both against checksums Linux computed
// (tests/support/linux_packets.hpp).
#include "wire/checksum.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "support/linux_packets.hpp"

namespace synack::wire {
namespace {

std::vector<std::uint8_t> random_bytes(std::mt19937& rng, std::size_t n) {
  std::vector<std::uint8_t> b(n);
  for (auto& x : b) x = static_cast<std::uint8_t>(rng());
  return b;
}

std::vector<std::uint8_t> to_vector(Bytes b) {
  return {b.begin(), b.end()};
}

// The one's complement sum (not complemented) by the reference loop.
std::uint16_t reference_sum(Bytes b) {
  return static_cast<std::uint16_t>(~internet_checksum_reference(b));
}

// The pseudo-header (RFC 9293 §3.1) and the segment as one buffer, for the reference loop.
std::vector<std::uint8_t> with_pseudo_header(std::uint32_t src, std::uint32_t dst,
                                             std::uint8_t protocol, Bytes segment) {
  std::vector<std::uint8_t> all(12 + segment.size());
  store_be32(&all[0], src);
  store_be32(&all[4], dst);
  all[9] = protocol;
  store_be16(&all[10], static_cast<std::uint16_t>(segment.size()));
  std::copy(segment.begin(), segment.end(), all.begin() + 12);
  return all;
}

// --- RFC 1071 ---------------------------------------------------------------------------------

TEST(InternetChecksum, Rfc1071WorkedExample) {
  // RFC 1071 §3: the bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2.
  const std::array<std::uint8_t, 8> bytes = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  ChecksumAccumulator acc;
  acc.add(bytes);
  EXPECT_EQ(acc.sum(), 0xddf2);
  EXPECT_EQ(acc.finish(), 0x220d);
  EXPECT_EQ(internet_checksum(bytes), 0x220d);
  EXPECT_EQ(internet_checksum_reference(bytes), 0x220d);
  // §2(B): byte-swapped input gives the byte-swapped sum (f2dd).
  const std::array<std::uint8_t, 8> swapped = {0x01, 0x00, 0x03, 0xf2, 0xf5, 0xf4, 0xf7, 0xf6};
  EXPECT_EQ(reference_sum(swapped), 0xf2dd);
  EXPECT_EQ(static_cast<std::uint16_t>(~internet_checksum(swapped)), 0xf2dd);
}

TEST(InternetChecksum, EdgeValues) {
  EXPECT_EQ(internet_checksum({}), 0xffff);  // nothing sums to +0
  EXPECT_EQ(internet_checksum_reference({}), 0xffff);
  const std::array<std::uint8_t, 1> one = {0xab};  // an odd byte is the high half of a word
  EXPECT_EQ(internet_checksum(one), static_cast<std::uint16_t>(~0xab00));
  const std::array<std::uint8_t, 2> minus_zero = {0xff, 0xff};
  EXPECT_EQ(internet_checksum(minus_zero), 0x0000);
  // Every carry at once: 65535 bytes of 0xff, and of 0x00.
  const std::vector<std::uint8_t> ones(65535, 0xff);
  EXPECT_EQ(internet_checksum(ones), internet_checksum_reference(ones));
  const std::vector<std::uint8_t> zeros(65535, 0x00);
  EXPECT_EQ(internet_checksum(zeros), 0xffff);
}

TEST(InternetChecksum, FastPathEqualsReferenceAtEveryLengthAndAlignment) {
  std::mt19937 rng(1071);
  const auto storage = random_bytes(rng, 2048 + 8);
  for (std::size_t length = 0; length <= 2048; ++length) {
    for (std::size_t offset = 0; offset < 8; ++offset) {  // unaligned starts too
      const Bytes b = Bytes(storage).subspan(offset, length);
      ASSERT_EQ(internet_checksum(b), internet_checksum_reference(b))
          << "length " << length << " offset " << offset;
    }
  }
}

TEST(InternetChecksum, FastPathEqualsReferenceOnBiasedData) {
  // Mostly-0xff and mostly-0x00 data stress the carries in a way uniform bytes do not.
  std::mt19937 rng(1);
  for (int i = 0; i < 2000; ++i) {
    std::vector<std::uint8_t> b(rng() % 3000);
    const std::uint8_t base = (i % 2) ? 0xff : 0x00;
    for (auto& x : b) x = (rng() % 16) ? base : static_cast<std::uint8_t>(rng());
    ASSERT_EQ(internet_checksum(b), internet_checksum_reference(b)) << i;
  }
}

// --- The accumulator, split anywhere ----------------------------------------------------------

TEST(ChecksumAccumulator, EveryTwoWaySplitOfEveryLengthUpTo2048) {
  // Splits at odd positions leave a half word pending across add() calls.
  std::mt19937 rng(2);
  for (std::size_t length = 0; length <= 2048; ++length) {
    const auto b = random_bytes(rng, length);
    const std::uint16_t expected = reference_sum(b);
    for (std::size_t split = 0; split <= length; ++split) {
      ChecksumAccumulator acc;
      acc.add(Bytes(b).first(split));
      acc.add(Bytes(b).subspan(split));
      ASSERT_EQ(acc.sum(), expected) << "length " << length << " split " << split;
    }
  }
}

TEST(ChecksumAccumulator, AddingWhileCopyingSumsAndCopiesEveryLengthAndSplit) {
  // The copy is exact and the sum that of add(), whatever half word an earlier piece left.
  std::mt19937 rng(4);
  for (std::size_t length = 0; length <= 2048; length += (length < 600 ? 1 : 61)) {
    const auto b = random_bytes(rng, length);
    for (const std::size_t lead :
         {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{3}}) {
      const auto head = random_bytes(rng, lead);
      ChecksumAccumulator plain, copying;
      plain.add(head);
      copying.add(head);
      plain.add(b);
      std::vector<std::uint8_t> to(length + 1, 0xee);
      copying.add_copying(to.data(), b);
      ASSERT_EQ(copying.sum(), plain.sum()) << "length " << length << " lead " << lead;
      ASSERT_TRUE(std::equal(b.begin(), b.end(), to.begin())) << "length " << length;
      ASSERT_EQ(to[length], 0xee) << "nothing past the end";
    }
  }
}

TEST(ChecksumAccumulator, ThreeWaySplitsAtEveryParityOfEveryLengthUpTo2048) {
  // Two cut points, each at an odd or an even position: odd-odd hands a pending half word
  // through a middle piece and back.
  std::mt19937 rng(3);
  for (std::size_t length = 2; length <= 2048; ++length) {
    const auto b = random_bytes(rng, length);
    const std::uint16_t expected = reference_sum(b);
    for (int parities = 0; parities < 4; ++parities) {
      std::size_t first = (rng() % length) & ~std::size_t{1};
      std::size_t second = (rng() % length) & ~std::size_t{1};
      if (first > second) std::swap(first, second);
      first += static_cast<std::size_t>(parities & 1);
      second = std::max(first, second + static_cast<std::size_t>((parities >> 1) & 1));
      if (second > length) continue;
      ChecksumAccumulator acc;
      acc.add(Bytes(b).first(first));
      acc.add(Bytes(b).subspan(first, second - first));
      acc.add(Bytes(b).subspan(second));
      ASSERT_EQ(acc.sum(), expected) << "length " << length << " cuts " << first << ", " << second;
      ASSERT_EQ(acc.finish(), internet_checksum(b));
    }
  }
}

TEST(ChecksumAccumulator, ManySmallPiecesOfAnyLength) {
  std::mt19937 rng(4);
  for (int i = 0; i < 3000; ++i) {
    const auto b = random_bytes(rng, rng() % 1600);
    ChecksumAccumulator acc;
    std::size_t at = 0;
    while (at < b.size()) {
      const std::size_t piece = std::min<std::size_t>(rng() % 18, b.size() - at);
      acc.add(Bytes(b).subspan(at, piece));  // pieces of 0 bytes included
      at += piece;
    }
    ASSERT_EQ(acc.sum(), reference_sum(b)) << i;
  }
}

TEST(ChecksumAccumulator, WordsAddedAtOddOffsetsLandInTheRightHalves) {
  std::mt19937 rng(5);
  for (int i = 0; i < 5000; ++i) {
    ChecksumAccumulator acc;
    std::vector<std::uint8_t> flat;  // the same bytes, laid out for the reference loop
    for (int step = 0; step < 12; ++step) {
      switch (rng() % 3) {
        case 0: {
          const auto b = random_bytes(rng, rng() % 7);
          acc.add(b);
          flat.insert(flat.end(), b.begin(), b.end());
          break;
        }
        case 1: {
          const auto v = static_cast<std::uint16_t>(rng());
          acc.add_u16(v);
          flat.insert(flat.end(),
                      {static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)});
          break;
        }
        default: {
          const auto v = static_cast<std::uint32_t>(rng());
          acc.add_u32(v);
          std::array<std::uint8_t, 4> be{};
          store_be32(be.data(), v);
          flat.insert(flat.end(), be.begin(), be.end());
          break;
        }
      }
    }
    ASSERT_EQ(acc.sum(), reference_sum(flat)) << i;
  }
}

// --- Pseudo-header checksums ------------------------------------------------------------------

TEST(TransportChecksum, EqualsTheReferenceOverPseudoHeaderAndSegment) {
  std::mt19937 rng(6);
  for (int i = 0; i < 3000; ++i) {
    auto segment = random_bytes(rng, 8 + rng() % 1500);
    const auto src = static_cast<std::uint32_t>(rng());
    const auto dst = static_cast<std::uint32_t>(rng());
    const std::uint8_t protocol = (i % 2) ? 6 : 17;
    const std::size_t field = protocol == 6 ? 16 : 6;
    if (segment.size() < field + 2) continue;
    store_be16(&segment[field], 0);
    const std::uint16_t expected =
        internet_checksum_reference(with_pseudo_header(src, dst, protocol, segment));
    ASSERT_EQ(transport_checksum(src, dst, protocol, segment), expected) << i;
    store_be16(&segment[field], expected);
    ASSERT_TRUE(transport_checksum_ok(src, dst, protocol, segment)) << i;
    ASSERT_FALSE(transport_checksum_ok(src, dst ^ 0x100, protocol, segment)) << i;
  }
}

struct Segment {
  const char* name;
  Bytes packet;  // the whole IPv4 packet
  std::uint8_t protocol;
  std::size_t checksum_at;  // offset of the checksum field in the segment
  std::uint16_t linux_checksum;
};

const std::vector<Segment>& linux_segments() {
  static const std::vector<Segment> segments = {
      {"tcp_syn", test::kLinuxTcpSyn, 6, 16, 0x87a0},
      {"tcp_ack", test::kLinuxTcpAck, 6, 16, 0x9ce5},
      {"tcp_data_odd_length", test::kLinuxTcpData, 6, 16, 0x5906},
      {"udp_odd_length", test::kLinuxUdpDatagram, 17, 6, 0xa1e0},
  };
  return segments;
}

constexpr std::uint32_t kLinuxSrc = 0xc6120001;  // 198.18.0.1
constexpr std::uint32_t kLinuxDst = 0xc6120002;  // 198.18.0.2

TEST(TransportChecksumLinux, LinuxsSegmentsVerify) {
  for (const auto& s : linux_segments()) {
    const Bytes segment = s.packet.subspan(20);
    EXPECT_EQ(load_be16(&segment[s.checksum_at]), s.linux_checksum) << s.name;
    EXPECT_TRUE(transport_checksum_ok(kLinuxSrc, kLinuxDst, s.protocol, segment)) << s.name;
  }
}

TEST(TransportChecksumLinux, WeComputeWhatLinuxComputed) {
  for (const auto& s : linux_segments()) {
    auto segment = to_vector(s.packet.subspan(20));
    store_be16(&segment[s.checksum_at], 0);
    EXPECT_EQ(transport_checksum(kLinuxSrc, kLinuxDst, s.protocol, segment), s.linux_checksum)
        << s.name;
    EXPECT_EQ(
        internet_checksum_reference(with_pseudo_header(kLinuxSrc, kLinuxDst, s.protocol, segment)),
        s.linux_checksum)
        << s.name;
  }
}

TEST(TransportChecksumLinux, EveryFlippedBitFailsVerification) {
  for (const auto& s : linux_segments()) {
    const Bytes segment = s.packet.subspan(20);
    for (std::size_t byte = 0; byte < segment.size(); ++byte) {
      for (int bit = 0; bit < 8; ++bit) {
        auto copy = to_vector(segment);
        copy[byte] ^= static_cast<std::uint8_t>(1u << bit);
        ASSERT_FALSE(transport_checksum_ok(kLinuxSrc, kLinuxDst, s.protocol, copy))
            << s.name << " byte " << byte << " bit " << bit;
      }
    }
    // And the pseudo-header: other addresses, another protocol.
    EXPECT_FALSE(transport_checksum_ok(kLinuxSrc ^ 1, kLinuxDst, s.protocol, segment));
    EXPECT_FALSE(transport_checksum_ok(kLinuxSrc, kLinuxDst, s.protocol ^ 0x10, segment));
  }
}

TEST(TransportChecksumLinux, TheOddTcpSegmentPadsItsLastByteWithZero) {
  // "hello" is 5 bytes: the final 'o' is summed as the word 0x6f00.
  auto segment = to_vector(Bytes(test::kLinuxTcpData).subspan(20));
  ASSERT_EQ(segment.size() % 2, 1u);
  store_be16(&segment[16], 0);
  auto padded = segment;
  padded.push_back(0);
  ChecksumAccumulator acc;
  add_ipv4_pseudo_header(acc, kLinuxSrc, kLinuxDst, 6, static_cast<std::uint16_t>(segment.size()));
  acc.add(padded);
  EXPECT_EQ(acc.finish(), 0x5906);
}

// --- RFC 1624 incremental update --------------------------------------------------------------

// RFC 1141's eqn. 2, HC' = HC + m + ~m' in one's complement: what RFC 1624 corrects.
std::uint16_t rfc1141_update(std::uint16_t hc, std::uint16_t m, std::uint16_t m_new) {
  std::uint32_t s = std::uint32_t{hc} + m + static_cast<std::uint16_t>(~m_new);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<std::uint16_t>(s);
}

TEST(ChecksumUpdate, Rfc1624MinusZeroExample) {
  // RFC 1624 §3 and §4: the other header words sum to 0xCD7A; a field m = 0x5555 becomes
  // 0x3285, after which the header sums to -0 and the checksum from scratch is +0 (0x0000).
  // RFC 1141's equation gives -0 (0xFFFF), which no header summed from scratch can carry;
  // eqn. 3, HC' = ~(~HC + ~m + m'), gives 0x0000.
  std::array<std::uint8_t, 6> header = {0xcd, 0x7a, 0x55, 0x55, 0x00, 0x00};
  store_be16(&header[4], internet_checksum(header));
  ASSERT_EQ(load_be16(&header[4]), 0xdd2f);

  EXPECT_EQ(checksum_update16(0xdd2f, 0x5555, 0x3285), 0x0000);
  EXPECT_EQ(rfc1141_update(0xdd2f, 0x5555, 0x3285), 0xffff);  // the bug being avoided

  store_be16(&header[2], 0x3285);
  store_be16(&header[4], 0);
  EXPECT_EQ(internet_checksum(header), 0x0000);  // from scratch
  store_be16(&header[4], 0x0000);
  EXPECT_EQ(internet_checksum(header), 0x0000);  // and it verifies
}

TEST(ChecksumUpdate, AnUnchangedFieldLeavesTheChecksumAlone) {
  // RFC 1624 errata 4782 feared ~(~0x0000 + ~m + m) would come out 0xFFFF; with 16-bit
  // negation and end-around carry it does not (errata 5865).
  for (const std::uint16_t hc : std::array<std::uint16_t, 4>{0x0000, 0x0001, 0x1234, 0xfffe}) {
    for (const std::uint16_t m : std::array<std::uint16_t, 3>{0x0000, 0x5555, 0xffff}) {
      EXPECT_EQ(checksum_update16(hc, m, m), hc) << hc << " " << m;
    }
  }
}

TEST(ChecksumUpdate, TheOneCornerEqn3CannotKnow) {
  // Eqn. 3 always yields the sum's nonzero form, so its result is never 0xFFFF. Summed from
  // scratch, 0xFFFF is the checksum of data that is all zero, and only of that. No IPv4
  // header, and no TCP or UDP segment (the pseudo-header holds the protocol), is all zero,
  // so this never matters there; an ICMP echo reply with identifier, sequence and data all
  // zero is, and must be summed from scratch (write_icmp_echo_reply does).
  std::array<std::uint8_t, 4> data = {0x08, 0x00, 0x00, 0x00};  // type 8 code 0, checksum
  store_be16(&data[2], internet_checksum(data));
  const std::uint16_t updated = checksum_update16(load_be16(&data[2]), 0x0800, 0x0000);
  EXPECT_EQ(updated, 0x0000);
  data = {};
  EXPECT_EQ(internet_checksum(data), 0xffff);  // what recomputation gives
  EXPECT_EQ(checksum_update16(0xffff, 0x1234, 0x1234), 0x0000);
}

TEST(ChecksumUpdate, EqualsFullRecomputationForRandomFieldChanges) {
  std::mt19937 rng(1624);
  // Edge values come up often: zeros and all-ones are where +0 and -0 meet.
  const std::array<std::uint16_t, 6> edges = {0x0000, 0xffff, 0x0001, 0xfffe, 0x8000, 0x7fff};
  const auto pick = [&]() -> std::uint16_t {
    return (rng() % 3 == 0) ? edges[rng() % edges.size()] : static_cast<std::uint16_t>(rng());
  };
  for (int i = 0; i < 50000; ++i) {
    const std::size_t words = 3 + rng() % 40;
    std::vector<std::uint8_t> data(words * 2);
    for (std::size_t w = 0; w < words; ++w) store_be16(&data[2 * w], pick());
    // Word 0 is the checksum field and word 1 stays nonzero, as in every real header (IPv4:
    // version; TCP and UDP: the protocol in the pseudo-header). Only if all summed words
    // were zero would eqn. 3's +0 and the recomputed -0 differ.
    store_be16(&data[2], static_cast<std::uint16_t>(pick() | 0x0100));
    store_be16(&data[0], 0);
    store_be16(&data[0], internet_checksum(data));

    const std::size_t field = 2 * (2 + rng() % (words - 2));  // any word but 0 and 1
    const bool wide = field + 4 <= data.size() && (rng() % 2);
    std::uint16_t updated;
    if (wide) {
      const std::uint32_t old_value = load_be32(&data[field]);
      const std::uint32_t new_value = (std::uint32_t{pick()} << 16) | pick();
      store_be32(&data[field], new_value);
      updated = checksum_update32(load_be16(&data[0]), old_value, new_value);
    } else {
      const std::uint16_t old_value = load_be16(&data[field]);
      const std::uint16_t new_value = pick();
      store_be16(&data[field], new_value);
      updated = checksum_update16(load_be16(&data[0]), old_value, new_value);
    }
    store_be16(&data[0], 0);
    ASSERT_EQ(updated, internet_checksum(data)) << "case " << i;
    store_be16(&data[0], updated);
    ASSERT_EQ(internet_checksum(data), 0) << "case " << i;  // verifies
  }
}

TEST(ChecksumUpdate, ChainsOfUpdatesStayExact) {
  // A NAT rewrites address and port; a router decrements TTL hop after hop.
  std::mt19937 rng(7);
  auto segment = to_vector(Bytes(test::kLinuxTcpData).subspan(20));
  std::uint32_t src = kLinuxSrc;
  for (int i = 0; i < 1000; ++i) {
    const auto new_src = static_cast<std::uint32_t>(rng());
    const auto new_port = static_cast<std::uint16_t>(rng());
    std::uint16_t c = load_be16(&segment[16]);
    c = checksum_update32(c, src, new_src);  // the pseudo-header's source address
    c = checksum_update16(c, load_be16(&segment[0]), new_port);
    store_be16(&segment[0], new_port);
    store_be16(&segment[16], c);
    src = new_src;
    ASSERT_TRUE(transport_checksum_ok(src, kLinuxDst, 6, segment)) << i;
    auto zeroed = segment;
    store_be16(&zeroed[16], 0);
    ASSERT_EQ(c, transport_checksum(src, kLinuxDst, 6, zeroed)) << i;
  }
}

}  // namespace
}  // namespace synack::wire
