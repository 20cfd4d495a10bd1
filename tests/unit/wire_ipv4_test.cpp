// IPv4 addresses, the checked header view, the header builder and TTL decrement (RFC 791),
// checked against packets captured from Linux (tests/support/linux_packets.hpp).
#include "wire/ipv4.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "support/linux_packets.hpp"
#include "wire/checksum.hpp"

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

// Recomputes the header checksum after a test edits a header field on purpose.
void fix_header_checksum(std::span<std::uint8_t> packet) {
  const std::size_t header_length = std::size_t{static_cast<std::uint8_t>(packet[0] & 0x0f)} * 4;
  store_be16(&packet[10], 0);
  store_be16(&packet[10], internet_checksum(packet.first(header_length)));
}

struct Captured {
  const char* name;
  Bytes packet;
};

const std::vector<Captured>& captured_packets() {
  static const std::vector<Captured> packets = {
      {"icmp_echo_request", test::kLinuxIcmpEchoRequest},
      {"udp_datagram", test::kLinuxUdpDatagram},
      {"tcp_syn", test::kLinuxTcpSyn},
      {"tcp_ack", test::kLinuxTcpAck},
      {"tcp_data", test::kLinuxTcpData},
      {"icmp_port_unreachable", test::kLinuxIcmpPortUnreachable},
      {"icmp_echo_reply", test::kLinuxIcmpEchoReply},
      {"icmp_time_exceeded", test::kLinuxIcmpTimeExceeded},
      {"icmp_fragmentation_needed", test::kLinuxIcmpFragmentationNeeded},
  };
  return packets;
}

std::vector<std::uint8_t> to_vector(Bytes b) {
  return {b.begin(), b.end()};
}

// A 20-byte header from write_ipv4_header followed by `payload`.
std::vector<std::uint8_t> build_packet(const Ipv4Header& h, Bytes payload) {
  std::vector<std::uint8_t> packet(20 + payload.size());
  EXPECT_EQ(write_ipv4_header(packet, h, payload.size()), 20u);
  std::copy(payload.begin(), payload.end(), packet.begin() + 20);
  return packet;
}

const Ipv4Header kSample{.src = Ipv4Address(198, 18, 0, 1),
                         .dst = Ipv4Address(198, 18, 0, 2),
                         .protocol = kUdp,
                         .ttl = 17,
                         .id = 0xbeef,
                         .df = true,
                         .tos = 0xb9};  // DSCP 46 (EF), ECN 1 (ECT(1))
const std::array<std::uint8_t, 5> kSamplePayload = {'h', 'e', 'l', 'l', 'o'};

// --- Ipv4Address --------------------------------------------------------------------------

TEST(Ipv4Address, ConstexprFromOctetsIsHostOrder) {
  constexpr Ipv4Address a(198, 18, 0, 1);
  static_assert(a.to_u32() == 0xc6120001u);
  static_assert(a.octets() == std::array<std::uint8_t, 4>{198, 18, 0, 1});
  static_assert(Ipv4Address(0xc6120001u) == a);
  static_assert(Ipv4Address().is_unspecified());
  EXPECT_EQ(a.to_u32(), 0xc6120001u);
}

TEST(Ipv4Address, ParsesDottedQuads) {
  EXPECT_EQ(Ipv4Address::parse("198.18.0.1"), Ipv4Address(198, 18, 0, 1));
  EXPECT_EQ(Ipv4Address::parse("0.0.0.0"), Ipv4Address(0u));
  EXPECT_EQ(Ipv4Address::parse("255.255.255.255"), Ipv4Address(0xffffffffu));
  EXPECT_EQ(Ipv4Address::parse("10.0.100.9"), Ipv4Address(10, 0, 100, 9));
  EXPECT_EQ(Ipv4Address::parse("1.22.133.244"), Ipv4Address(1, 22, 133, 244));
}

