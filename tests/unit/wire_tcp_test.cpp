// The TCP header view and builder (RFC 9293 §3.1): every malformed case with its exact
// ParseError, round trips with exact field values, and segments captured from Linux that
// must pass our checksum check and come out of our builder byte for byte.
#include "wire/tcp.hpp"

#include <gtest/gtest.h>

#include "support/hex.hpp"

#include <array>
#include <cstdint>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace synack::wire {
namespace {

using testing::from_hex;

std::string to_hex(Bytes bytes) {
  return testing::to_hex(bytes);
}

std::vector<std::uint8_t> bytes_of(std::string_view s) {
  return {s.begin(), s.end()};
}

constexpr std::uint32_t ipv4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  return std::uint32_t{a} << 24 | std::uint32_t{b} << 16 | std::uint32_t{c} << 8 | d;
}

// A 20-byte header: ports 12345 -> 80, seq 0x01020304, ack 0xa0b0c0d0, offset 5, SYN+ACK,
// window 65535, checksum 0x1234, urgent pointer 7.
constexpr std::string_view base_header = "3039 0050 01020304 a0b0c0d0 5012 ffff 1234 0007";

// base_header with data offset 6, the given 4 option bytes, then a 4-byte payload "abcd":
// an option that runs past the header must be caught even though the segment goes on.
std::vector<std::uint8_t> with_options(std::string_view option_hex) {
  auto seg = from_hex(base_header);
  seg[12] = 0x60;
  for (std::uint8_t b : from_hex(option_hex)) seg.push_back(b);
  for (std::uint8_t b : bytes_of("abcd")) seg.push_back(b);
  return seg;
}

ParseError parse_error(Bytes segment) {
  const auto r = TcpView::parse(segment);
  EXPECT_FALSE(r.has_value());
  return r.has_value() ? ParseError{} : r.error();
}

// --- TcpFlags ------------------------------------------------------------------------------

TEST(TcpFlags, BitsMatchTheHeader) {
  EXPECT_EQ(TcpFlags::fin.bits(), 0x01);
  EXPECT_EQ(TcpFlags::syn.bits(), 0x02);
  EXPECT_EQ(TcpFlags::rst.bits(), 0x04);
  EXPECT_EQ(TcpFlags::psh.bits(), 0x08);
  EXPECT_EQ(TcpFlags::ack.bits(), 0x10);
  EXPECT_EQ(TcpFlags::urg.bits(), 0x20);
  EXPECT_EQ(TcpFlags::ece.bits(), 0x40);
  EXPECT_EQ(TcpFlags::cwr.bits(), 0x80);
}

TEST(TcpFlags, HasMeansAllBitsHasAnyMeansOne) {
  const TcpFlags synack = TcpFlags::syn | TcpFlags::ack;
  EXPECT_TRUE(synack.has(TcpFlags::syn));
  EXPECT_TRUE(synack.has(TcpFlags::syn | TcpFlags::ack));
  EXPECT_FALSE(synack.has(TcpFlags::syn | TcpFlags::fin));
  EXPECT_TRUE(synack.has_any(TcpFlags::syn | TcpFlags::fin));
  EXPECT_FALSE(synack.has_any(TcpFlags::rst | TcpFlags::fin));
  EXPECT_EQ(synack.without(TcpFlags::syn), TcpFlags::ack);
  EXPECT_EQ(synack & TcpFlags::ack, TcpFlags::ack);
  EXPECT_TRUE(TcpFlags{}.empty());
  EXPECT_FALSE(synack.empty());
}

TEST(TcpFlags, ToStringJoinsNamesLowBitFirst) {
  EXPECT_EQ(to_string(TcpFlags{}), "none");
  EXPECT_EQ(to_string(TcpFlags::syn), "SYN");
  EXPECT_EQ(to_string(TcpFlags::syn | TcpFlags::ack), "SYN+ACK");
  EXPECT_EQ(to_string(TcpFlags::fin | TcpFlags::psh | TcpFlags::ack), "FIN+PSH+ACK");
  EXPECT_EQ(to_string(TcpFlags::rst | TcpFlags::ack), "RST+ACK");
  EXPECT_EQ(to_string(TcpFlags(0xff)), "FIN+SYN+RST+PSH+ACK+URG+ECE+CWR");
  std::ostringstream os;
  os << (TcpFlags::syn | TcpFlags::ece | TcpFlags::cwr);
  EXPECT_EQ(os.str(), "SYN+ECE+CWR");
}

