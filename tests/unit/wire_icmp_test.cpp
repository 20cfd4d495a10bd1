// ICMP view and builders (RFC 792, RFC 1191, RFC 1122 §3.2.2), checked against messages
// captured from Linux (tests/support/linux_packets.hpp): our builders reproduce the kernel's
// echo request, echo reply, port unreachable, time exceeded and fragmentation needed.
#include "wire/icmp.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <ostream>
#include <random>
#include <string_view>
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

// The ICMP message inside a captured packet (all have 20-byte IPv4 headers).
Bytes icmp_of(Bytes packet) {
  return packet.subspan(20);
}

void fix_icmp_checksum(std::span<std::uint8_t> message) {
  store_be16(&message[2], 0);
  store_be16(&message[2], internet_checksum(message));
}

struct Captured {
  const char* name;
  Bytes packet;
};

const std::vector<Captured>& linux_icmp_packets() {
  static const std::vector<Captured> packets = {
      {"echo_request", test::kLinuxIcmpEchoRequest},
      {"echo_reply", test::kLinuxIcmpEchoReply},
      {"port_unreachable", test::kLinuxIcmpPortUnreachable},
      {"time_exceeded", test::kLinuxIcmpTimeExceeded},
      {"fragmentation_needed", test::kLinuxIcmpFragmentationNeeded},
  };
  return packets;
}

// --- Echo -------------------------------------------------------------------------------------

TEST(IcmpLinuxPackets, ParsesTheEchoRequestFromAPingSocket) {
  const auto ip = Ipv4View::parse(test::kLinuxIcmpEchoRequest);
  ASSERT_TRUE(ip);
  ASSERT_EQ(ip->protocol(), kIcmp);
  const auto icmp = IcmpView::parse(ip->payload());
  ASSERT_TRUE(icmp);
  EXPECT_EQ(icmp->type(), kIcmpEchoRequest);
  EXPECT_EQ(icmp->code(), 0);
  EXPECT_EQ(icmp->checksum(), 0xe5e8);
  EXPECT_TRUE(icmp->is_echo());
  EXPECT_FALSE(icmp->is_error());
  EXPECT_EQ(icmp->identifier(), 0x5941);
  EXPECT_EQ(icmp->sequence(), 1);
  EXPECT_EQ(icmp->rest_of_header(), 0x59410001u);
  ASSERT_EQ(icmp->echo_data().size(), 56u);
  for (std::size_t i = 0; i < 56; ++i) EXPECT_EQ(icmp->echo_data()[i], 0x10 + i);
  EXPECT_EQ(icmp->message().size(), 64u);
}

TEST(IcmpLinuxPackets, OurChecksumsAreLinuxs) {
  for (const auto& [name, packet] : linux_icmp_packets()) {
    auto message = to_vector(icmp_of(packet));
    const std::uint16_t linux_checksum = load_be16(&message[2]);
    store_be16(&message[2], 0);
    EXPECT_EQ(internet_checksum(message), linux_checksum) << name;
    EXPECT_EQ(internet_checksum_reference(message), linux_checksum) << name;
  }
}

TEST(IcmpLinuxPackets, EveryFlippedBitIsBadChecksum) {
  for (const auto& [name, packet] : linux_icmp_packets()) {
    const Bytes message = icmp_of(packet);
    ASSERT_TRUE(IcmpView::parse(message)) << name;
    for (std::size_t byte = 0; byte < message.size(); ++byte) {
      for (int bit = 0; bit < 8; ++bit) {
        auto copy = to_vector(message);
        copy[byte] ^= static_cast<std::uint8_t>(1u << bit);
        ASSERT_EQ(error_of(IcmpView::parse(copy)), ParseError::bad_checksum)
            << name << " byte " << byte << " bit " << bit;
      }
    }
  }
}

TEST(IcmpBuilder, EchoRequestReproducesThePingSocketsMessage) {
  const auto linux_request = IcmpView::parse(icmp_of(test::kLinuxIcmpEchoRequest));
  ASSERT_TRUE(linux_request);
  std::array<std::uint8_t, 64> out{};
  ASSERT_EQ(write_icmp_echo_request(out, 0x5941, 1, linux_request->echo_data()), 64u);
  EXPECT_EQ(to_vector(out), to_vector(linux_request->message()));
}