TEST(Ipv4Address, RejectsEverythingButAStrictDottedQuad) {
  for (std::string_view text : {
           "",           "1",          "1.2",        "1.2.3",    "1.2.3.4.5",
           "1.2.3.",     ".1.2.3",     "1..2.3",     "1.2.3.4.", "256.1.1.1",
           "1.1.1.256",  "1.2.3.1000", "01.2.3.4",   "1.2.3.00", "1.2.3.04",
           " 1.2.3.4",   "1.2.3.4 ",   "1.2.3.4\n",  "+1.2.3.4", "1.2.3.-4",
           "0x1.2.3.4",  "a.b.c.d",    "1.2.3.4/24", "1,2,3,4",  "999.999.999.999",
           "1.2.3.4:80",
       }) {
    EXPECT_EQ(Ipv4Address::parse(text), std::nullopt) << '"' << text << '"';
  }
  EXPECT_EQ(Ipv4Address::parse(std::string_view("1.2.3.4\0", 8)), std::nullopt);
}

TEST(Ipv4Address, ToStringAndParseRoundTrip) {
  EXPECT_EQ(Ipv4Address(198, 18, 0, 1).to_string(), "198.18.0.1");
  EXPECT_EQ(Ipv4Address(0u).to_string(), "0.0.0.0");
  EXPECT_EQ(Ipv4Address(0xffffffffu).to_string(), "255.255.255.255");
  std::mt19937 rng(1);
  for (int i = 0; i < 10000; ++i) {
    const Ipv4Address a(static_cast<std::uint32_t>(rng()));
    EXPECT_EQ(Ipv4Address::parse(a.to_string()), a) << a;
  }
  std::ostringstream os;
  os << Ipv4Address(10, 1, 2, 3);
  EXPECT_EQ(os.str(), "10.1.2.3");
}

TEST(Ipv4Address, OrdersAsUnsignedIntegers) {
  EXPECT_LT(Ipv4Address(1, 2, 3, 4), Ipv4Address(1, 2, 3, 5));
  EXPECT_LT(Ipv4Address(127, 255, 255, 255), Ipv4Address(128, 0, 0, 0));  // not signed
  EXPECT_GT(Ipv4Address(255, 0, 0, 0), Ipv4Address(1, 255, 255, 255));
  EXPECT_NE(Ipv4Address(1, 2, 3, 4), Ipv4Address(4, 3, 2, 1));
  EXPECT_EQ(Ipv4Address(1, 2, 3, 4), Ipv4Address(0x01020304u));
}

TEST(Ipv4Address, LoadsAndStoresNetworkOrder) {
  const std::array<std::uint8_t, 4> wire = {198, 18, 0, 2};
  EXPECT_EQ(Ipv4Address::load(wire.data()), Ipv4Address(198, 18, 0, 2));
  std::array<std::uint8_t, 4> out{};
  Ipv4Address(10, 20, 30, 40).store(out.data());
  EXPECT_EQ(out, (std::array<std::uint8_t, 4>{10, 20, 30, 40}));
}

TEST(Ipv4Address, Classifies) {
  EXPECT_TRUE(Ipv4Address(0u).is_unspecified());
  EXPECT_FALSE(Ipv4Address(0, 0, 0, 1).is_unspecified());
  EXPECT_TRUE(Ipv4Address(255, 255, 255, 255).is_broadcast());
  EXPECT_FALSE(Ipv4Address(198, 18, 0, 255).is_broadcast());
  EXPECT_TRUE(Ipv4Address(127, 0, 0, 1).is_loopback());
  EXPECT_TRUE(Ipv4Address(127, 255, 0, 9).is_loopback());
  EXPECT_FALSE(Ipv4Address(128, 0, 0, 1).is_loopback());
  EXPECT_TRUE(Ipv4Address(224, 0, 0, 1).is_multicast());
  EXPECT_TRUE(Ipv4Address(239, 255, 255, 250).is_multicast());
  EXPECT_FALSE(Ipv4Address(240, 0, 0, 1).is_multicast());
  EXPECT_FALSE(Ipv4Address(223, 255, 255, 255).is_multicast());
}

// --- Build, then parse ----------------------------------------------------------------------