// --- parsing: fields -----------------------------------------------------------------------

TEST(TcpViewParse, MinimalHeaderGivesEveryField) {
  auto seg = from_hex(base_header);
  for (std::uint8_t b : bytes_of("xyz")) seg.push_back(b);
  const auto tcp = TcpView::parse(seg);
  ASSERT_TRUE(tcp.has_value());
  EXPECT_EQ(tcp->src_port(), 12345);
  EXPECT_EQ(tcp->dst_port(), 80);
  EXPECT_EQ(tcp->seq(), 0x01020304u);
  EXPECT_EQ(tcp->ack(), 0xa0b0c0d0u);
  EXPECT_EQ(tcp->data_offset(), 5);
  EXPECT_EQ(tcp->header_length(), 20u);
  EXPECT_EQ(tcp->reserved_bits(), 0);
  EXPECT_EQ(tcp->flags(), TcpFlags::syn | TcpFlags::ack);
  EXPECT_EQ(tcp->window(), 65535);
  EXPECT_EQ(tcp->checksum(), 0x1234);
  EXPECT_EQ(tcp->urgent_pointer(), 7);
  EXPECT_TRUE(tcp->options_bytes().empty());
  EXPECT_EQ(tcp->options(), TcpOptions{});
  EXPECT_EQ(to_hex(tcp->payload()), to_hex(bytes_of("xyz")));
  EXPECT_EQ(tcp->bytes().size(), 23u);
}

TEST(TcpViewParse, ReservedBitsAreReadAndDoNotDisturbTheOffset) {
  auto seg = from_hex(base_header);
  seg[12] = 0x5f;
  const auto tcp = TcpView::parse(seg);
  ASSERT_TRUE(tcp.has_value());
  EXPECT_EQ(tcp->reserved_bits(), 0x0f);
  EXPECT_EQ(tcp->header_length(), 20u);
}

TEST(TcpViewParse, OptionsAndPayloadAreSplitAtTheDataOffset) {
  const auto seg = with_options("020405b4");
  const auto tcp = TcpView::parse(seg);
  ASSERT_TRUE(tcp.has_value());
  EXPECT_EQ(tcp->data_offset(), 6);
  EXPECT_EQ(tcp->header_length(), 24u);
  EXPECT_EQ(to_hex(tcp->options_bytes()), "020405b4");
  EXPECT_EQ(tcp->options().mss, 1460);
  EXPECT_EQ(to_hex(tcp->payload()), to_hex(bytes_of("abcd")));
}

TEST(TcpViewParse, LargestHeaderFillsTheSegmentExactly) {
  auto seg = from_hex(base_header);
  seg[12] = 0xf0;
  seg.resize(60, 0x01);  // 40 bytes of NOPs
  const auto tcp = TcpView::parse(seg);
  ASSERT_TRUE(tcp.has_value());
  EXPECT_EQ(tcp->header_length(), 60u);
  EXPECT_EQ(tcp->options_bytes().size(), 40u);
  EXPECT_TRUE(tcp->payload().empty());
}

TEST(TcpViewParse, UnknownOptionIsSkipped) {
  const auto seg = with_options("fe04 1234");
  const auto tcp = TcpView::parse(seg);
  ASSERT_TRUE(tcp.has_value());
  EXPECT_EQ(tcp->options().unknown, 1);
}

TEST(TcpViewParse, EndOfListEndsOptionChecking) {
  // After EOL the rest of the header is padding; even a zero "length" there is not read.
  const auto seg = with_options("00 0200 ff");
  const auto tcp = TcpView::parse(seg);
  ASSERT_TRUE(tcp.has_value());
  EXPECT_EQ(tcp->options(), TcpOptions{});
}