TEST(IcmpBuilder, EchoReplyIsWhatLinuxAnswered) {
  const auto ip = Ipv4View::parse(test::kInjectedIcmpEchoRequest);
  ASSERT_TRUE(ip);
  const auto request = IcmpView::parse(ip->payload());
  ASSERT_TRUE(request);
  std::array<std::uint8_t, 64> out{};
  const std::size_t n = write_icmp_echo_reply(out, *request);
  ASSERT_EQ(n, 20u);
  EXPECT_EQ(to_vector(Bytes(out).first(n)), to_vector(icmp_of(test::kLinuxIcmpEchoReply)));

  const auto reply = IcmpView::parse(Bytes(out).first(n));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->type(), kIcmpEchoReply);
  EXPECT_EQ(reply->code(), 0);
  EXPECT_EQ(reply->checksum(), 0x6d69);
  EXPECT_EQ(reply->identifier(), 0x5a5a);
  EXPECT_EQ(reply->sequence(), 7);
  const std::string_view data = "synack echo!";
  EXPECT_EQ(to_vector(reply->echo_data()), std::vector<std::uint8_t>(data.begin(), data.end()));
}

TEST(IcmpBuilder, EchoReplyCanBeWrittenOverTheRequest) {
  auto message = to_vector(icmp_of(test::kLinuxIcmpEchoRequest));
  const auto request = IcmpView::parse(message);
  ASSERT_TRUE(request);
  ASSERT_EQ(write_icmp_echo_reply(message, *request), 64u);
  const auto reply = IcmpView::parse(message);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->type(), kIcmpEchoReply);
  EXPECT_EQ(reply->identifier(), 0x5941);
  EXPECT_EQ(reply->sequence(), 1);
  EXPECT_EQ(to_vector(reply->echo_data()),
            to_vector(icmp_of(test::kLinuxIcmpEchoRequest).subspan(8)));
}

TEST(IcmpBuilder, EchoRoundTripsWithOddAndEmptyData) {
  std::mt19937 rng(2);
  for (std::size_t size = 0; size < 300; ++size) {
    std::vector<std::uint8_t> data(size);
    for (auto& b : data) b = static_cast<std::uint8_t>(rng());
    std::vector<std::uint8_t> out(8 + size);
    const auto id = static_cast<std::uint16_t>(rng());
    const auto seq = static_cast<std::uint16_t>(rng());
    ASSERT_EQ(write_icmp_echo_request(out, id, seq, data), 8 + size);
    const auto request = IcmpView::parse(out);
    ASSERT_TRUE(request) << size;
    EXPECT_EQ(request->type(), kIcmpEchoRequest);
    EXPECT_EQ(request->identifier(), id);
    EXPECT_EQ(request->sequence(), seq);
    EXPECT_EQ(to_vector(request->echo_data()), data);
    EXPECT_EQ(request->checksum(), [&] {
      auto zeroed = out;
      store_be16(&zeroed[2], 0);
      return internet_checksum_reference(zeroed);
    }());

    std::vector<std::uint8_t> reply_bytes(8 + size);
    ASSERT_EQ(write_icmp_echo_reply(reply_bytes, *request), 8 + size);
    const auto reply = IcmpView::parse(reply_bytes);
    ASSERT_TRUE(reply) << size;
    EXPECT_EQ(reply->type(), kIcmpEchoReply);
    EXPECT_EQ(reply->identifier(), id);
    EXPECT_EQ(reply->sequence(), seq);
    EXPECT_EQ(to_vector(reply->echo_data()), data);
  }
}

TEST(IcmpBuilder, EchoBuildersRefuseWhatTheyCannotBuild) {
  const auto request = IcmpView::parse(icmp_of(test::kLinuxIcmpEchoRequest));
  ASSERT_TRUE(request);
  std::array<std::uint8_t, 63> too_small{};
  EXPECT_EQ(write_icmp_echo_reply(too_small, *request), 0u);
  EXPECT_EQ(write_icmp_echo_request(too_small, 1, 1, request->echo_data()), 0u);
  EXPECT_EQ(too_small, decltype(too_small){});

  // Only a request gets a reply: not a reply, not an error.
  std::array<std::uint8_t, 600> out{};
  for (const Bytes packet :
       {Bytes(test::kLinuxIcmpEchoReply), Bytes(test::kLinuxIcmpPortUnreachable)}) {
    const auto icmp = IcmpView::parse(icmp_of(packet));
    ASSERT_TRUE(icmp);
    EXPECT_EQ(write_icmp_echo_reply(out, *icmp), 0u);
  }
}