TEST(Ipv4Builder, BuildThenParseGivesEveryFieldBack) {
  const auto packet = build_packet(kSample, kSamplePayload);
  const auto ip = Ipv4View::parse(packet);
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->version(), 4);
  EXPECT_EQ(ip->ihl(), 5);
  EXPECT_EQ(ip->header_length(), 20u);
  EXPECT_EQ(ip->tos(), 0xb9);
  EXPECT_EQ(ip->dscp(), 46);
  EXPECT_EQ(ip->ecn(), 1);
  EXPECT_EQ(ip->total_length(), 25);
  EXPECT_EQ(ip->identification(), 0xbeef);
  EXPECT_TRUE(ip->dont_fragment());
  EXPECT_FALSE(ip->more_fragments());
  EXPECT_EQ(ip->fragment_offset(), 0);
  EXPECT_FALSE(ip->is_fragment());
  EXPECT_EQ(ip->ttl(), 17);
  EXPECT_EQ(ip->protocol(), kUdp);
  EXPECT_EQ(ip->src(), Ipv4Address(198, 18, 0, 1));
  EXPECT_EQ(ip->dst(), Ipv4Address(198, 18, 0, 2));
  EXPECT_TRUE(ip->options().empty());
  EXPECT_EQ(ip->header().data(), packet.data());
  EXPECT_EQ(ip->header().size(), 20u);
  EXPECT_EQ(to_vector(ip->payload()), to_vector(kSamplePayload));
  EXPECT_EQ(ip->payload().data(), packet.data() + 20);
  EXPECT_EQ(ip->packet().size(), 25u);
  // The exact bytes, checksum included (computed by hand with RFC 1071 §4.1's loop).
  const std::array<std::uint8_t, 20> expected = {0x45, 0xb9, 0x00, 0x19, 0xbe, 0xef, 0x40,
                                                 0x00, 0x11, 0x11, 0x00, 0x00, 0xc6, 0x12,
                                                 0x00, 0x01, 0xc6, 0x12, 0x00, 0x02};
  auto with_checksum = expected;
  store_be16(&with_checksum[10], internet_checksum_reference(expected));
  EXPECT_EQ(to_vector(ip->header()), to_vector(with_checksum));
  EXPECT_EQ(ip->header_checksum(), load_be16(&with_checksum[10]));
}

TEST(Ipv4Builder, ClearsDontFragmentWhenAsked) {
  Ipv4Header h = kSample;
  h.df = false;
  const auto packet = build_packet(h, kSamplePayload);
  const auto ip = Ipv4View::parse(packet);
  ASSERT_TRUE(ip);
  EXPECT_FALSE(ip->dont_fragment());
  EXPECT_EQ(load_be16(&packet[6]), 0);
}

TEST(Ipv4Builder, DefaultsAreTtl64DontFragmentTos0) {
  const Ipv4Header h{.src = Ipv4Address(1, 1, 1, 1), .dst = Ipv4Address(2, 2, 2, 2)};
  const auto packet = build_packet(h, {});
  const auto ip = Ipv4View::parse(packet);
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->ttl(), 64);
  EXPECT_TRUE(ip->dont_fragment());
  EXPECT_EQ(ip->tos(), 0);
  EXPECT_EQ(ip->identification(), 0);
  EXPECT_EQ(ip->total_length(), 20);
  EXPECT_TRUE(ip->payload().empty());
}

TEST(Ipv4Builder, RefusesAShortBufferAndTouchesNothing) {
  std::array<std::uint8_t, 19> out{};
  EXPECT_EQ(write_ipv4_header(out, kSample, 0), 0u);
  EXPECT_EQ(out, decltype(out){});
  EXPECT_EQ(write_ipv4_header(MutableBytes{}, kSample, 0), 0u);
}

TEST(Ipv4Builder, RefusesAPayloadWhoseTotalLengthOverflowsSixteenBits) {
  std::array<std::uint8_t, 20> out{};
  EXPECT_EQ(write_ipv4_header(out, kSample, 65516), 0u);
  EXPECT_EQ(out, decltype(out){});
  EXPECT_EQ(write_ipv4_header(out, kSample, 65515), 20u);
  EXPECT_EQ(load_be16(&out[2]), 65535);
}