TEST(TcpViewParse, WrongLengthKnownOptionParsesAndIsCounted) {
  const auto seg = with_options("0203 05 01");
  const auto tcp = TcpView::parse(seg);
  ASSERT_TRUE(tcp.has_value());
  EXPECT_EQ(tcp->options().malformed_known, 1);
  EXPECT_FALSE(tcp->options().mss.has_value());
}

// --- parsing: every malformed case ---------------------------------------------------------

TEST(TcpViewParse, TruncatedBelowTwentyBytes) {
  const auto seg = from_hex(base_header);
  for (std::size_t n = 0; n < 20; ++n) {
    SCOPED_TRACE(n);
    EXPECT_EQ(parse_error(Bytes(seg).first(n)), ParseError::truncated);
  }
  EXPECT_TRUE(TcpView::parse(seg).has_value());
}

TEST(TcpViewParse, DataOffsetBelowFiveIsBad) {
  auto seg = from_hex(base_header);
  seg.resize(40, 0x01);
  for (std::uint8_t offset = 0; offset < 5; ++offset) {
    SCOPED_TRACE(static_cast<int>(offset));
    seg[12] = static_cast<std::uint8_t>(offset << 4);
    EXPECT_EQ(parse_error(seg), ParseError::bad_data_offset);
  }
}

TEST(TcpViewParse, DataOffsetPastTheSegmentEndIsBad) {
  auto seg = from_hex(base_header);
  seg[12] = 0x60;
  EXPECT_EQ(parse_error(seg), ParseError::bad_data_offset);  // 24 > 20
  seg.resize(59, 0x01);
  seg[12] = 0xf0;
  EXPECT_EQ(parse_error(seg), ParseError::bad_data_offset);  // 60 > 59
  seg.push_back(0x01);
  EXPECT_TRUE(TcpView::parse(seg).has_value());
}

TEST(TcpViewParse, OptionLengthZeroIsBad) {
  EXPECT_EQ(parse_error(with_options("0200 0000")), ParseError::bad_option_length);
}

TEST(TcpViewParse, OptionLengthOneIsBad) {
  EXPECT_EQ(parse_error(with_options("0101 0801")), ParseError::bad_option_length);
}

TEST(TcpViewParse, OptionRunningPastTheHeaderIsBadEvenWithPayloadAfterIt) {
  EXPECT_EQ(parse_error(with_options("01 020405")), ParseError::bad_option_length);
  EXPECT_EQ(parse_error(with_options("fe08 0000")), ParseError::bad_option_length);
}

TEST(TcpViewParse, MissingLengthByteAtTheHeaderEndIsBad) {
  EXPECT_EQ(parse_error(with_options("010101 02")), ParseError::bad_option_length);
  EXPECT_EQ(parse_error(with_options("010101 fe")), ParseError::bad_option_length);
}

TEST(TcpViewParse, TruncationIsReportedBeforeTheOffset) {
  auto seg = from_hex(base_header);
  seg[12] = 0x00;
  EXPECT_EQ(parse_error(Bytes(seg).first(19)), ParseError::truncated);
}

// --- building ------------------------------------------------------------------------------

constexpr std::uint32_t src_addr = ipv4(10, 0, 0, 1);
constexpr std::uint32_t dst_addr = ipv4(10, 0, 0, 2);

TcpHeader sample_header() {
  TcpHeader h;
  h.src_port = 40000;
  h.dst_port = 443;
  h.seq = 0xfffffff0;
  h.ack = 0x00000010;
  h.flags = TcpFlags::psh | TcpFlags::ack;
  h.window = 502;
  h.urgent_pointer = 0;
  h.options.timestamps = TcpTimestamps{123456789, 987654321};
  h.options.add_sack({0x20, 0x30});
  return h;
}

