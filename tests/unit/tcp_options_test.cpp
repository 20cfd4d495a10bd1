// TCP options on the wire, byte for byte as Linux lays them out (tcp_options_write): our SYN
// and SYN,ACK for every combination of SACK, timestamps and window scaling; NOP,NOP,TS on
// data; SACK after NOP,NOP. Timestamps (RFC 7323 §3, §4.3): negotiation, TS.Recent, and
// PAWS (§5): an old timestamp refused with an ACK and counted, an RST never refused.
#include <gtest/gtest.h>

#include "support/raw_peer.hpp"
#include "support/stream_helpers.hpp"
#include "support/trace_recorder.hpp"

namespace synack::testing {
namespace {

using tcp::State;

struct Offer {
  bool sack, timestamps, window_scaling;
};

std::string name_of(const Offer& o) {
  std::string n;
  n += o.sack ? "Sack" : "NoSack";
  n += o.timestamps ? "Ts" : "NoTs";
  n += o.window_scaling ? "Ws" : "NoWs";
  return n;
}

// The option bytes Linux writes for a SYN offering `o`, with MSS 1460 and window shift 7;
// `tsval` and `tsecr` fill the timestamp option when there is one.
std::vector<std::uint8_t> linux_syn_layout(const Offer& o, std::uint32_t tsval,
                                           std::uint32_t tsecr) {
  std::vector<std::uint8_t> b = {2, 4, 0x05, 0xb4};  // MSS 1460
  if (o.timestamps) {
    const auto add32 = [&](std::uint32_t v) {
      for (int shift = 24; shift >= 0; shift -= 8)
        b.push_back(static_cast<std::uint8_t>(v >> shift));
    };
    if (o.sack) {
      b.insert(b.end(), {4, 2, 8, 10});  // SACK_PERM shares the word of TS
    } else {
      b.insert(b.end(), {1, 1, 8, 10});
    }
    add32(tsval);
    add32(tsecr);
  } else if (o.sack) {
    b.insert(b.end(), {1, 1, 4, 2});
  }
  // Shift 7: Linux's, for its 6 MiB tcp_rmem[2], and ours (tcp::Config::receive_buffer_max).
  if (o.window_scaling) b.insert(b.end(), {1, 3, 3, 7});
  return b;
}

class SynOptions : public ::testing::TestWithParam<Offer> {};

TEST_P(SynOptions, OurSynLaysOutWhatTheConfigOffersAsLinux) {
  const Offer o = GetParam();
  tcp::Config cfg = RawPeer::test_config();
  cfg.sack = o.sack;
  cfg.timestamps = o.timestamps;
  cfg.window_scaling = o.window_scaling;
  RawPeer p(cfg);
  TraceRecorder trace(p.stack());
  p.connect_from_stack();
  const Seen syn = p.expect({.flags = SYN, .window = 65535});
  const std::uint32_t tsval =
      syn.header.options.timestamps ? syn.header.options.timestamps->tsval : 0;
  EXPECT_EQ(trace.sent().back().options, linux_syn_layout(o, tsval, 0));
}

TEST_P(SynOptions, OurSynAckCarriesOnlyWhatThePeerOffered) {
  // Everything is on here; the peer's SYN offers the combination under test (MSS 1460,
  // shift 7, TSval 0x01020304), and the SYN,ACK answers each option it offered and no other.
  const Offer o = GetParam();
  tcp::Config cfg = RawPeer::test_config();
  cfg.window_scaling = true;
  RawPeer p(cfg);
  TraceRecorder trace(p.stack());
  p.listen(80);
  p.inject({.flags = SYN,
            .seq = 1000,
            .options =
                syn_options(o.sack, o.timestamps,
                            o.window_scaling ? std::optional<int>(7) : std::nullopt, 0x01020304)});
  const Seen synack = p.expect({.flags = SYN | ACK, .ack = 1001, .window = 65535});
  const std::uint32_t tsval =
      synack.header.options.timestamps ? synack.header.options.timestamps->tsval : 0;
  EXPECT_EQ(trace.sent().back().options, linux_syn_layout(o, tsval, 0x01020304));
}

INSTANTIATE_TEST_SUITE_P(EveryCombination, SynOptions,
                         ::testing::Values(Offer{true, true, true}, Offer{true, true, false},
                                           Offer{true, false, true}, Offer{true, false, false},
                                           Offer{false, true, true}, Offer{false, true, false},
                                           Offer{false, false, true}, Offer{false, false, false}),
                         [](const auto& p) { return name_of(p.param); });

// --- Options on segments after the SYN --------------------------------------------------------

TEST(SegmentOptions, DataCarriesNopNopTimestamps) {
  RawPeer p;
  const Opened c = p.accept_established(1000, 65535, syn_options(true, true, std::nullopt, 77));
  TraceRecorder trace(p.stack());
  ASSERT_FALSE(p.write(c.socket, "hello"));
  const Seen s = p.expect({.flags = PSH | ACK, .seq = c.iss + 1, .payload = "hello"});
  const auto& o = trace.sent().back().options;
  ASSERT_EQ(o.size(), 12u);
  EXPECT_EQ(std::vector<std::uint8_t>(o.begin(), o.begin() + 4), bytes_of({1, 1, 8, 10}));
  EXPECT_EQ(std::vector<std::uint8_t>(o.begin() + 8, o.end()), bytes_of({0, 0, 0, 77}))
      << "TSecr echoes the peer's SYN";
  EXPECT_FALSE(s.header.options.mss) << "MSS only on a SYN";
}

TEST(SegmentOptions, SackBlocksFollowNopNopAfterTheTimestamps) {
  RawPeer p;
  const Opened c = p.accept_established(1000, 65535, syn_options(true, true, std::nullopt, 77));
  TraceRecorder trace(p.stack());
  p.inject({.flags = ACK,
            .seq = 1101,
            .ack = c.iss + 1,
            .options = ts_options(78, 0),
            .payload = std::string(100, 'x')});
  p.expect({.flags = ACK, .ack = 1001, .len = 0});
  const auto& o = trace.sent().back().options;
  ASSERT_EQ(o.size(), 24u);
  EXPECT_EQ(std::vector<std::uint8_t>(o.begin() + 12, o.end()),
            bytes_of({1, 1, 5, 10, 0, 0, 0x04, 0x4d, 0, 0, 0x04, 0xb1}));  // [1101, 1201)
}

TEST(SegmentOptions, WithoutTimestampsSackBlocksFollowNopNop) {
  RawPeer p;
  const Opened c = p.accept_established(1000, 65535, syn_options(true, false, std::nullopt));
  TraceRecorder trace(p.stack());
  p.inject({.flags = ACK, .seq = 1101, .ack = c.iss + 1, .payload = std::string(100, 'x')});
  p.expect({.flags = ACK, .ack = 1001, .len = 0});
  EXPECT_EQ(trace.sent().back().options,
            bytes_of({1, 1, 5, 10, 0, 0, 0x04, 0x4d, 0, 0, 0x04, 0xb1}));
  ASSERT_FALSE(p.write(c.socket, "x"));
  p.expect({.flags = PSH | ACK, .len = 1});
  EXPECT_EQ(trace.sent().back().options,
            bytes_of({1, 1, 5, 10, 0, 0, 0x04, 0x4d, 0, 0, 0x04, 0xb1}))
      << "data carries the SACK blocks as long as the hole lasts";
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 2, .payload = std::string(100, 'y')});
  p.expect({.flags = ACK, .ack = 1201, .len = 0});
  EXPECT_TRUE(trace.sent().back().options.empty()) << "nothing to say: no options at all";
}