TEST(Ipv4Builder, ReproducesEveryHeaderLinuxWrote) {
  // Rebuilding each captured header from its fields gives Linux's bytes, checksum included.
  for (const auto& [name, packet] : captured_packets()) {
    const auto ip = Ipv4View::parse(packet);
    ASSERT_TRUE(ip) << name;
    const Ipv4Header h = ip->to_header();
    std::array<std::uint8_t, 20> out{};
    ASSERT_EQ(write_ipv4_header(out, h, ip->payload().size()), 20u);
    EXPECT_EQ(to_vector(out), to_vector(packet.first(20))) << name;
  }
}

// --- Parsing what Linux sent ----------------------------------------------------------------

TEST(Ipv4LinuxPackets, AllParseAndTheirChecksumsAreOurs) {
  for (const auto& [name, packet] : captured_packets()) {
    const auto ip = Ipv4View::parse(packet);
    ASSERT_TRUE(ip) << name;
    EXPECT_EQ(ip->src(), Ipv4Address(198, 18, 0, 1)) << name;
    EXPECT_EQ(ip->dst(), Ipv4Address(198, 18, 0, 2)) << name;
    EXPECT_EQ(ip->total_length(), packet.size()) << name;
    std::vector<std::uint8_t> header = to_vector(packet.first(20));
    store_be16(&header[10], 0);
    EXPECT_EQ(ip->header_checksum(), internet_checksum(header)) << name;
    EXPECT_EQ(ip->header_checksum(), internet_checksum_reference(header)) << name;
  }
}

TEST(Ipv4LinuxPackets, FieldsOfTheUdpDatagram) {
  const auto ip = Ipv4View::parse(test::kLinuxUdpDatagram);
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->version(), 4);
  EXPECT_EQ(ip->header_length(), 20u);
  EXPECT_EQ(ip->tos(), 0);
  EXPECT_EQ(ip->total_length(), 45);
  EXPECT_EQ(ip->identification(), 0x63ea);
  EXPECT_TRUE(ip->dont_fragment());
  EXPECT_FALSE(ip->is_fragment());
  EXPECT_EQ(ip->ttl(), 64);
  EXPECT_EQ(ip->protocol(), kUdp);
  EXPECT_EQ(ip->header_checksum(), 0x4aae);
  EXPECT_EQ(ip->payload().size(), 25u);
}

TEST(Ipv4LinuxPackets, IcmpErrorsCarryTosInternetControl) {
  const auto ip = Ipv4View::parse(test::kLinuxIcmpPortUnreachable);
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->tos(), 0xc0);  // precedence 6, internetwork control
  EXPECT_EQ(ip->dscp(), 48);
  EXPECT_EQ(ip->ecn(), 0);
  EXPECT_FALSE(ip->dont_fragment());
  EXPECT_EQ(ip->protocol(), kIcmp);
}

TEST(Ipv4LinuxPackets, EveryFlippedHeaderBitIsBadChecksum) {
  // Bytes 0 and 2..3 hold version, IHL and total length, whose flips fail earlier checks;
  // every other header bit is covered only by the checksum.
  for (const auto& [name, packet] : captured_packets()) {
    for (std::size_t byte = 1; byte < 20; ++byte) {
      if (byte == 2 || byte == 3) continue;
      for (int bit = 0; bit < 8; ++bit) {
        auto copy = to_vector(packet);
        copy[byte] ^= static_cast<std::uint8_t>(1u << bit);
        EXPECT_EQ(error_of(Ipv4View::parse(copy)), ParseError::bad_checksum)
            << name << " byte " << byte << " bit " << bit;
      }
    }
  }
}

TEST(Ipv4LinuxPackets, PayloadBitsAreNotTheIpChecksumsBusiness) {
  auto copy = to_vector(test::kLinuxUdpDatagram);
  copy.back() ^= 0x01;
  EXPECT_TRUE(Ipv4View::parse(copy));
}