TEST(TcpWrite, RoundTripGivesBackEveryField) {
  const TcpHeader h = sample_header();
  const auto payload = bytes_of("hello");  // odd length
  std::array<std::uint8_t, 128> buf{};
  const std::size_t n = write_tcp(buf, h, payload, src_addr, dst_addr);
  ASSERT_EQ(n, 20u + 12u + 12u + 5u);
  ASSERT_EQ(tcp_header_length(h), 44u);

  const auto tcp = TcpView::parse(Bytes(buf).first(n));
  ASSERT_TRUE(tcp.has_value());
  EXPECT_EQ(tcp->src_port(), 40000);
  EXPECT_EQ(tcp->dst_port(), 443);
  EXPECT_EQ(tcp->seq(), 0xfffffff0u);
  EXPECT_EQ(tcp->ack(), 0x10u);
  EXPECT_EQ(tcp->data_offset(), 11);
  EXPECT_EQ(tcp->reserved_bits(), 0);
  EXPECT_EQ(tcp->flags(), TcpFlags::psh | TcpFlags::ack);
  EXPECT_EQ(tcp->window(), 502);
  EXPECT_EQ(tcp->urgent_pointer(), 0);
  EXPECT_EQ(to_hex(tcp->payload()), to_hex(payload));
  EXPECT_EQ(tcp->to_header(), h);
  EXPECT_TRUE(tcp_checksum_ok(src_addr, dst_addr, tcp->bytes()));
}

TEST(TcpWrite, ChecksumCoversThePseudoHeaderAndEveryByte) {
  const auto payload = bytes_of("hello");
  std::array<std::uint8_t, 128> buf{};
  const std::size_t n = write_tcp(buf, sample_header(), payload, src_addr, dst_addr);
  ASSERT_GT(n, 0u);
  EXPECT_FALSE(tcp_checksum_ok(ipv4(10, 0, 0, 3), dst_addr, Bytes(buf).first(n)));
  EXPECT_FALSE(tcp_checksum_ok(src_addr, dst_addr, Bytes(buf).first(n - 1)));
  for (std::size_t i = 0; i < n; ++i) {
    SCOPED_TRACE(i);
    buf[i] ^= 0x01;
    EXPECT_FALSE(tcp_checksum_ok(src_addr, dst_addr, Bytes(buf).first(n)));
    buf[i] ^= 0x01;
  }
  EXPECT_TRUE(tcp_checksum_ok(src_addr, dst_addr, Bytes(buf).first(n)));
}

TEST(TcpWrite, InPlacePayloadAfterHeadroomMatchesTheCopy) {
  // A frame with headroom for Ethernet (14) and IPv4 (20): the payload is put where it
  // belongs first, then the header is written in front of it.
  const TcpHeader h = sample_header();
  const auto payload = bytes_of("in place!");
  constexpr std::size_t headroom = 14 + 20;
  std::array<std::uint8_t, 256> frame{};
  const std::size_t header_length = tcp_header_length(h);
  std::copy(payload.begin(), payload.end(), frame.begin() + headroom + header_length);
  const std::size_t n = write_tcp_in_place(MutableBytes(frame).subspan(headroom), h, payload.size(),
                                           src_addr, dst_addr);
  ASSERT_EQ(n, header_length + payload.size());

  std::array<std::uint8_t, 256> copied{};
  ASSERT_EQ(write_tcp(copied, h, payload, src_addr, dst_addr), n);
  EXPECT_EQ(to_hex(Bytes(frame).subspan(headroom, n)), to_hex(Bytes(copied).first(n)));
  EXPECT_TRUE(tcp_checksum_ok(src_addr, dst_addr, Bytes(frame).subspan(headroom, n)));
}

TEST(TcpWrite, GatheringFromTwoPiecesMatchesTheCopyAtEverySplit) {
  // A ring's payload comes in two pieces, split anywhere, odd places included; the pieces
  // are summed as they are copied, long enough for the vector loop and with an odd tail.
  const TcpHeader h = sample_header();
  std::vector<std::uint8_t> payload(1461);
  for (std::size_t i = 0; i < payload.size(); ++i)
    payload[i] = static_cast<std::uint8_t>(i * 7 + 1);
  std::vector<std::uint8_t> expected(2048);
  const std::size_t n = write_tcp(expected, h, payload, src_addr, dst_addr);
  ASSERT_GT(n, payload.size());
  for (std::size_t split = 0; split <= payload.size(); split += (split < 300 ? 1 : 97)) {
    std::vector<std::uint8_t> frame(2048, 0xee);
    const std::array<Bytes, 2> pieces = {Bytes(payload).first(split),
                                         Bytes(payload).subspan(split)};
    ASSERT_EQ(write_tcp_gathering(frame, h, pieces, src_addr, dst_addr), n) << split;
    ASSERT_EQ(to_hex(Bytes(frame).first(n)), to_hex(Bytes(expected).first(n))) << split;
    EXPECT_EQ(frame[n], 0xee) << "nothing written past the segment";
  }
}

