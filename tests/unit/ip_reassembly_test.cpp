// IPv4 reassembly (src/ip/reassembly.hpp), fragment by fragment: the exact outcome of each,
// the datagram it makes, what is held and for how long. And the option walk of
// wire/ipv4.hpp that decides which headers reach it.
#include "ip/reassembly.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

#include "wire/checksum.hpp"
#include "wire/icmp.hpp"

namespace synack::ip {
namespace {

using Frame = std::vector<std::uint8_t>;
using wire::Ipv4Address;
using O = FragmentOutcome;

constexpr Ipv4Address kSrc(198, 18, 0, 66);
constexpr Ipv4Address kDst(198, 18, 0, 2);

// Payload octet i of the datagram: a pattern that tells every position apart.
std::uint8_t octet(std::size_t i) {
  return static_cast<std::uint8_t>(i * 7 + i / 251);
}

struct Fragment {
  std::uint32_t offset = 0;  // octets; a multiple of 8
  std::size_t length = 0;
  bool more = false;
  std::uint16_t id = 1;
  std::uint8_t protocol = wire::kUdp;
  Frame options = {};
  std::uint8_t fill_shift = 0;  // changes the bytes (an overlap that rewrites)
};

// The whole IPv4 packet of one fragment of the pattern datagram.
Frame frame(const Fragment& f) {
  const std::size_t header = 20 + f.options.size();
  Frame b(header + f.length);
  b[0] = static_cast<std::uint8_t>(0x40 | (header / 4));
  wire::store_be16(&b[2], static_cast<std::uint16_t>(b.size()));
  wire::store_be16(&b[4], f.id);
  wire::store_be16(&b[6], static_cast<std::uint16_t>((f.more ? 0x2000 : 0) | (f.offset / 8)));
  b[8] = 64;
  b[9] = f.protocol;
  kSrc.store(&b[12]);
  kDst.store(&b[16]);
  std::copy(f.options.begin(), f.options.end(), b.begin() + 20);
  wire::store_be16(&b[10], wire::internet_checksum(wire::Bytes(b.data(), header)));
  for (std::size_t i = 0; i < f.length; ++i) {
    b[header + i] = static_cast<std::uint8_t>(octet(f.offset + i) + f.fill_shift);
  }
  return b;
}

struct ReassemblyTest : ::testing::Test {
  BufferBudget budget;
  Reassembler r{{}, &budget};
  Instant now = kEpoch + seconds(100);

  O add(const Fragment& f) {
    const Frame b = frame(f);
    auto v = wire::Ipv4View::parse(b);
    EXPECT_TRUE(v.has_value());
    return r.add(*v, now);
  }