// --- Options, padding, fragments ------------------------------------------------------------

TEST(Ipv4View, ExposesOptionsBetweenTheFixedHeaderAndIhl) {
  // IHL 6: a Router Alert option (RFC 2113: 0x94 0x04 0x00 0x00), then 3 payload bytes.
  std::vector<std::uint8_t> packet =
      build_packet(kSample, std::array<std::uint8_t, 7>{0x94, 0x04, 0x00, 0x00, 1, 2, 3});
  packet[0] = 0x46;
  fix_header_checksum(packet);
  const auto ip = Ipv4View::parse(packet);
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->ihl(), 6);
  EXPECT_EQ(ip->header_length(), 24u);
  EXPECT_EQ(to_vector(ip->options()), (std::vector<std::uint8_t>{0x94, 0x04, 0x00, 0x00}));
  EXPECT_EQ(ip->header().size(), 24u);
  EXPECT_EQ(to_vector(ip->payload()), (std::vector<std::uint8_t>{1, 2, 3}));

  // The checksum covers the options.
  packet[21] ^= 0x01;
  EXPECT_EQ(error_of(Ipv4View::parse(packet)), ParseError::bad_checksum);
}

TEST(Ipv4View, AcceptsTheLargestHeaderOfSixtyBytes) {
  std::vector<std::uint8_t> packet = build_packet(kSample, std::vector<std::uint8_t>(40, 0x01));
  packet[0] = 0x4f;  // IHL 15: 40 bytes of options (NOPs), no payload
  fix_header_checksum(packet);
  const auto ip = Ipv4View::parse(packet);
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->header_length(), 60u);
  EXPECT_EQ(ip->options().size(), 40u);
  EXPECT_TRUE(ip->payload().empty());
}

TEST(Ipv4View, IgnoresBytesPastTheTotalLength) {
  // A 26-byte packet in a 60-byte minimum Ethernet frame payload: 34 bytes of padding.
  std::vector<std::uint8_t> frame = build_packet(kSample, std::array<std::uint8_t, 6>{1, 2, 3});
  frame.resize(60, 0xee);
  const auto ip = Ipv4View::parse(frame);
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->total_length(), 26);
  EXPECT_EQ(ip->packet().size(), 26u);
  EXPECT_EQ(to_vector(ip->payload()), (std::vector<std::uint8_t>{1, 2, 3, 0, 0, 0}));
}

TEST(Ipv4View, ReportsFragmentsWithoutRejectingThem) {
  struct Case {
    std::uint16_t flags_and_offset;
    bool df, mf;
    std::uint16_t offset_bytes;
    bool fragment;
  };
  for (const Case c : {
           Case{0x0000, false, false, 0, false}, Case{0x4000, true, false, 0, false},
           Case{0x2000, false, true, 0, true},       // first fragment
           Case{0x20b9, false, true, 1480, true},    // middle fragment: offset 185 * 8
           Case{0x00b9, false, false, 1480, true},   // last fragment
           Case{0x1fff, false, false, 65528, true},  // the largest offset
           Case{0x8000, false, false, 0, false},     // the reserved bit is not our business
       }) {
    std::vector<std::uint8_t> packet = build_packet(kSample, kSamplePayload);
    store_be16(&packet[6], c.flags_and_offset);
    fix_header_checksum(packet);
    const auto ip = Ipv4View::parse(packet);
    ASSERT_TRUE(ip) << c.flags_and_offset;
    EXPECT_EQ(ip->dont_fragment(), c.df) << c.flags_and_offset;
    EXPECT_EQ(ip->more_fragments(), c.mf) << c.flags_and_offset;
    EXPECT_EQ(ip->fragment_offset(), c.offset_bytes) << c.flags_and_offset;
    EXPECT_EQ(ip->is_fragment(), c.fragment) << c.flags_and_offset;
  }
}

// --- Every malformed case, with its exact error ---------------------------------------------