TEST(TcpWrite, PayloadMayAlreadySitInTheOutputBuffer) {
  const TcpHeader h = sample_header();
  const std::size_t header_length = tcp_header_length(h);
  std::array<std::uint8_t, 128> expected{};
  const std::size_t n = write_tcp(expected, h, bytes_of("overlap"), src_addr, dst_addr);

  std::array<std::uint8_t, 128> buf{};
  const auto text = bytes_of("overlap");
  std::copy(text.begin(), text.end(), buf.begin() + header_length);  // exactly in place
  ASSERT_EQ(write_tcp(buf, h, Bytes(buf).subspan(header_length, 7), src_addr, dst_addr), n);
  EXPECT_EQ(to_hex(Bytes(buf).first(n)), to_hex(Bytes(expected).first(n)));

  buf.fill(0);
  std::copy(text.begin(), text.end(), buf.begin() + 3);  // overlapping the header's place
  ASSERT_EQ(write_tcp(buf, h, Bytes(buf).subspan(3, 7), src_addr, dst_addr), n);
  EXPECT_EQ(to_hex(Bytes(buf).first(n)), to_hex(Bytes(expected).first(n)));
}

TEST(TcpWrite, TooSmallBufferWritesNothing) {
  const TcpHeader h = sample_header();
  const auto payload = bytes_of("hello");
  std::vector<std::uint8_t> buf(tcp_header_length(h) + payload.size() - 1, 0xee);
  EXPECT_EQ(write_tcp(buf, h, payload, src_addr, dst_addr), 0u);
  EXPECT_EQ(write_tcp_in_place(buf, h, payload.size(), src_addr, dst_addr), 0u);
  EXPECT_EQ(buf, std::vector<std::uint8_t>(buf.size(), 0xee));
}

TEST(TcpWrite, SegmentOverTheIpv4LimitIsRefused) {
  TcpHeader h;
  std::vector<std::uint8_t> buf(70000);
  EXPECT_EQ(write_tcp_in_place(buf, h, 65535 - 20, src_addr, dst_addr), 65535u);
  EXPECT_EQ(write_tcp_in_place(buf, h, 65535 - 19, src_addr, dst_addr), 0u);
  EXPECT_FALSE(tcp_checksum_ok(src_addr, dst_addr, buf));
}

TEST(TcpWrite, MinimalHeaderHasOffsetFiveAndZeroReservedBits) {
  TcpHeader h;
  h.src_port = 1;
  h.dst_port = 2;
  h.seq = 3;
  h.ack = 4;
  h.flags = TcpFlags::rst | TcpFlags::ack;
  h.window = 0;
  h.urgent_pointer = 0x0102;
  std::array<std::uint8_t, 20> buf{};
  ASSERT_EQ(write_tcp(buf, h, {}, src_addr, dst_addr), 20u);
  const std::string hex = to_hex(buf);
  EXPECT_EQ(hex.substr(0, 32), "00010002000000030000000450140000");
  EXPECT_EQ(hex.substr(36), "0102");
  EXPECT_TRUE(tcp_checksum_ok(src_addr, dst_addr, buf));
}

