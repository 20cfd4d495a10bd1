// TCP options: decoding (RFC 9293 §3.1/§3.2, RFC 7323, RFC 2018, with Linux's leniency for
// known kinds of the wrong length) and writing in Linux's exact byte layout.
#include "wire/tcp_options.hpp"

#include <gtest/gtest.h>

#include "support/hex.hpp"

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace synack::wire {
namespace {

using testing::from_hex;

// Hex in 4-byte words separated by spaces: "020405b4 01030307".
std::string to_hex_words(Bytes bytes) {
  return testing::to_hex(bytes, 4);
}

// Writes `options` and returns the hex, checking options_length agrees with what was written.
std::string emit(const TcpOptions& options, bool syn) {
  std::vector<std::uint8_t> buf(tcp_max_options_length, 0xee);
  const std::size_t n = write_options(buf, options, syn);
  EXPECT_EQ(n, options_length(options, syn));
  EXPECT_EQ(n % 4, 0u);
  return to_hex_words(Bytes(buf).first(n));
}

TcpOptions syn_options(bool ts, bool sack, bool ws) {
  TcpOptions o;
  o.mss = 1460;
  if (ts) o.timestamps = TcpTimestamps{0x01020304, 0};
  o.sack_permitted = sack;
  if (ws) o.window_scale = 7;
  return o;
}

// --- decoding ------------------------------------------------------------------------------

TEST(TcpOptionsDecode, EmptyListDecodesToNothing) {
  EXPECT_EQ(decode_options({}), TcpOptions{});
}

TEST(TcpOptionsDecode, LinuxSynOptionsGiveEveryField) {
  const auto bytes = from_hex("020405b4 0402080a 80173d85 00000000 0103030a");
  const TcpOptions o = decode_options(bytes);
  EXPECT_EQ(o.mss, 1460);
  EXPECT_TRUE(o.sack_permitted);
  ASSERT_TRUE(o.timestamps.has_value());
  EXPECT_EQ(o.timestamps->tsval, 0x80173d85u);
  EXPECT_EQ(o.timestamps->tsecr, 0u);
  EXPECT_EQ(o.window_scale, 10);
  EXPECT_EQ(o.sack_block_count, 0);
  EXPECT_EQ(o.malformed_known, 0);
  EXPECT_EQ(o.unknown, 0);
}

TEST(TcpOptionsDecode, SackBlocksAreDecodedInOrder) {
  const auto bytes = from_hex("0101 051a 10000033 1000003d 1000001f 10000029 1000000b 10000015");
  const TcpOptions o = decode_options(bytes);
  ASSERT_EQ(o.sacks().size(), 3u);
  EXPECT_EQ(o.sacks()[0], (SackBlock{0x10000033, 0x1000003d}));
  EXPECT_EQ(o.sacks()[1], (SackBlock{0x1000001f, 0x10000029}));
  EXPECT_EQ(o.sacks()[2], (SackBlock{0x1000000b, 0x10000015}));
}

TEST(TcpOptionsDecode, FourSackBlocksFillTheList) {
  const auto bytes = from_hex(
      "0101 0522 00000001 00000002 00000003 00000004 00000005 00000006"
      " 00000007 00000008");
  const TcpOptions o = decode_options(bytes);
  ASSERT_EQ(o.sacks().size(), 4u);
  EXPECT_EQ(o.sacks()[3], (SackBlock{7, 8}));
  EXPECT_EQ(o.malformed_known, 0);
}

TEST(TcpOptionsDecode, OptionsNeedNotBeWordAligned) {  // RFC 9293 MUST-64
  const auto bytes = from_hex("01 020405b4 0303 07 0402");
  const TcpOptions o = decode_options(bytes);
  EXPECT_EQ(o.mss, 1460);
  EXPECT_EQ(o.window_scale, 7);
  EXPECT_TRUE(o.sack_permitted);
}

TEST(TcpOptionsDecode, UnknownOptionsAreSkippedByTheirLengthAndCounted) {  // RFC 9293 MUST-6
  // kind 30 (MPTCP) length 4, then kind 254 (experimental) length 6, then MSS.
  const auto bytes = from_hex("1e04abcd fe06 01020304 020405b4");
  const TcpOptions o = decode_options(bytes);
  EXPECT_EQ(o.unknown, 2);
  EXPECT_EQ(o.mss, 1460);
  EXPECT_EQ(o.malformed_known, 0);
}

TEST(TcpOptionsDecode, UnknownOptionWithJustKindAndLengthIsSkipped) {
  const auto bytes = from_hex("2202 020405b4");
  const TcpOptions o = decode_options(bytes);
  EXPECT_EQ(o.unknown, 1);
  EXPECT_EQ(o.mss, 1460);
}

TEST(TcpOptionsDecode, EndOfListStopsDecoding) {
  const auto bytes = from_hex("020405b4 00 0303 07 000000");
  const TcpOptions o = decode_options(bytes);
  EXPECT_EQ(o.mss, 1460);
  EXPECT_FALSE(o.window_scale.has_value());
}

TEST(TcpOptionsDecode, EndOfListFirstMeansNoOptions) {
  const auto bytes = from_hex("00 020405b4 000000");
  EXPECT_EQ(decode_options(bytes), TcpOptions{});
}

struct WrongLength {
  const char* name;
  const char* hex;
};

// gtest names the case by this instead of dumping its bytes.
void PrintTo(const WrongLength& c, std::ostream* os) {
  *os << c.name;
}

class TcpOptionsWrongLength : public ::testing::TestWithParam<WrongLength> {};

TEST_P(TcpOptionsWrongLength, IsIgnoredAndCountedWhileTheRestDecodes) {
  // The malformed option sits between two good ones: both must still be read.
  const auto bytes =
      from_hex(std::string("0101080a 00000001 00000002 ") + GetParam().hex + " 0303 07");
  const TcpOptions o = decode_options(bytes);
  EXPECT_EQ(o.malformed_known, 1);
  EXPECT_EQ(o.unknown, 0);
  EXPECT_EQ(o.timestamps, (TcpTimestamps{1, 2}));
  EXPECT_EQ(o.window_scale, 7);
  EXPECT_FALSE(o.mss.has_value());
  EXPECT_FALSE(o.sack_permitted);
  EXPECT_EQ(o.sack_block_count, 0);
}

INSTANTIATE_TEST_SUITE_P(KnownKinds, TcpOptionsWrongLength,
                         ::testing::Values(WrongLength{"mss_length_3", "0203 05"},
                                           WrongLength{"mss_length_5", "0205 05b4 00"},
                                           WrongLength{"mss_length_2", "0202"},
                                           WrongLength{"sack_permitted_length_3", "0403 00"},
                                           WrongLength{"sack_length_2_no_blocks", "0502"},
                                           WrongLength{"sack_length_9", "0509 00000001 000000"},
                                           WrongLength{"sack_length_14",
                                                       "050e 00000001 00000002 00000003"}),
                         [](const ::testing::TestParamInfo<WrongLength>& param_info) {
                           return std::string(param_info.param.name);
                         });

TEST(TcpOptionsDecode, WrongLengthWindowScaleAndTimestampsAreIgnoredAndCounted) {
  const auto bytes = from_hex("0304 0700 0808 00000001 0000 020405b4");
  const TcpOptions o = decode_options(bytes);
  EXPECT_EQ(o.malformed_known, 2);
  EXPECT_FALSE(o.window_scale.has_value());
  EXPECT_FALSE(o.timestamps.has_value());
  EXPECT_EQ(o.mss, 1460);
}

TEST(TcpOptionsDecode, LaterCopyOfAnOptionReplacesTheEarlier) {
  const auto bytes = from_hex("02040218 020405b4 030301 030307");
  const TcpOptions o = decode_options(bytes);
  EXPECT_EQ(o.mss, 1460);
  EXPECT_EQ(o.window_scale, 7);
}

TEST(TcpOptionsDecode, SecondSackOptionReplacesTheFirstBlocks) {
  const auto bytes = from_hex("050a 00000001 00000002 0512 00000003 00000004 00000005 00000006");
  const TcpOptions o = decode_options(bytes);
  ASSERT_EQ(o.sacks().size(), 2u);
  EXPECT_EQ(o.sacks()[0], (SackBlock{3, 4}));
  EXPECT_EQ(o.sacks()[1], (SackBlock{5, 6}));
}

TEST(TcpOptionsDecode, WindowScaleAbove14IsKeptAsReceived) {
  const auto bytes = from_hex("010303 0f");
  EXPECT_EQ(decode_options(bytes).window_scale, 15);
}

TEST(TcpOptionsDecode, StopsAtABadLengthKeepingWhatCameBefore) {
  const auto bytes = from_hex("020405b4 0300 0303 07");
  const TcpOptions o = decode_options(bytes);
  EXPECT_EQ(o.mss, 1460);
  EXPECT_FALSE(o.window_scale.has_value());
}

// --- well-formedness (what TcpView::parse rejects) -----------------------------------------

TEST(TcpOptionsWellFormed, AcceptsEmptyNopsAndEndOfList) {
  EXPECT_TRUE(tcp_options_well_formed({}));
  EXPECT_TRUE(tcp_options_well_formed(from_hex("01010101")));
  EXPECT_TRUE(tcp_options_well_formed(from_hex("00000000")));
}

TEST(TcpOptionsWellFormed, IgnoresGarbageAfterEndOfList) {
  EXPECT_TRUE(tcp_options_well_formed(from_hex("020405b4 00 0500 ff")));
}

TEST(TcpOptionsWellFormed, RejectsLengthZero) {
  EXPECT_FALSE(tcp_options_well_formed(from_hex("0200 0000")));
}

TEST(TcpOptionsWellFormed, RejectsLengthOne) {
  EXPECT_FALSE(tcp_options_well_formed(from_hex("0101 0801")));
}

TEST(TcpOptionsWellFormed, RejectsAnOptionRunningPastTheEnd) {
  EXPECT_FALSE(tcp_options_well_formed(from_hex("0101 080a 00000001 0000")));
}

TEST(TcpOptionsWellFormed, RejectsAMissingLengthByte) {
  EXPECT_FALSE(tcp_options_well_formed(from_hex("010101 02")));
}

TEST(TcpOptionsWellFormed, RejectsUnknownKindWithBadLength) {
  EXPECT_FALSE(tcp_options_well_formed(from_hex("fe01 0000")));
}

TEST(TcpOptionsWellFormed, AcceptsWrongLengthKnownKindsThatFit) {
  EXPECT_TRUE(tcp_options_well_formed(from_hex("0203 05 0502 010101")));
}

// --- writing in Linux's layout -------------------------------------------------------------
// Layouts confirmed against SYNs captured from Linux 6.18 (see wire_tcp_test.cpp), which
// emits them from tcp_options_write() in net/ipv4/tcp_output.c.

TEST(TcpOptionsWrite, SynWithTimestampsSackAndWindowScale) {
  EXPECT_EQ(emit(syn_options(true, true, true), true),
            "020405b4 0402080a 01020304 00000000 01030307");
}

TEST(TcpOptionsWrite, SynWithTimestampsAndWindowScaleNoSack) {
  EXPECT_EQ(emit(syn_options(true, false, true), true),
            "020405b4 0101080a 01020304 00000000 01030307");
}

TEST(TcpOptionsWrite, SynWithSackAndWindowScaleNoTimestamps) {
  EXPECT_EQ(emit(syn_options(false, true, true), true), "020405b4 01010402 01030307");
}

TEST(TcpOptionsWrite, SynWithTimestampsAndSackNoWindowScale) {
  EXPECT_EQ(emit(syn_options(true, true, false), true), "020405b4 0402080a 01020304 00000000");
}

TEST(TcpOptionsWrite, SynWithTimestampsOnly) {
  EXPECT_EQ(emit(syn_options(true, false, false), true), "020405b4 0101080a 01020304 00000000");
}

TEST(TcpOptionsWrite, SynWithSackOnly) {
  EXPECT_EQ(emit(syn_options(false, true, false), true), "020405b4 01010402");
}

TEST(TcpOptionsWrite, SynWithWindowScaleOnly) {
  EXPECT_EQ(emit(syn_options(false, false, true), true), "020405b4 01030307");
}

TEST(TcpOptionsWrite, SynWithMssOnly) {
  EXPECT_EQ(emit(syn_options(false, false, false), true), "020405b4");
}

TEST(TcpOptionsWrite, NothingSetWritesNothing) {
  EXPECT_EQ(emit(TcpOptions{}, true), "");
  EXPECT_EQ(emit(TcpOptions{}, false), "");
}

TEST(TcpOptionsWrite, DataSegmentWithTimestamps) {
  TcpOptions o;
  o.timestamps = TcpTimestamps{0x5670d7f5, 0x3e8};
  EXPECT_EQ(emit(o, false), "0101080a 5670d7f5 000003e8");
}

TEST(TcpOptionsWrite, NonSynLeavesOutMssWindowScaleAndSackPermitted) {  // RFC 9293 MUST-65
  TcpOptions o = syn_options(true, true, true);
  o.timestamps = TcpTimestamps{7, 9};
  EXPECT_EQ(emit(o, false), "0101080a 00000007 00000009");
}

TEST(TcpOptionsWrite, SynLeavesOutSackBlocks) {
  TcpOptions o;
  o.mss = 536;
  o.add_sack({1, 2});
  EXPECT_EQ(emit(o, true), "02040218");
}

TEST(TcpOptionsWrite, SackBlocksFollowTimestamps) {
  TcpOptions o;
  o.timestamps = TcpTimestamps{0x5670d7f5, 0x3e8};
  o.add_sack({0x1000000b, 0x10000015});
  EXPECT_EQ(emit(o, false), "0101080a 5670d7f5 000003e8 0101050a 1000000b 10000015");
  o.add_sack({0x1000001f, 0x10000029});
  o.add_sack({0x10000033, 0x1000003d});
  EXPECT_EQ(emit(o, false),
            "0101080a 5670d7f5 000003e8 "
            "0101051a 1000000b 10000015 1000001f 10000029 10000033 1000003d");
}

TEST(TcpOptionsWrite, OnlyThreeSackBlocksFitBesideTimestamps) {
  TcpOptions o;
  o.timestamps = TcpTimestamps{1, 2};
  for (std::uint32_t i = 0; i < 4; ++i) ASSERT_TRUE(o.add_sack({10 * i, 10 * i + 5}));
  EXPECT_EQ(options_length(o, false), 40u);
  EXPECT_EQ(emit(o, false),
            "0101080a 00000001 00000002 "
            "0101051a 00000000 00000005 0000000a 0000000f 00000014 00000019");
}

TEST(TcpOptionsWrite, FourSackBlocksFitWithoutTimestamps) {
  TcpOptions o;
  for (std::uint32_t i = 0; i < 4; ++i) ASSERT_TRUE(o.add_sack({10 * i, 10 * i + 5}));
  EXPECT_FALSE(o.add_sack({100, 105}));
  EXPECT_EQ(options_length(o, false), 36u);
  EXPECT_EQ(emit(o, false),
            "01010522 00000000 00000005 0000000a 0000000f 00000014 00000019 0000001e 00000023");
}

TEST(TcpOptionsWrite, TooSmallBufferWritesNothing) {
  std::vector<std::uint8_t> buf(19, 0xee);
  EXPECT_EQ(write_options(buf, syn_options(true, true, true), true), 0u);
  EXPECT_EQ(buf, std::vector<std::uint8_t>(19, 0xee));
}

TEST(TcpOptionsWrite, DecodesBackToTheSameOptions) {
  for (int mask = 0; mask < 8; ++mask) {
    SCOPED_TRACE(mask);
    const TcpOptions o = syn_options(mask & 1, mask & 2, mask & 4);
    std::vector<std::uint8_t> buf(tcp_max_options_length);
    buf.resize(write_options(buf, o, true));
    EXPECT_EQ(decode_options(buf), o);
  }
  TcpOptions data;
  data.timestamps = TcpTimestamps{0xfffffffe, 0x80000000};
  data.add_sack({0xfffffff0, 0x10});
  data.add_sack({0x20, 0x30});
  std::vector<std::uint8_t> buf(tcp_max_options_length);
  buf.resize(write_options(buf, data, false));
  EXPECT_EQ(decode_options(buf), data);
}

}  // namespace
}  // namespace synack::wire