TEST(Ipv4ViewErrors, ShorterThanTwentyBytesIsTruncated) {
  const auto packet = build_packet(kSample, kSamplePayload);
  for (std::size_t n = 0; n < 20; ++n) {
    EXPECT_EQ(error_of(Ipv4View::parse(Bytes(packet).first(n))), ParseError::truncated) << n;
  }
  EXPECT_EQ(error_of(Ipv4View::parse(Bytes{})), ParseError::truncated);
}

TEST(Ipv4ViewErrors, VersionOtherThanFourIsBadVersion) {
  for (std::uint8_t version = 0; version < 16; ++version) {
    if (version == 4) continue;
    auto packet = build_packet(kSample, kSamplePayload);
    packet[0] = static_cast<std::uint8_t>(version << 4 | 5);
    fix_header_checksum(packet);
    EXPECT_EQ(error_of(Ipv4View::parse(packet)), ParseError::bad_version) << int{version};
  }
}

TEST(Ipv4ViewErrors, IhlBelowFiveIsBadIhl) {
  for (std::uint8_t ihl = 0; ihl < 5; ++ihl) {
    auto packet = build_packet(kSample, kSamplePayload);
    packet[0] = static_cast<std::uint8_t>(0x40 | ihl);
    EXPECT_EQ(error_of(Ipv4View::parse(packet)), ParseError::bad_ihl) << int{ihl};
  }
}

TEST(Ipv4ViewErrors, HeaderLongerThanTheBufferIsBadIhl) {
  auto packet = build_packet(kSample, std::array<std::uint8_t, 3>{});  // 23 bytes
  packet[0] = 0x46;                                                    // header of 24
  store_be16(&packet[2], 24);
  EXPECT_EQ(error_of(Ipv4View::parse(packet)), ParseError::bad_ihl);
  packet[0] = 0x4f;  // header of 60
  EXPECT_EQ(error_of(Ipv4View::parse(packet)), ParseError::bad_ihl);
}

TEST(Ipv4ViewErrors, TotalLengthBelowTheHeaderLengthIsBadTotalLength) {
  for (std::uint16_t total : std::array<std::uint16_t, 3>{0, 1, 19}) {
    auto packet = build_packet(kSample, kSamplePayload);
    store_be16(&packet[2], total);
    fix_header_checksum(packet);
    EXPECT_EQ(error_of(Ipv4View::parse(packet)), ParseError::bad_total_length) << total;
  }
  // With options: a 24-byte header in a packet claiming 20 bytes in all.
  auto packet = build_packet(kSample, std::array<std::uint8_t, 4>{1, 1, 1, 1});
  packet[0] = 0x46;
  store_be16(&packet[2], 20);
  fix_header_checksum(packet);
  EXPECT_EQ(error_of(Ipv4View::parse(packet)), ParseError::bad_total_length);
}

TEST(Ipv4ViewErrors, TotalLengthPastTheBufferIsBadTotalLength) {
  for (std::uint16_t total : std::array<std::uint16_t, 3>{26, 1500, 65535}) {
    auto packet = build_packet(kSample, kSamplePayload);  // 25 bytes
    store_be16(&packet[2], total);
    fix_header_checksum(packet);
    EXPECT_EQ(error_of(Ipv4View::parse(packet)), ParseError::bad_total_length) << total;
  }
}

TEST(Ipv4ViewErrors, ChecksumMismatchIsBadChecksum) {
  auto packet = build_packet(kSample, kSamplePayload);
  packet[10] ^= 0x80;
  EXPECT_EQ(error_of(Ipv4View::parse(packet)), ParseError::bad_checksum);
  // An all-zero checksum field is no exemption for IPv4.
  packet = build_packet(kSample, kSamplePayload);
  store_be16(&packet[10], 0);
  EXPECT_EQ(error_of(Ipv4View::parse(packet)), ParseError::bad_checksum);
}