// --- segments captured from Linux ----------------------------------------------------------
//
// Captured from Linux 6.18 (x86_64), as root, in a throwaway network namespace:
//   ip netns add synack-tcpcap; a python3 script inside it opened /dev/net/tun
//   (IFF_TUN | IFF_NO_PI) as "sk0", gave it 198.18.0.1/24 and brought it up, then
//   - SYN layouts: for each setting of net.ipv4.tcp_timestamps / tcp_sack /
//     tcp_window_scaling, a non-blocking connect() to 198.18.0.2:80, reading the SYN off
//     the TUN fd;
//   - data: after the SYN, the script wrote a SYN+ACK from 198.18.0.2 (MSS 1460, SACKOK,
//     TS val 1000, NOP WS 7; or with NOP NOP SACKOK in place of TS when timestamps were
//     off), read the kernel's ACK, sent b"hello" on the socket and read the data segment,
//     then wrote 10-byte out-of-order segments at +10, +30, +50, +70 to draw SACKs;
//   - SYN+ACK: a listener on 198.18.0.1:8080..8082 answered a hand-written SYN
//     (MSS 1460, SACKOK, TS, NOP, WS 7).
//   ip netns del synack-tcpcap.
// The hex is the TCP segment alone (IP header stripped); every segment went from
// 198.18.0.1 to 198.18.0.2. Linux's window scale on these SYNs was 10.
constexpr std::uint32_t linux_src = ipv4(198, 18, 0, 1);
constexpr std::uint32_t linux_dst = ipv4(198, 18, 0, 2);

struct Captured {
  const char* name;
  const char* hex;
};

// gtest names the case by this instead of dumping its bytes.
void PrintTo(const Captured& c, std::ostream* os) {
  *os << c.name;
}

constexpr Captured linux_segments[] = {
    // SYNs, one per sysctl setting.
    {"syn_ts_sack_ws",
     "cb020050e650169200000000a002faf03b120000020405b40402080a80173d85000000000103030a"},
    {"syn_ts_sack", "cb0800503a64953c000000009002faf023e80000020405b40402080aa174749f00000000"},
    {"syn_ts_ws",
     "cb1200509a18d07d00000000a002faf0eb370000020405b40101080a56dd4bd7000000000103030a"},
    {"syn_ts", "cb1a00502a7429f0000000009002faf0a9510000020405b40101080a6172ad6300000000"},
    {"syn_sack_ws", "cb200050410b88ab000000008002faf052ce0000020405b4010104020103030a"},
    {"syn_sack", "cb240050fac41fee000000007002faf015df0000020405b401010402"},
    {"syn_ws", "cb260050dd540b70000000007002faf048c10000020405b40103030a"},
    {"syn_bare", "cb3000506daba8e5000000006002faf02efc0000020405b4"},
    // A connection with timestamps and SACK.
    {"ts_ack", "8cb2005064e45ed8100000018010003f574800000101080a5670d7f5000003e8"},
    {"ts_data_hello", "8cb2005064e45ed8100000018018003f136900000101080a5670d7f5000003e868656c6c6f"},
    {"ts_sack1",
     "8cb2005064e45edd10000001b010003f010c00000101080a5670d7f5000003e80101050a1000000b10000015"},
    {"ts_sack2",
     "8cb2005064e45edd10000001d010003fc0b300000101080a5670d7f5000003e8010105121000001f100000291"
     "000000b10000015"},
    {"ts_sack3",
     "8cb2005064e45edd10000001f010003f803300000101080a5670d7f5000003e80101051a100000331000003d1"
     "000001f100000291000000b10000015"},
    // A connection with SACK and no timestamps.
    {"ack", "dd8a00511c1f328b100000015010003fe6e60000"},
    {"data_hello", "dd8a00511c1f328b100000015018003fa307000068656c6c6f"},
    {"sack1", "dd8a00511c1f3290100000018010003f90aa00000101050a1000000b10000015"},
    {"sack4",
     "dd8a00511c1f329010000001e010003fcf290000010105221000004710000051100000331000003d1000001f1"
     "00000291000000b10000015"},
    // SYN+ACKs from a listener.
    {"synack_ts_sack",
     "1f90bbd0c6f4a3c620000001a012fe880bb20000020405b40402080a018b49950000004d0103030a"},
    {"synack_sack", "1f91bbd1f933652e200000018012faf08e1f0000020405b4010104020103030a"},
    {"synack_ts",
     "1f92bbd28713bf8f20000001a012fe88fb1c0000020405b40101080a2fef52db0000004d0103030a"},
};

