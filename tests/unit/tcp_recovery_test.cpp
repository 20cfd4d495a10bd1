// The sender's congestion window without SACK: the initial window of RFC 6928, slow start
// and congestion avoidance (RFC 5681 §3.1, with RFC 3465's byte counting), fast retransmit
// on three duplicate ACKs (RFC 5681 §3.2) and NewReno's recovery (RFC 6582): the window
// ssthresh + 3·SMSS, inflated by each further duplicate, deflated by a partial ACK that
// resends the next hole, and set on the full ACK. The window is read from the segments it
// lets out.
#include <gtest/gtest.h>

#include "support/sender_test.hpp"
#include "support/stream_helpers.hpp"

namespace synack::testing {
namespace {

constexpr std::uint32_t kMss = 1460;

using Stream = SenderTest;

// --- Slow start -------------------------------------------------------------------------------

using SlowStart = Stream;

TEST_F(SlowStart, InitialWindowIsTenSegments) {
  // RFC 6928: min(10·MSS, max(2·MSS, 14600)) = 14600 bytes, ten 1460-byte segments, then
  // nothing until an ACK, however much the window and the buffer would allow.
  open(40);
  expect_segs(0, 10);
  p_.expect_nothing();
  p_.advance(milliseconds(199));
  p_.expect_nothing();
}

TEST_F(SlowStart, WithTimestampsTheTenSegmentsCarry1448Bytes) {
  // The option takes 12 bytes of each segment (RFC 6691); the window still counts ten.
  open(40, syn_options(false, true, std::nullopt));
  for (std::uint32_t i = 0; i < 10; ++i) {
    const Seen s = p_.expect({.flags = ACK, .seq = c_.iss + 1 + 1448 * i, .len = 1448});
    EXPECT_TRUE(s.header.options.timestamps);
  }
  p_.expect_nothing();
}

TEST_F(SlowStart, EachAckGrowsTheWindowByWhatItAcknowledgesUpToTwoSegments) {
  // RFC 5681 eqn. 2 with RFC 3465's L = 2: cwnd += min(bytes acknowledged, 2·SMSS).
  open(40);
  expect_segs(0, 10);
  ack(1);  // 1 segment: cwnd 11, 9 in flight: 2 more
  expect_segs(10, 12);
  p_.expect_nothing();
  ack(3);  // 2 segments: cwnd 13, 9 in flight: 4 more
  expect_segs(12, 16);
  p_.expect_nothing();
  ack(6);  // 3 segments, counted as 2: cwnd 15, 10 in flight: 5 more
  expect_segs(16, 21);
  p_.expect_nothing();
}

TEST_F(SlowStart, AnAckThatOnlyUpdatesTheWindowSendsWhatTheNewWindowAllows) {
  // The peer's window is the other limit: 3 segments, then 10 once it opens.
  c_ = p_.accept_established(1000, 3 * kMss);
  segments_ = 20;
  ASSERT_FALSE(p_.write(c_.socket, std::string(20 * kMss, 'x')));
  expect_segs(0, 3);
  p_.expect_nothing();
  ack(0, 65535);
  expect_segs(3, 10);
  p_.expect_nothing();
  EXPECT_EQ(counters().dup_acks, 0u) << "a window update is not a duplicate ACK";
}

// --- Fast retransmit --------------------------------------------------------------------------

using FastRetransmit = Stream;

TEST_F(FastRetransmit, ThirdDuplicateAckResendsTheSegmentAtSndUnaOnce) {
  open(10);
  expect_segs(0, 10);
  ack(0);
  ack(0);
  p_.expect_nothing();  // two duplicates: no limited transmit, nothing new
  ack(0);
  const Seen rtx = expect_seg(0);
  p_.expect_nothing();
  for (int i = 0; i < 6; ++i) ack(0);
  p_.expect_nothing();  // further duplicates never resend it again
  EXPECT_EQ(counters().dup_acks, 9u);
  EXPECT_EQ(counters().fast_retransmits, 1u);
  EXPECT_EQ(counters().retrans_segs, 1u);
  EXPECT_EQ(counters().timeouts, 0u);
  EXPECT_EQ(trace_.data_causes().back(), "retransmit: fast retransmit");
  EXPECT_EQ(rtx.header.window, 65535);
}

TEST_F(FastRetransmit, AcksThatChangeTheWindowOrCarryDataAreNotDuplicates) {
  // RFC 5681 §2: a duplicate ACK carries no data and leaves the window as it was.
  open(10);
  expect_segs(0, 10);
  ack(0, 60000);
  ack(0, 50000);
  ack(0, 40000);
  p_.inject({.flags = ACK, .seq = 1001, .ack = seg(0), .window = 40000, .payload = "x"});
  p_.inject({.flags = ACK, .seq = 1002, .ack = seg(0), .window = 40000, .payload = "y"});
  p_.expect_nothing();
  p_.advance(milliseconds(40));
  p_.expect({.flags = ACK, .seq = seg(10), .ack = 1003, .len = 0});  // the delayed ACK
  EXPECT_EQ(counters().dup_acks, 0u);
  EXPECT_EQ(counters().fast_retransmits, 0u);
}

TEST_F(FastRetransmit, WindowIsSsthreshPlusThreeSegmentsThenInflatesByOnePerDuplicate) {
  // RFC 6582 §3.2 step 2: ssthresh = max(FlightSize/2, 2·SMSS) = 5 segments of the 10 in
  // flight; cwnd = ssthresh + 3 = 8. Step 3: each further duplicate adds one segment, so the
  // 6th duplicate brings cwnd to 11 and lets one new segment out, and each after it another.
  open(20);
  expect_segs(0, 10);
  for (int i = 0; i < 3; ++i) ack(0);
  expect_seg(0);
  ack(0);  // cwnd 9
  ack(0);  // cwnd 10
  p_.expect_nothing();
  ack(0);  // cwnd 11: 10 in flight
  expect_seg(10);
  p_.expect_nothing();
  ack(0);
  expect_seg(11);
  ack(0);
  expect_seg(12);
  p_.expect_nothing();
  EXPECT_EQ(trace_.data_causes().back(), "write()");
}

TEST_F(FastRetransmit, PartialAckResendsTheNextHoleAndDeflatesTheWindow) {
  // Segments 0 and 5 are lost. Eight duplicates (for 1-4 and 6-9) give cwnd 8 + 5 = 13
  // and segments 10-12. The retransmitted 0 fills the first hole: ACK up to 5, a partial
  // ACK (below "recover", the end of segment 9). Step 4: resend segment 5 at once, deflate
  // cwnd by the 5 segments acknowledged and add one back: 13 - 5 + 1 = 9, with 8 in
  // flight, so one new segment follows.
  open(20);
  expect_segs(0, 10);
  for (int i = 0; i < 8; ++i) ack(0);
  expect_seg(0);
  expect_segs(10, 13);
  p_.expect_nothing();
  ack(5);
  expect_seg(5);
  expect_seg(13);
  p_.expect_nothing();
  // Segments 10-12 arrive: each duplicate of the partial ACK inflates again.
  ack(5);
  expect_seg(14);
  ack(5);
  expect_seg(15);
  p_.expect_nothing();
  EXPECT_EQ(counters().fast_retransmits, 1u) << "still the same recovery";
  EXPECT_EQ(counters().retrans_segs, 2u);
  EXPECT_EQ(
      trace_.data_causes(),
      (std::vector<std::string>{"write()", "write()", "write()", "write()", "write()", "write()",
                                "write()", "write()", "write()", "write()",
                                "retransmit: fast retransmit", "write()", "write()", "write()",
                                "retransmit: fast retransmit", "write()", "write()", "write()"}));
}

TEST_F(FastRetransmit, FullAckEndsRecoveryWithTheWindowOfRfc6582) {
  // Continuing the partial ACK: the retransmitted 5 arrives with everything up to 15
  // (16 sent): the full ACK. Step 3 option 1: cwnd = min(ssthresh, max(FlightSize, SMSS) +
  // SMSS) = min(5, 1 + 1) = 2 segments, with 1 in flight: exactly one new segment.
  open(30);
  expect_segs(0, 10);
  for (int i = 0; i < 8; ++i) ack(0);
  expect_seg(0);
  expect_segs(10, 13);
  ack(5);
  expect_seg(5);
  expect_seg(13);
  ack(5);
  expect_seg(14);
  ack(5);
  expect_seg(15);
  p_.expect_nothing();
  ack(15);
  expect_seg(16);
  p_.expect_nothing();
  // Out of recovery, cwnd 2 = ssthresh 5 not reached: slow start again, +1 per segment.
  ack(16);
  expect_segs(17, 19);
  p_.expect_nothing();
}

TEST_F(FastRetransmit, FullAckWithMuchInFlightLeavesTheWindowAtSsthresh) {
  // Only segment 0 is lost. Nine duplicates: cwnd 8 + 6 = 14, segments 10-13 sent. The
  // retransmission's ACK covers 0-9: FlightSize is the 4 segments 10-13, so cwnd =
  // min(5, 4 + 1) = 5 = ssthresh, with 4 in flight: one new segment.
  open(30);
  expect_segs(0, 10);
  for (int i = 0; i < 9; ++i) ack(0);
  expect_seg(0);
  expect_segs(10, 14);
  p_.expect_nothing();
  ack(10);
  expect_seg(14);
  p_.expect_nothing();
  // Congestion avoidance (cwnd = ssthresh): one segment more per window of data ACKed.
  ack(11);  // 1 acked: cwnd stays 5, 4 in flight
  expect_seg(15);
  p_.expect_nothing();
  ack(15);  // 4 more, 5 in all: cwnd 6, 1 in flight: 5 new
  expect_segs(16, 21);
  p_.expect_nothing();
}

TEST_F(FastRetransmit, DuplicatesAfterATimeoutDoNotStartRecoveryForTheSameWindow) {
  // RFC 6582 §3.2 step 2 ("recover"): after the RTO, duplicates for data sent before it
  // (here from the peer receiving our go-back-N resends) must not trigger a fast
  // retransmit: the window has been reduced already.
  open(10);
  expect_segs(0, 10);
  p_.advance(milliseconds(200));
  expect_seg(0);  // RTO: cwnd 1
  ack(1);         // cwnd 2: resend 1 and 2
  expect_segs(1, 3);
  for (int i = 0; i < 4; ++i) ack(1);
  p_.expect_nothing();
  EXPECT_EQ(counters().fast_retransmits, 0u);
  EXPECT_EQ(counters().timeouts, 1u);
  EXPECT_EQ(trace_.data_causes().back(), "retransmit: RTO");
}

TEST_F(FastRetransmit, ANewLossAfterRecoveryStartsANewRecovery) {
  // Once SND.UNA has passed "recover", three duplicates mean a new loss.
  open(40);
  expect_segs(0, 10);
  for (int i = 0; i < 3; ++i) ack(0);
  expect_seg(0);
  ack(10);  // full ACK: cwnd = min(5, max(0, 1) + 1) = 2, nothing in flight
  expect_segs(10, 12);
  p_.expect_nothing();
  ack(11);  // slow start: cwnd 3, 1 in flight
  expect_segs(12, 14);
  for (int i = 0; i < 3; ++i) ack(11);
  expect_seg(11);
  EXPECT_EQ(counters().fast_retransmits, 2u);
}

}  // namespace
}  // namespace synack::testing