TEST(Ipv4ViewErrors, ChecksInTheDocumentedOrder) {
  // Several faults at once: the first check in the documented order names the error.
  auto packet = build_packet(kSample, kSamplePayload);
  packet[0] = 0x63;              // version 6 and IHL 3
  store_be16(&packet[2], 9999);  // total length past the buffer
  packet[8] ^= 0x01;             // TTL changed under the checksum
  EXPECT_EQ(error_of(Ipv4View::parse(Bytes(packet).first(19))), ParseError::truncated);
  EXPECT_EQ(error_of(Ipv4View::parse(packet)), ParseError::bad_version);
  packet[0] = 0x43;
  EXPECT_EQ(error_of(Ipv4View::parse(packet)), ParseError::bad_ihl);
  packet[0] = 0x45;
  EXPECT_EQ(error_of(Ipv4View::parse(packet)), ParseError::bad_total_length);
  store_be16(&packet[2], 25);
  EXPECT_EQ(error_of(Ipv4View::parse(packet)), ParseError::bad_checksum);
}

TEST(Ipv4ViewErrors, RandomBytesNeverReadOutOfBounds) {
  // Whatever the bytes, parse returns a view inside the buffer or an error. (Run under
  // SYNACK_SANITIZE to have AddressSanitizer watch every read.)
  std::mt19937 rng(7);
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::uint8_t> b(rng() % 80);
    for (auto& x : b) x = static_cast<std::uint8_t>(rng());
    if (!b.empty() && (rng() % 2)) b[0] = static_cast<std::uint8_t>(0x40 | (b[0] & 0x0f));
    const std::size_t ihl_bytes =
        b.empty() ? 0 : std::size_t{static_cast<std::uint8_t>(b[0] & 0x0f)} * 4;
    if (b.size() >= 20 && ihl_bytes <= b.size() && (rng() % 2)) {
      // Make it past the length and checksum checks now and then.
      store_be16(&b[2], static_cast<std::uint16_t>(b.size() - rng() % (b.size() - ihl_bytes + 1)));
      fix_header_checksum(b);
    }
    const auto ip = Ipv4View::parse(b);
    if (!ip) continue;
    ++parsed;
    EXPECT_GE(ip->packet().data(), b.data());
    EXPECT_LE(ip->packet().data() + ip->packet().size(), b.data() + b.size());
    EXPECT_LE(ip->header_length(), ip->packet().size());
    EXPECT_EQ(ip->options().size() + 20 + ip->payload().size(), ip->packet().size());
  }
  EXPECT_GT(parsed, 500);
}

// --- Quoted headers (inside ICMP errors) ------------------------------------------------------

TEST(Ipv4ViewQuoted, AcceptsAQuoteCutShortOfTheTotalLength) {
  // The quote in Linux's fragmentation-needed error: a 1020-byte datagram cut at 548 bytes.
  const Bytes quote = Bytes(test::kLinuxIcmpFragmentationNeeded).subspan(28);
  EXPECT_EQ(error_of(Ipv4View::parse(quote)), ParseError::bad_total_length);
  const auto ip = Ipv4View::parse_quoted(quote);
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->total_length(), 1020);
  EXPECT_EQ(ip->packet().size(), 548u);
  EXPECT_EQ(ip->payload().size(), 528u);
  EXPECT_EQ(ip->identification(), 0x6161);
  EXPECT_EQ(ip->src(), Ipv4Address(198, 18, 0, 2));
  EXPECT_EQ(ip->dst(), Ipv4Address(198, 18, 1, 5));
  EXPECT_EQ(ip->protocol(), kUdp);
}

TEST(Ipv4ViewQuoted, DoesNotVerifyTheChecksumButCutsAtTheTotalLength) {
  auto packet = build_packet(kSample, kSamplePayload);
  packet[10] ^= 0xff;
  packet.resize(40, 0xee);
  const auto ip = Ipv4View::parse_quoted(packet);
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->packet().size(), 25u);
  EXPECT_EQ(to_vector(ip->payload()), to_vector(kSamplePayload));
}