class LinuxSegment : public ::testing::TestWithParam<Captured> {};

TEST_P(LinuxSegment, ChecksumVerifies) {
  auto seg = from_hex(GetParam().hex);
  ASSERT_TRUE(TcpView::parse(seg).has_value());
  EXPECT_TRUE(tcp_checksum_ok(linux_src, linux_dst, seg));
  seg.back() ^= 0x80;
  EXPECT_FALSE(tcp_checksum_ok(linux_src, linux_dst, seg));
}

TEST_P(LinuxSegment, RebuildsByteForByteFromTheDecodedFields) {
  const auto seg = from_hex(GetParam().hex);
  const auto tcp = TcpView::parse(seg);
  ASSERT_TRUE(tcp.has_value());
  const TcpHeader h = tcp->to_header();
  EXPECT_EQ(h.options.malformed_known, 0);
  EXPECT_EQ(h.options.unknown, 0);
  std::array<std::uint8_t, 128> buf{};
  const std::size_t n = write_tcp(buf, h, tcp->payload(), linux_src, linux_dst);
  EXPECT_EQ(to_hex(Bytes(buf).first(n)), GetParam().hex);
}

INSTANTIATE_TEST_SUITE_P(Captured, LinuxSegment, ::testing::ValuesIn(linux_segments),
                         [](const ::testing::TestParamInfo<Captured>& param_info) {
                           return std::string(param_info.param.name);
                         });

TEST(LinuxSegmentFields, SynWithAllOptions) {
  const auto seg = from_hex(linux_segments[0].hex);
  const auto tcp = TcpView::parse(seg);
  ASSERT_TRUE(tcp.has_value());
  EXPECT_EQ(tcp->src_port(), 0xcb02);
  EXPECT_EQ(tcp->dst_port(), 80);
  EXPECT_EQ(tcp->seq(), 0xe6501692u);
  EXPECT_EQ(tcp->ack(), 0u);
  EXPECT_EQ(tcp->header_length(), 40u);
  EXPECT_EQ(tcp->flags(), TcpFlags::syn);
  EXPECT_EQ(tcp->window(), 64240);
  EXPECT_EQ(tcp->checksum(), 0x3b12);
  EXPECT_TRUE(tcp->payload().empty());
  const TcpOptions o = tcp->options();
  EXPECT_EQ(o.mss, 1460);
  EXPECT_TRUE(o.sack_permitted);
  EXPECT_EQ(o.timestamps, (TcpTimestamps{0x80173d85, 0}));
  EXPECT_EQ(o.window_scale, 10);
}

TEST(LinuxSegmentFields, DataWithOddPayloadAndTimestamps) {
  const auto seg = from_hex(linux_segments[9].hex);
  const auto tcp = TcpView::parse(seg);
  ASSERT_TRUE(tcp.has_value());
  EXPECT_EQ(tcp->flags(), TcpFlags::psh | TcpFlags::ack);
  EXPECT_EQ(tcp->seq(), 0x64e45ed8u);
  EXPECT_EQ(tcp->ack(), 0x10000001u);
  EXPECT_EQ(tcp->window(), 63);
  EXPECT_EQ(tcp->header_length(), 32u);
  EXPECT_EQ(tcp->options().timestamps, (TcpTimestamps{0x5670d7f5, 1000}));
  EXPECT_EQ(to_hex(tcp->payload()), to_hex(bytes_of("hello")));
}

TEST(LinuxSegmentFields, SackBlocksBesideTimestamps) {
  const auto seg = from_hex(linux_segments[12].hex);
  const auto tcp = TcpView::parse(seg);
  ASSERT_TRUE(tcp.has_value());
  const TcpOptions o = tcp->options();
  ASSERT_EQ(o.sacks().size(), 3u);
  EXPECT_EQ(o.sacks()[0], (SackBlock{0x10000033, 0x1000003d}));  // the newest block first
  EXPECT_EQ(o.sacks()[2], (SackBlock{0x1000000b, 0x10000015}));
}

}  // namespace
}  // namespace synack::wire