// --- Timestamps (RFC 7323) --------------------------------------------------------------------

// An established connection with timestamps; the peer's SYN had TSval 100.
Opened open_with_timestamps(RawPeer& p) {
  return p.accept_established(1000, 65535, syn_options(false, true, std::nullopt, 100));
}

void send(RawPeer& p, const Opened& c, std::uint32_t seq, std::uint32_t tsval, std::string payload,
          wire::TcpFlags extra = {}) {
  p.inject({.flags = ACK | extra,
            .seq = seq,
            .ack = c.iss + 1,
            .options = ts_options(tsval, 0),
            .payload = std::move(payload)});
}

TEST(Timestamps, NotUsedUnlessBothSynsCarryThem) {
  RawPeer p;
  const Opened c = p.accept_established();  // the peer's SYN has no timestamps
  ASSERT_FALSE(p.write(c.socket, "x"));
  const Seen s = p.expect({.flags = PSH | ACK, .len = 1});
  EXPECT_FALSE(s.header.options.timestamps);
  EXPECT_EQ(p.counters().tcp.paws_rejected, 0u);
}

TEST(Timestamps, OurClockTicksInMilliseconds) {
  RawPeer p;
  const Opened c = open_with_timestamps(p);
  ASSERT_FALSE(p.write(c.socket, "a"));
  const Seen a = p.expect({.flags = PSH | ACK, .len = 1});
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 2, .options = ts_options(101, 0)});
  p.advance(milliseconds(250));
  ASSERT_FALSE(p.write(c.socket, "b"));
  const Seen b = p.expect({.flags = PSH | ACK, .len = 1});
  EXPECT_EQ(b.header.options.timestamps->tsval - a.header.options.timestamps->tsval, 250u);
}