TEST(Ipv4ViewQuoted, ErrorsForWhatCannotBeAQuote) {
  const auto packet = build_packet(kSample, std::vector<std::uint8_t>(100, 7));  // 120 bytes
  for (std::size_t n = 0; n < 20; ++n)
    EXPECT_EQ(error_of(Ipv4View::parse_quoted(Bytes(packet).first(n))), ParseError::truncated);
  // Fewer than the 8 payload bytes RFC 792 promises.
  for (std::size_t n = 20; n < 28; ++n)
    EXPECT_EQ(error_of(Ipv4View::parse_quoted(Bytes(packet).first(n))), ParseError::truncated);
  EXPECT_TRUE(Ipv4View::parse_quoted(Bytes(packet).first(28)));

  auto bad = packet;
  bad[0] = 0x65;
  EXPECT_EQ(error_of(Ipv4View::parse_quoted(bad)), ParseError::bad_version);
  bad[0] = 0x44;
  EXPECT_EQ(error_of(Ipv4View::parse_quoted(bad)), ParseError::bad_ihl);
  bad[0] = 0x4f;  // 60-byte header in a 40-byte quote
  EXPECT_EQ(error_of(Ipv4View::parse_quoted(Bytes(bad).first(40))), ParseError::bad_ihl);
  bad[0] = 0x45;
  store_be16(&bad[2], 19);
  EXPECT_EQ(error_of(Ipv4View::parse_quoted(bad)), ParseError::bad_total_length);
}

TEST(Ipv4ViewQuoted, AShortOriginalIsQuotedWhole) {
  // A datagram with 3 payload bytes has no 8 to quote: its whole 23 bytes will do.
  const auto packet = build_packet(kSample, std::array<std::uint8_t, 3>{1, 2, 3});
  const auto ip = Ipv4View::parse_quoted(packet);
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->payload().size(), 3u);
  EXPECT_EQ(error_of(Ipv4View::parse_quoted(Bytes(packet).first(22))), ParseError::truncated);
}

// --- TTL decrement with an incremental checksum -----------------------------------------------

TEST(Ipv4DecrementTtl, PatchedChecksumEqualsFullRecomputation) {
  for (const auto& [name, packet] : captured_packets()) {
    auto copy = to_vector(packet);
    ASSERT_TRUE(ipv4_decrement_ttl(copy)) << name;
    EXPECT_EQ(copy[8], packet[8] - 1) << name;
    auto recomputed = copy;
    fix_header_checksum(recomputed);
    EXPECT_EQ(copy, recomputed) << name;
    EXPECT_TRUE(Ipv4View::parse(copy)) << name;
  }
  std::mt19937 rng(3);
  for (int i = 0; i < 20000; ++i) {
    Ipv4Header h{.src = Ipv4Address(static_cast<std::uint32_t>(rng())),
                 .dst = Ipv4Address(static_cast<std::uint32_t>(rng())),
                 .protocol = static_cast<std::uint8_t>(rng()),
                 .ttl = static_cast<std::uint8_t>(1 + rng() % 255),
                 .id = static_cast<std::uint16_t>(rng()),
                 .df = (rng() % 2) == 0,
                 .tos = static_cast<std::uint8_t>(rng())};
    auto packet = build_packet(h, {});
    ASSERT_TRUE(ipv4_decrement_ttl(packet));
    auto recomputed = packet;
    fix_header_checksum(recomputed);
    ASSERT_EQ(packet, recomputed) << i;
  }
}

TEST(Ipv4DecrementTtl, StopsAtZeroAndRefusesShortHeaders) {
  Ipv4Header h = kSample;
  h.ttl = 1;
  auto packet = build_packet(h, {});
  EXPECT_TRUE(ipv4_decrement_ttl(packet));
  EXPECT_EQ(packet[8], 0);
  EXPECT_TRUE(Ipv4View::parse(packet));
  const auto before = packet;
  EXPECT_FALSE(ipv4_decrement_ttl(packet));
  EXPECT_EQ(packet, before);
  std::array<std::uint8_t, 19> short_header{};
  short_header[8] = 5;
  EXPECT_FALSE(ipv4_decrement_ttl(short_header));
  EXPECT_EQ(short_header[8], 5);
}

}  // namespace
}  // namespace synack::wire