// --- Errors quoting a datagram ----------------------------------------------------------------

TEST(IcmpLinuxPackets, PortUnreachableQuotesTheWholeSmallDatagram) {
  const auto icmp = IcmpView::parse(icmp_of(test::kLinuxIcmpPortUnreachable));
  ASSERT_TRUE(icmp);
  EXPECT_EQ(icmp->type(), kIcmpDestinationUnreachable);
  EXPECT_EQ(icmp->code(), kIcmpPortUnreachable);
  EXPECT_EQ(icmp->rest_of_header(), 0u);
  EXPECT_TRUE(icmp->is_error());
  EXPECT_FALSE(icmp->is_echo());
  EXPECT_EQ(icmp->quoted().size(), 40u);

  const auto quoted = icmp->quoted_ipv4();
  ASSERT_TRUE(quoted);
  EXPECT_EQ(quoted->src(), Ipv4Address(198, 18, 0, 2));
  EXPECT_EQ(quoted->dst(), Ipv4Address(198, 18, 0, 1));
  EXPECT_EQ(quoted->identification(), 0x4242);
  EXPECT_EQ(quoted->protocol(), kUdp);
  EXPECT_EQ(quoted->total_length(), 40);
  ASSERT_EQ(quoted->payload().size(), 20u);
  EXPECT_EQ(load_be16(&quoted->payload()[0]), 40000);  // the ports tell whose datagram it was
  EXPECT_EQ(load_be16(&quoted->payload()[2]), 33434);
}

TEST(IcmpBuilder, PortUnreachableIsWhatLinuxSent) {
  // The datagram the script sent is the one Linux quoted whole; answer it as Linux did.
  const auto linux_error = IcmpView::parse(icmp_of(test::kLinuxIcmpPortUnreachable));
  ASSERT_TRUE(linux_error);
  const auto original = to_vector(linux_error->quoted());
  std::array<std::uint8_t, 600> out{};
  const std::size_t n = write_icmp_destination_unreachable(out, kIcmpPortUnreachable, original);
  ASSERT_EQ(n, 48u);
  EXPECT_EQ(to_vector(Bytes(out).first(n)), to_vector(linux_error->message()));
}

TEST(IcmpBuilder, TimeExceededIsWhatLinuxSent) {
  const auto linux_error = IcmpView::parse(icmp_of(test::kLinuxIcmpTimeExceeded));
  ASSERT_TRUE(linux_error);
  EXPECT_EQ(linux_error->type(), kIcmpTimeExceeded);
  EXPECT_EQ(linux_error->code(), kIcmpTtlExceeded);
  EXPECT_TRUE(linux_error->is_error());
  const auto quoted = linux_error->quoted_ipv4();
  ASSERT_TRUE(quoted);
  EXPECT_EQ(quoted->ttl(), 1);
  EXPECT_EQ(quoted->dst(), Ipv4Address(198, 18, 1, 5));

  const auto original = to_vector(linux_error->quoted());
  std::array<std::uint8_t, 600> out{};
  const std::size_t n = write_icmp_time_exceeded(out, kIcmpTtlExceeded, original);
  ASSERT_EQ(n, 40u);
  EXPECT_EQ(to_vector(Bytes(out).first(n)), to_vector(linux_error->message()));
}

TEST(IcmpLinuxPackets, FragmentationNeededCarriesTheNextHopMtu) {
  const auto icmp = IcmpView::parse(icmp_of(test::kLinuxIcmpFragmentationNeeded));
  ASSERT_TRUE(icmp);
  EXPECT_EQ(icmp->type(), kIcmpDestinationUnreachable);
  EXPECT_EQ(icmp->code(), kIcmpFragmentationNeeded);
  EXPECT_EQ(icmp->next_hop_mtu(), 576);
  EXPECT_EQ(icmp->rest_of_header(), 576u);  // the unused high half is zero
  EXPECT_EQ(icmp->quoted().size(), kIcmpMaxErrorQuote);
  const auto quoted = icmp->quoted_ipv4();
  ASSERT_TRUE(quoted);
  EXPECT_EQ(quoted->total_length(), 1020);  // more than was quoted
  EXPECT_TRUE(quoted->dont_fragment());
  EXPECT_EQ(quoted->payload().size(), kIcmpMaxErrorQuote - 20);
}