TEST(Timestamps, TsRecentComesFromTheSegmentAtTheLastAckSent) {
  // RFC 7323 §4.3: with the ACK delayed over two segments, TS.Recent keeps the TSval of the
  // earlier one (SEG.SEQ <= Last.ACK.sent), so the echo covers the whole delay.
  RawPeer p;
  const Opened c = open_with_timestamps(p);
  send(p, c, 1001, 300, std::string(1448, 'a'));
  send(p, c, 2449, 301, std::string(1448, 'b'));
  const Seen ack = p.expect({.flags = ACK, .ack = 3897, .len = 0});
  EXPECT_EQ(ack.header.options.timestamps->tsecr, 300u);
  send(p, c, 3897, 302, "c");
  p.advance(milliseconds(40));
  EXPECT_EQ(p.expect({.flags = ACK, .ack = 3898}).header.options.timestamps->tsecr, 302u);
}

TEST(Timestamps, OutOfOrderDataLeavesTsRecentAndTheSegmentFillingTheHoleSetsIt) {
  // RFC 7323 §4.3 (2): a segment past the last ACK sent does not touch TS.Recent; the
  // one that fills the hole does, and its ACK echoes it.
  RawPeer p;
  const Opened c = open_with_timestamps(p);
  send(p, c, 1101, 500, std::string(100, 'b'));
  EXPECT_EQ(p.expect({.flags = ACK, .ack = 1001}).header.options.timestamps->tsecr, 100u);
  send(p, c, 1001, 400, std::string(100, 'a'));
  EXPECT_EQ(p.expect({.flags = ACK, .ack = 1201}).header.options.timestamps->tsecr, 400u);
}

TEST(Paws, ASegmentWithAnOldTimestampIsRefusedWithAnAckAndCounted) {
  // RFC 7323 §5.3 R1: SEG.TSval < TS.Recent: an old duplicate. ACK and drop.
  RawPeer p;
  const Opened c = open_with_timestamps(p);
  send(p, c, 1001, 300, "new");
  p.advance(milliseconds(40));
  p.expect({.flags = ACK, .ack = 1004});
  send(p, c, 1004, 299, "old");
  const Seen ack = p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 1004, .len = 0});
  EXPECT_EQ(ack.header.options.timestamps->tsecr, 300u);
  EXPECT_EQ(p.counters().tcp.paws_rejected, 1u);
  std::string got;
  ASSERT_FALSE(p.read(c.socket, got));
  EXPECT_EQ(got, "new");
  send(p, c, 1004, 300, "ok!");  // an equal TSval is not old
  p.advance(milliseconds(40));
  p.expect({.flags = ACK, .ack = 1007});
  EXPECT_EQ(p.counters().tcp.paws_rejected, 1u);
}

TEST(Paws, TheComparisonWrapsModulo2To32) {
  RawPeer p;
  const Opened c =
      p.accept_established(1000, 65535, syn_options(false, true, std::nullopt, 0xfffffff0));
  send(p, c, 1001, 5, "after the wrap");  // 5 is 21 ticks after 0xfffffff0
  p.advance(milliseconds(40));
  EXPECT_EQ(p.expect({.flags = ACK, .ack = 1015}).header.options.timestamps->tsecr, 5u);
  send(p, c, 1015, 0xfffffff8, "before it");
  p.expect({.flags = ACK, .ack = 1015});
  EXPECT_EQ(p.counters().tcp.paws_rejected, 1u);
}

TEST(Paws, AnRstIsNeverRefusedForItsTimestamp) {
  RawPeer p;
  const Opened c = open_with_timestamps(p);
  send(p, c, 1001, 300, "x");
  p.inject({.flags = RST, .seq = 1002, .options = ts_options(1, 0)});
  p.expect_nothing();
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::Closed);
  EXPECT_EQ(p.counters().tcp.paws_rejected, 0u);
}

TEST(Paws, ASegmentWithoutATimestampIsAccepted) {
  // RFC 7323 §3.2 says such a segment SHOULD be dropped; like Linux, we take it.
  RawPeer p;
  const Opened c = open_with_timestamps(p);
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 1, .payload = "bare"});
  std::string got;
  ASSERT_FALSE(p.read(c.socket, got));
  EXPECT_EQ(got, "bare");
}

}  // namespace
}  // namespace synack::testing