  // The datagram just completed is the pattern, `length` payload octets behind a header
  // with MF and the offset cleared, the right total length and a good checksum.
  void expect_datagram(std::size_t length, std::uint16_t id = 1) {
    auto v = wire::Ipv4View::parse(r.datagram());
    ASSERT_TRUE(v.has_value());
    EXPECT_FALSE(v->is_fragment());
    EXPECT_EQ(v->identification(), id);
    EXPECT_EQ(v->src(), kSrc);
    EXPECT_EQ(v->dst(), kDst);
    ASSERT_EQ(v->payload().size(), length);
    for (std::size_t i = 0; i < length; ++i) {
      ASSERT_EQ(v->payload()[i], octet(i)) << "octet " << i;
    }
  }
};

TEST_F(ReassemblyTest, InOrderFragmentsMakeTheDatagram) {
  EXPECT_EQ(add({.offset = 0, .length = 1480, .more = true}), O::held);
  EXPECT_EQ(add({.offset = 1480, .length = 1480, .more = true}), O::held);
  EXPECT_EQ(r.datagrams_held(), 1u);
  EXPECT_EQ(add({.offset = 2960, .length = 48}), O::complete);
  expect_datagram(3008);
  EXPECT_EQ(r.fragments_joined(), 3u);
  EXPECT_EQ(r.datagrams_held(), 0u);
  EXPECT_EQ(r.bytes_held(), 0u);
  EXPECT_EQ(budget.used, 0u);
  EXPECT_EQ(r.next_deadline(), std::nullopt);
}

TEST_F(ReassemblyTest, OutOfOrderFragmentsMakeTheSameDatagram) {
  EXPECT_EQ(add({.offset = 2960, .length = 48}), O::held);  // the last first: the end is known
  EXPECT_EQ(add({.offset = 0, .length = 1480, .more = true}), O::held);
  EXPECT_EQ(add({.offset = 1480, .length = 1480, .more = true}), O::complete);
  expect_datagram(3008);
}

TEST_F(ReassemblyTest, TheFirstFragmentsHeaderAndOptionsAreKept) {
  const Frame options = {7, 7, 4, 0, 0, 0, 0, 0};  // record route, room for one address
  EXPECT_EQ(add({.offset = 8 * 3, .length = 10}), O::held);
  EXPECT_EQ(add({.offset = 0, .length = 24, .more = true, .options = options}), O::complete);
  auto v = wire::Ipv4View::parse(r.datagram());
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->header_length(), 28u);
  EXPECT_TRUE(std::equal(options.begin(), options.end(), v->options().begin()));
  EXPECT_EQ(v->total_length(), 28u + 34u);
}

TEST_F(ReassemblyTest, DatagramsAreKeyedBySourceDestinationProtocolAndId) {
  EXPECT_EQ(add({.offset = 0, .length = 8, .more = true, .id = 1}), O::held);
  EXPECT_EQ(add({.offset = 0, .length = 8, .more = true, .id = 2}), O::held);
  EXPECT_EQ(add({.offset = 0, .length = 16, .more = true, .id = 1, .protocol = wire::kIcmp}),
            O::held);
  EXPECT_EQ(r.datagrams_held(), 3u);
  EXPECT_EQ(add({.offset = 8, .length = 4, .id = 2}), O::complete);
  expect_datagram(12, 2);
  EXPECT_EQ(r.datagrams_held(), 2u);
}

TEST_F(ReassemblyTest, AnExactDuplicateIsDroppedAndTheDatagramKept) {
  EXPECT_EQ(add({.offset = 0, .length = 16, .more = true}), O::held);
  EXPECT_EQ(add({.offset = 0, .length = 16, .more = true}), O::duplicate);
  EXPECT_EQ(add({.offset = 16, .length = 5}), O::complete);
  expect_datagram(21);
}

TEST_F(ReassemblyTest, AnOverlapDropsTheWholeDatagram) {
  EXPECT_EQ(add({.offset = 0, .length = 16, .more = true}), O::held);
  EXPECT_EQ(add({.offset = 8, .length = 16}), O::overlap);  // rewrites octets 8..15
  EXPECT_EQ(r.datagrams_held(), 0u);
  EXPECT_EQ(r.bytes_held(), 0u);
  // What comes after starts a new datagram: the first fragment is not there any more.
  EXPECT_EQ(add({.offset = 16, .length = 8}), O::held);
}

TEST_F(ReassemblyTest, SameRangeWithOtherBytesIsAnOverlapNotADuplicate) {
  EXPECT_EQ(add({.offset = 0, .length = 16, .more = true}), O::held);
  EXPECT_EQ(add({.offset = 0, .length = 16, .more = true, .fill_shift = 1}), O::overlap);
  EXPECT_EQ(r.datagrams_held(), 0u);
}

TEST_F(ReassemblyTest, AFragmentInsideAnotherOrCoveringItIsAnOverlap) {
  EXPECT_EQ(add({.offset = 8, .length = 32, .more = true}), O::held);
  EXPECT_EQ(add({.offset = 16, .length = 8, .more = true}), O::overlap);
  EXPECT_EQ(add({.offset = 16, .length = 8, .more = true}), O::held);
  EXPECT_EQ(add({.offset = 8, .length = 32, .more = true}), O::overlap);
  EXPECT_EQ(r.datagrams_held(), 0u);
}

TEST_F(ReassemblyTest, FragmentsThatDisagreeAboutTheEndDropTheDatagram) {
  EXPECT_EQ(add({.offset = 0, .length = 16, .more = true}), O::held);
  EXPECT_EQ(add({.offset = 16, .length = 8}), O::complete);
  // A last fragment ends at 24; then one past it, or another last one elsewhere.
  EXPECT_EQ(add({.offset = 32, .length = 8}), O::held);
  EXPECT_EQ(add({.offset = 40, .length = 8, .more = true}), O::inconsistent);
  EXPECT_EQ(add({.offset = 32, .length = 8}), O::held);
  EXPECT_EQ(add({.offset = 8, .length = 8}), O::inconsistent);  // ends before octet 40
  EXPECT_EQ(add({.offset = 32, .length = 8}), O::held);
  EXPECT_EQ(add({.offset = 48, .length = 8}), O::inconsistent);  // a second, later end
  EXPECT_EQ(r.datagrams_held(), 0u);
}

TEST_F(ReassemblyTest, FragmentsWithMoreToComeCarryMultiplesOfEightOctets) {
  EXPECT_EQ(add({.offset = 0, .length = 12, .more = true}), O::bad_length);
  EXPECT_EQ(add({.offset = 8, .length = 0, .more = true}), O::bad_length);
  EXPECT_EQ(r.datagrams_held(), 0u);
}

TEST_F(ReassemblyTest, TinyTcpFragmentsAreDroppedPerRfc1858) {
  // §3.2: a first fragment too short to hold the flags (octet 13), rounded to 8 octets.
  EXPECT_EQ(add({.offset = 0, .length = 8, .more = true, .protocol = wire::kTcp}),
            O::tiny_tcp_first);
  // §3.2 (and RFC 3128): FO=1 could rewrite the flags of a first fragment of 16.
  EXPECT_EQ(add({.offset = 8, .length = 16, .more = true, .protocol = wire::kTcp}),
            O::tiny_tcp_offset);
  EXPECT_EQ(r.datagrams_held(), 0u);
  // 16 octets first, the rest from 16 on: reassembled.
  EXPECT_EQ(add({.offset = 0, .length = 16, .more = true, .protocol = wire::kTcp}), O::held);
  EXPECT_EQ(add({.offset = 16, .length = 8, .protocol = wire::kTcp}), O::complete);
  // At offset 8 over a first fragment held, it is an overlap: the datagram goes.
  EXPECT_EQ(add({.offset = 0, .length = 16, .more = true, .protocol = wire::kTcp}), O::held);
  EXPECT_EQ(add({.offset = 8, .length = 16, .protocol = wire::kTcp}), O::overlap);
  EXPECT_EQ(r.datagrams_held(), 0u);
  // Past a held part elsewhere, it is still tiny, and the datagram stays.
  EXPECT_EQ(add({.offset = 24, .length = 8, .protocol = wire::kTcp}), O::held);
  EXPECT_EQ(add({.offset = 8, .length = 8, .more = true, .protocol = wire::kTcp}),
            O::tiny_tcp_offset);
  EXPECT_EQ(r.datagrams_held(), 1u);
  EXPECT_EQ(add({.offset = 0, .length = 24, .more = true, .protocol = wire::kTcp}), O::complete);
  // Other protocols may be cut where they like.
  EXPECT_EQ(add({.offset = 0, .length = 8, .more = true, .protocol = wire::kUdp}), O::held);
  EXPECT_EQ(add({.offset = 8, .length = 8, .protocol = wire::kUdp}), O::complete);
}

TEST_F(ReassemblyTest, ADatagramOver65535OctetsIsDropped) {
  // The ping of death: offset 65528 plus 8 octets with a 20-octet header.
  EXPECT_EQ(add({.offset = 0, .length = 1480, .more = true}), O::held);
  EXPECT_EQ(add({.offset = 65528, .length = 8}), O::oversize);
  EXPECT_EQ(r.datagrams_held(), 0u);
  // At the very limit: 65515 octets of payload behind 20 of header is fine...
  EXPECT_EQ(add({.offset = 65512, .length = 3}), O::held);
  EXPECT_EQ(r.datagrams_held(), 1u);
  // ...but not behind a first fragment with options: that is found when it completes.
  EXPECT_EQ(add({.offset = 65504, .length = 8, .more = true}), O::held);
  for (std::uint32_t offset = 0; offset < 65504; offset += 1480) {
    const std::size_t length = std::min<std::size_t>(1480, 65504 - offset);
    const Frame options = {1, 1, 1, 0};
    const O o = add({.offset = offset,
                     .length = length,
                     .more = true,
                     .options = offset == 0 ? options : Frame{}});
    if (offset + length < 65504) {
      ASSERT_EQ(o, O::held) << offset;
    } else {
      EXPECT_EQ(o, O::oversize);
    }
  }
  EXPECT_EQ(r.datagrams_held(), 0u);
  EXPECT_EQ(r.bytes_held(), 0u);
}

TEST_F(ReassemblyTest, PartialDatagramsExpireAfter30SecondsWithTheirFirstFragment) {
  EXPECT_EQ(add({.offset = 0, .length = 16, .more = true, .id = 1}), O::held);
  now += seconds(10);
  EXPECT_EQ(add({.offset = 16, .length = 16, .more = true, .id = 2}), O::held);
  EXPECT_EQ(r.next_deadline(), kEpoch + seconds(130));
  std::vector<std::size_t> quotes;
  auto collect = [&](wire::Bytes quote) { quotes.push_back(quote.size()); };
  EXPECT_EQ(r.expire(kEpoch + seconds(130) - nanoseconds(1), collect), 0u);
  EXPECT_EQ(r.expire(kEpoch + seconds(130), collect), 1u);
  // The first datagram had its first fragment: quoted, header and all 16 octets.
  EXPECT_EQ(quotes, (std::vector<std::size_t>{36}));
  EXPECT_EQ(r.next_deadline(), kEpoch + seconds(140));
  EXPECT_EQ(r.expire(kEpoch + seconds(200), collect), 1u);
  EXPECT_EQ(quotes, (std::vector<std::size_t>{36, 0}));  // the second had not
  EXPECT_EQ(r.datagrams_held(), 0u);
  EXPECT_EQ(budget.used, 0u);
  // A fragment completing nothing after the timeout starts over.
  EXPECT_EQ(add({.offset = 16, .length = 4, .id = 1}), O::held);
}

TEST_F(ReassemblyTest, AnExpiredFirstFragmentIsQuotedNoLongerThanAnIcmpErrorTakes) {
  EXPECT_EQ(add({.offset = 0, .length = 1480, .more = true}), O::held);
  std::size_t quoted = 0;
  r.expire(now + seconds(30), [&](wire::Bytes q) { quoted = q.size(); });
  EXPECT_EQ(quoted, wire::kIcmpMaxErrorQuote);
}

TEST_F(ReassemblyTest, MemoryIsBoundedAndChargedToTheBudget) {
  Reassembler small({.max_bytes = 3 * (1480 + kFragmentOverhead) + 20}, &budget);
  auto put = [&](const Fragment& f) {
    const Frame b = frame(f);
    return small.add(*wire::Ipv4View::parse(b), now);
  };
  EXPECT_EQ(put({.offset = 0, .length = 1480, .more = true, .id = 1}), O::held);
  EXPECT_EQ(budget.used, 1480 + kFragmentOverhead + 20);
  EXPECT_EQ(put({.offset = 1480, .length = 1480, .more = true, .id = 2}), O::held);
  EXPECT_EQ(put({.offset = 1480, .length = 1480, .more = true, .id = 1}), O::held);
  EXPECT_EQ(small.bytes_held(), 3 * (1480 + kFragmentOverhead) + 20);
  // Full: a new datagram and more of an old one are refused, what is held stays.
  EXPECT_EQ(put({.offset = 0, .length = 8, .more = true, .id = 3}), O::no_memory);
  EXPECT_EQ(put({.offset = 2960, .length = 8, .id = 1}), O::no_memory);
  EXPECT_EQ(small.datagrams_held(), 2u);
  // The owner's budget counts too.
  Reassembler other({}, &budget);
  budget.limit = budget.used + 100;
  const Frame b = frame({.offset = 0, .length = 1480, .more = true, .id = 9});
  EXPECT_EQ(other.add(*wire::Ipv4View::parse(b), now), O::no_memory);
  budget.limit = std::numeric_limits<std::size_t>::max();
  // Freed with the reassembler.
  EXPECT_EQ(small.expire(now + seconds(30), [](wire::Bytes) {}), 2u);
  EXPECT_EQ(budget.used, r.bytes_held());
}

TEST_F(ReassemblyTest, DatagramsAndFragmentsPerDatagramAreBounded) {
  Reassembler small({.max_datagrams = 2, .max_fragments = 3});
  auto put = [&](const Fragment& f) {
    const Frame b = frame(f);
    return small.add(*wire::Ipv4View::parse(b), now);
  };
  EXPECT_EQ(put({.offset = 0, .length = 8, .more = true, .id = 1}), O::held);
  EXPECT_EQ(put({.offset = 0, .length = 8, .more = true, .id = 2}), O::held);
  EXPECT_EQ(put({.offset = 0, .length = 8, .more = true, .id = 3}), O::too_many_datagrams);
  EXPECT_EQ(put({.offset = 16, .length = 8, .more = true, .id = 1}), O::held);
  EXPECT_EQ(put({.offset = 32, .length = 8, .more = true, .id = 1}), O::held);
  EXPECT_EQ(put({.offset = 48, .length = 8, .id = 1}), O::too_many_fragments);
  EXPECT_EQ(small.datagrams_held(), 2u);
}

TEST(Ipv4Options, WellFormedListsPass) {
  using wire::ipv4_bad_option;
  std::vector<Frame> good = {
      {},
      {1, 1, 1, 1},              // NOPs
      {0, 99, 0, 1},             // EOL: what follows is padding, not read
      {148, 4, 0, 0},            // router alert
      {7, 7, 4, 0, 0, 0, 0, 1},  // record route
      {1, 131, 3, 0},            // loose source route, too short to hold an address: not ours
  };
  Frame timestamp(40, 0);  // 36 octets of timestamp option, then EOL padding: all 40
  timestamp[0] = 68;
  timestamp[1] = 36;
  timestamp[2] = 5;
  good.push_back(timestamp);
  for (const Frame& o : good) EXPECT_EQ(ipv4_bad_option(o), std::nullopt) << o.size();
}

TEST(Ipv4Options, MalformedListsNameTheBadOctet) {
  using wire::ipv4_bad_option;
  EXPECT_EQ(ipv4_bad_option(Frame{7, 39, 4, 0}), 21u);  // runs past the header
  EXPECT_EQ(ipv4_bad_option(Frame{7, 0, 0, 0}), 21u);   // length 0
  EXPECT_EQ(ipv4_bad_option(Frame{1, 7, 1, 0}), 22u);   // length 1, after a NOP
  EXPECT_EQ(ipv4_bad_option(Frame{1, 1, 1, 7}), 23u);   // no room for the length
  EXPECT_EQ(ipv4_bad_option(Frame{148, 4, 0, 0, 7, 5, 4, 0}), 25u);
}

}  // namespace
}  // namespace synack::ip