TEST(IcmpBuilder, FragmentationNeededQuotesAsMuchAsLinuxDoes) {
  // Rebuild the 1020-byte original (its UDP payload was zeros) and answer it: the same 548
  // bytes are quoted and the message is byte for byte the kernel's.
  const auto linux_error = IcmpView::parse(icmp_of(test::kLinuxIcmpFragmentationNeeded));
  ASSERT_TRUE(linux_error);
  auto original = to_vector(linux_error->quoted());
  original.resize(1020, 0);
  ASSERT_TRUE(Ipv4View::parse(original));
  std::array<std::uint8_t, 1500> out{};
  const std::size_t n =
      write_icmp_destination_unreachable(out, kIcmpFragmentationNeeded, original, 576);
  ASSERT_EQ(n, 8 + kIcmpMaxErrorQuote);
  EXPECT_EQ(20 + n, 576u);
  EXPECT_EQ(to_vector(Bytes(out).first(n)), to_vector(linux_error->message()));
}

TEST(IcmpBuilder, QuoteShrinksToTheBufferButNotBelowHeaderPlusEightBytes) {
  auto original = to_vector(test::kLinuxTcpSyn);  // 60 bytes: 20 IP + 40 TCP
  std::array<std::uint8_t, 600> out{};
  // Room for everything: quoted whole.
  EXPECT_EQ(write_icmp_destination_unreachable(out, kIcmpHostUnreachable, original), 68u);
  // Less room: as much as fits, down to the IPv4 header and 8 bytes (RFC 1122 §3.2.2).
  for (std::size_t room = 36; room < 68; ++room) {
    const std::size_t n = write_icmp_destination_unreachable(MutableBytes(out).first(room),
                                                             kIcmpHostUnreachable, original);
    ASSERT_EQ(n, room);
    const auto icmp = IcmpView::parse(Bytes(out).first(n));
    ASSERT_TRUE(icmp);
    EXPECT_EQ(to_vector(icmp->quoted()), to_vector(Bytes(original).first(room - 8)));
    EXPECT_TRUE(icmp->quoted_ipv4());
  }
  for (std::size_t room = 0; room < 36; ++room) {
    EXPECT_EQ(write_icmp_destination_unreachable(MutableBytes(out).first(room),
                                                 kIcmpHostUnreachable, original),
              0u)
        << room;
  }
  // A header with options raises the minimum: IHL 15 needs 60 + 8 quoted bytes.
  std::vector<std::uint8_t> with_options(100, 1);
  with_options[0] = 0x4f;
  EXPECT_EQ(write_icmp_destination_unreachable(MutableBytes(out).first(75), 0, with_options), 0u);
  EXPECT_EQ(write_icmp_destination_unreachable(MutableBytes(out).first(76), 0, with_options), 76u);
}

TEST(IcmpBuilder, ErrorsNeedAnIpv4HeaderToQuote) {
  std::array<std::uint8_t, 600> out{};
  const auto original = to_vector(test::kLinuxUdpDatagram);
  EXPECT_EQ(write_icmp_destination_unreachable(out, kIcmpPortUnreachable, {}), 0u);
  EXPECT_EQ(
      write_icmp_destination_unreachable(out, kIcmpPortUnreachable, Bytes(original).first(19)), 0u);
  // A 20-byte datagram (no payload) is quoted whole.
  EXPECT_EQ(
      write_icmp_destination_unreachable(out, kIcmpProtocolUnreachable, Bytes(original).first(20)),
      28u);
}

TEST(IcmpBuilder, LongDatagramsAreQuotedUpToTheLimit) {
  std::vector<std::uint8_t> original(9000, 0xab);
  original[0] = 0x45;
  std::vector<std::uint8_t> out(9000);
  const std::size_t n = write_icmp_destination_unreachable(out, kIcmpPortUnreachable, original);
  EXPECT_EQ(n, 8 + kIcmpMaxErrorQuote);
  EXPECT_EQ(kIcmpMaxErrorQuote, 548u);
  const auto icmp = IcmpView::parse(Bytes(out).first(n));
  ASSERT_TRUE(icmp);
  EXPECT_EQ(to_vector(icmp->quoted()), to_vector(Bytes(original).first(548)));
}

// --- Classification ---------------------------------------------------------------------------

TEST(IcmpView, ClassifiesEchoAndErrorTypes) {
  struct Case {
    std::uint8_t type;
    bool echo, error;
  };
  for (const Case c :
       {Case{kIcmpEchoReply, true, false}, Case{kIcmpDestinationUnreachable, false, true},
        Case{kIcmpSourceQuench, false, true}, Case{kIcmpRedirect, false, true},
        Case{kIcmpEchoRequest, true, false}, Case{kIcmpTimeExceeded, false, true},
        Case{kIcmpParameterProblem, false, true}, Case{13, false, false},
        Case{255, false, false}}) {
    std::array<std::uint8_t, 8> message = {c.type};
    fix_icmp_checksum(message);
    const auto icmp = IcmpView::parse(message);
    ASSERT_TRUE(icmp);
    EXPECT_EQ(icmp->is_echo(), c.echo) << int{c.type};
    EXPECT_EQ(icmp->is_error(), c.error) << int{c.type};
  }
}

// --- Every malformed case, with its exact error ---------------------------------------------

TEST(IcmpViewErrors, ShorterThanEightBytesIsTruncated) {
  const Bytes message = icmp_of(test::kLinuxIcmpEchoRequest);
  for (std::size_t n = 0; n < 8; ++n)
    EXPECT_EQ(error_of(IcmpView::parse(message.first(n))), ParseError::truncated) << n;
}

TEST(IcmpViewErrors, TheChecksumCoversTheWholeMessage) {
  // Cutting the data short breaks the checksum as surely as flipping a bit.
  const Bytes message = icmp_of(test::kLinuxIcmpEchoRequest);
  for (std::size_t n = 8; n < message.size(); ++n)
    EXPECT_EQ(error_of(IcmpView::parse(message.first(n))), ParseError::bad_checksum) << n;
  std::array<std::uint8_t, 8> zeros{};  // an all-zero checksum field is no exemption
  EXPECT_EQ(error_of(IcmpView::parse(zeros)), ParseError::bad_checksum);
}

TEST(IcmpViewErrors, AQuoteTooShortForAHeaderAndEightBytesIsTruncated) {
  const Bytes linux_message = icmp_of(test::kLinuxIcmpPortUnreachable);
  for (std::size_t quote = 0; quote < 28; ++quote) {
    auto message = to_vector(linux_message.first(8 + quote));
    fix_icmp_checksum(message);
    const auto icmp = IcmpView::parse(message);
    ASSERT_TRUE(icmp) << quote;  // well-formed ICMP, whose quote is of no use
    EXPECT_EQ(error_of(icmp->quoted_ipv4()), ParseError::truncated) << quote;
  }
}

TEST(IcmpViewErrors, AMalformedQuotedHeaderHasItsOwnError) {
  const Bytes linux_message = icmp_of(test::kLinuxIcmpPortUnreachable);
  struct Case {
    std::uint8_t first_byte;
    std::uint16_t total_length;
    ParseError error;
  };
  for (const Case c : {Case{0x65, 40, ParseError::bad_version}, Case{0x44, 40, ParseError::bad_ihl},
                       Case{0x4f, 40, ParseError::bad_ihl},  // a 60-byte header in 40 bytes
                       Case{0x45, 19, ParseError::bad_total_length}}) {
    auto message = to_vector(linux_message);
    message[8] = c.first_byte;
    store_be16(&message[10], c.total_length);
    fix_icmp_checksum(message);
    const auto icmp = IcmpView::parse(message);
    ASSERT_TRUE(icmp);
    EXPECT_EQ(error_of(icmp->quoted_ipv4()), c.error) << int{c.first_byte};
  }
}

TEST(IcmpViewErrors, RandomBytesNeverReadOutOfBounds) {
  std::mt19937 rng(9);
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::uint8_t> b(rng() % 80);
    for (auto& x : b) x = static_cast<std::uint8_t>(rng());
    if (b.size() >= 9 && (rng() % 2)) b[8] = static_cast<std::uint8_t>(0x40 | (b[8] & 0x0f));
    if (b.size() >= 8) fix_icmp_checksum(b);
    const auto icmp = IcmpView::parse(b);
    if (!icmp) continue;
    EXPECT_EQ(icmp->message().size(), b.size());
    const auto quoted = icmp->quoted_ipv4();
    if (!quoted) continue;
    EXPECT_LE(quoted->packet().data() + quoted->packet().size(), b.data() + b.size());
    EXPECT_LE(quoted->header_length(), quoted->packet().size());
  }
}

}  // namespace
}  // namespace synack::wire
