// SACK (RFC 2018) both ways. As sender: loss recovery driven by the scoreboard (RFC 6675):
// only the holes are resent, never SACKed data, new data goes while the pipe is below
// cwnd, and recovery ends at the recovery point; D-SACKs received (RFC 2883) undo a
// recovery that proved spurious. As receiver: SACK blocks newest first (RFC 2018 §4), at
// most three beside timestamps, and D-SACK for duplicates below RCV.NXT and above it.
#include <gtest/gtest.h>

#include "support/sender_test.hpp"

namespace synack::testing {
namespace {

const wire::TcpOptions kSynSack = syn_options(true, false, std::nullopt);

// --- Sender: RFC 6675 recovery ----------------------------------------------------------------

using SackRecovery = SenderTest;

TEST_F(SackRecovery, EachSackBeforeRecoveryLetsOneNewSegmentOut) {
  // SACKed data has left the network, so it no longer counts in flight: each of the first
  // two duplicates sends a new segment, which is RFC 3042's limited transmit (as Linux).
  open(20, kSynSack);
  expect_segs(0, 10);
  sack(0, {{1, 2}});
  expect_seg(10);
  p_.expect_nothing();
  sack(0, {{1, 3}});
  expect_seg(11);
  p_.expect_nothing();
  EXPECT_EQ(counters().dup_acks, 2u);
  EXPECT_EQ(counters().retrans_segs, 0u);
}

TEST_F(SackRecovery, ResendsOnlyTheHolesAndNeverSackedData) {
  // Segments 0 and 3 are lost. Two SACKs let 10 and 11 out; the third starts recovery:
  // ssthresh = cwnd = 12/2 = 6 segments, 0 resent at once. Segment 3 counts as lost once
  // more than 2 segments are SACKed above it (IsLost), and is resent when the pipe (sent,
  // not SACKed, not lost, plus resent) falls below cwnd. New data follows, never a
  // segment that was SACKed.
  open(20, kSynSack);
  expect_segs(0, 10);
  sack(0, {{1, 2}});
  expect_seg(10);
  sack(0, {{1, 3}});
  expect_seg(11);
  sack(0, {{4, 5}, {1, 3}});
  expect_seg(0);
  p_.expect_nothing();  // pipe: 3 and 5-11 not SACKed, 0 resent: 9 >= 6
  sack(0, {{4, 6}, {1, 3}});
  p_.expect_nothing();  // pipe 8
  sack(0, {{4, 7}, {1, 3}});
  p_.expect_nothing();  // 3 is lost now, so not in the pipe: 7-11 and 0 resent, 6
  sack(0, {{4, 8}, {1, 3}});
  expect_seg(3);  // pipe 5: the hole goes first, 5 -> 6
  p_.expect_nothing();
  sack(0, {{4, 9}, {1, 3}});
  expect_seg(12);  // no hole left to fill: new data
  sack(0, {{4, 10}, {1, 3}});
  expect_seg(13);
  p_.expect_nothing();
  EXPECT_EQ(counters().fast_retransmits, 1u);
  EXPECT_EQ(counters().sack_recoveries, 1u);
  EXPECT_EQ(counters().retrans_segs, 2u);
  EXPECT_EQ(counters().dup_acks, 8u);
  EXPECT_EQ(trace_.data_causes(),
            (std::vector<std::string>{"write()", "write()", "write()", "write()", "write()",
                                      "write()", "write()", "write()", "write()", "write()",
                                      "write()", "write()", "retransmit: fast retransmit",
                                      "retransmit: SACK hole", "write()", "write()"}));
}

TEST_F(SackRecovery, EndsAtTheRecoveryPointWithTheWindowOfRfc6582) {
  // As above, until 12 and 13 have gone; 10 and 11 arrive and let 14 and 15 out. The
  // resent 0 arrives (ACK up to 3: a partial ACK; no NewReno retransmission, since the
  // scoreboard knows 3 was resent) and 16 goes. Then the resent 3 (ACK up to 12, the
  // recovery point): recovery ends with cwnd = min(ssthresh, FlightSize + SMSS) =
  // min(6, 5 + 1) = 6, and congestion avoidance follows.
  open(30, kSynSack);
  expect_segs(0, 10);
  sack(0, {{1, 2}});
  expect_seg(10);
  sack(0, {{1, 3}});
  expect_seg(11);
  sack(0, {{4, 5}, {1, 3}});
  expect_seg(0);
  sack(0, {{4, 8}, {1, 3}});
  expect_seg(3);
  sack(0, {{4, 10}, {1, 3}});
  expect_segs(12, 14);
  p_.expect_nothing();
  sack(0, {{4, 12}, {1, 3}});
  expect_segs(14, 16);
  p_.expect_nothing();
  sack(3, {{4, 12}});
  expect_seg(16);  // pipe: 3 resent, 12-15 sent: 5 -> 6
  p_.expect_nothing();
  ack(12);  // FlightSize 5 (12-16): cwnd 6, one more segment
  expect_seg(17);
  p_.expect_nothing();
  ack(13);  // cwnd = ssthresh: congestion avoidance, no growth yet
  expect_seg(18);
  p_.expect_nothing();
  EXPECT_EQ(counters().retrans_segs, 2u);
  EXPECT_EQ(counters().fast_retransmits, 1u);
}

TEST_F(SackRecovery, AckThatSacksNothingNewIsNotADuplicate) {
  // RFC 6675 §2 (and Linux): with SACK, an ACK counts as a duplicate only if it SACKs data
  // not SACKed before; repeats of one block say nothing new about loss.
  open(10, kSynSack);
  expect_segs(0, 10);
  for (int i = 0; i < 5; ++i) sack(0, {{1, 2}});
  p_.expect_nothing();
  EXPECT_EQ(counters().dup_acks, 1u);
  EXPECT_EQ(counters().fast_retransmits, 0u);
}

TEST_F(SackRecovery, OneAckSackingThreeSegmentsStartsRecoveryAtOnce) {
  // RFC 6675 §5: recovery also starts when IsLost(HighACK + 1), more than
  // (DupThresh - 1)·SMSS SACKed above it, though only one duplicate has arrived (the ACKs
  // for the others were lost).
  open(10, kSynSack);
  expect_segs(0, 10);
  sack(0, {{1, 4}});
  expect_seg(0);
  EXPECT_EQ(counters().dup_acks, 1u);
  EXPECT_EQ(counters().fast_retransmits, 1u);
}

TEST_F(SackRecovery, AfterATimeoutSackedSegmentsAreNotSentAgain) {
  // The RTO goes back to SND.UNA, but skips what the receiver SACKed (it is trusted for
  // one timeout; RFC 2018 §8 lets the receiver renege, so not forever).
  open(6, kSynSack);
  expect_segs(0, 6);
  sack(0, {{1, 3}});
  p_.advance(milliseconds(200));
  expect_seg(0);  // cwnd 1
  p_.expect_nothing();
  ack(1);  // cwnd 2: 1 and 2 are SACKed, so 3 and 4 go
  expect_seg(3);
  expect_seg(4);
  p_.expect_nothing();
  EXPECT_EQ(trace_.data_causes().back(), "retransmit: RTO");
  EXPECT_EQ(counters().retrans_segs, 3u);
}

TEST_F(SackRecovery, DsackOfTheOnlyRetransmissionUndoesTheRecovery) {
  // Segment 0 was only delayed: 1-3 are SACKed (10 and 11 go by limited transmit), 0 is
  // resent, then the original arrives (the full ACK: cwnd = min(6, 0 + 1 + 1) = 2) and the
  // peer reports the resent copy as a duplicate (RFC 2883 D-SACK below the ACK). Every
  // retransmission of the recovery proved needless: the window goes back to the 10
  // segments it was (RFC 3708; Linux's DSACK undo), and 8 more segments leave at once.
  open(30, kSynSack);
  expect_segs(0, 10);
  sack(0, {{1, 2}});
  expect_seg(10);
  sack(0, {{1, 3}});
  expect_seg(11);
  sack(0, {{1, 4}});
  expect_seg(0);
  p_.expect_nothing();
  ack(12);
  expect_segs(12, 14);
  p_.expect_nothing();
  sack(12, {{0, 1}});
  expect_segs(14, 22);
  p_.expect_nothing();
  EXPECT_EQ(counters().dsacks_received, 1u);
  EXPECT_EQ(counters().spurious_recoveries, 1u);
  EXPECT_EQ(counters().dup_acks, 3u) << "the D-SACK is not a duplicate ACK";
}

TEST_F(SackRecovery, DsackInsideTheSecondBlockIsRecognised) {
  // RFC 2883 §4: a first block inside the second one is a D-SACK too (a duplicate above the
  // cumulative ACK). It is counted, and is no evidence of loss.
  open(10, kSynSack);
  expect_segs(0, 10);
  sack(0, {{2, 3}, {1, 4}});
  expect_seg(0);
  EXPECT_EQ(counters().dsacks_received, 1u);
  EXPECT_EQ(counters().fast_retransmits, 1u) << "the second block still SACKs 3 segments";
}

// --- Receiver: the SACK blocks we send --------------------------------------------------------

// An established connection whose peer offered SACK (and timestamps, if `ts`). The peer's
// data starts at 1001; each island is 100 bytes.
struct Receiver {
  explicit Receiver(bool ts) : ts_on(ts) {
    c = p.accept_established(1000, 65535, syn_options(true, ts, std::nullopt, 50));
  }
  void send(std::uint32_t from, std::uint32_t to) {
    In in{.flags = ACK,
          .seq = from,
          .ack = c.iss + 1,
          .payload = stream_bytes(from - 1001, to - from)};
    if (ts_on) in.options = ts_options(tsval++, 0);
    p.inject(in);
  }
  // Our next segment is an ACK of `ack` with exactly these SACK blocks.
  Seen expect_ack(std::uint32_t ack, std::vector<wire::SackBlock> blocks) {
    const Seen s = p.expect({.flags = ACK, .seq = c.iss + 1, .ack = ack, .len = 0});
    const auto got = s.header.options.sacks();
    EXPECT_EQ(std::vector<wire::SackBlock>(got.begin(), got.end()), blocks) << s.describe();
    return s;
  }
  RawPeer p;
  Opened c;
  bool ts_on;
  std::uint32_t tsval = 60;
};

TEST(SackBlocks, EachOutOfOrderSegmentIsAckedAtOnceNewestBlockFirst) {
  // RFC 2018 §4: the first block holds the segment that triggered the ACK; the others
  // repeat the most recently reported ones.
  Receiver r(false);
  r.send(1101, 1201);
  r.expect_ack(1001, {{1101, 1201}});
  r.send(1301, 1401);
  r.expect_ack(1001, {{1301, 1401}, {1101, 1201}});
  r.send(1501, 1601);
  r.expect_ack(1001, {{1501, 1601}, {1301, 1401}, {1101, 1201}});
  r.send(1401, 1501);  // joins two islands: the merged block comes first
  r.expect_ack(1001, {{1301, 1601}, {1101, 1201}});
  r.send(1201, 1301);
  r.expect_ack(1001, {{1101, 1601}});
  r.p.expect_nothing();
  EXPECT_EQ(r.p.counters().tcp.out_of_order, 5u);
}

TEST(SackBlocks, FillingTheHoleIsAckedAtOnceWithoutBlocks) {
  Receiver r(false);
  r.send(1101, 1201);
  r.expect_ack(1001, {{1101, 1201}});
  r.send(1001, 1101);
  r.expect_ack(1201, {});
  std::string got;
  ASSERT_FALSE(r.p.read(r.c.socket, got));
  EXPECT_EQ(got, stream_bytes(0, 200));
}

TEST(SackBlocks, PartlyFillingTheHoleIsAckedAtOnceWithTheRemainingBlocks) {
  // RFC 5681 §4.2: an immediate ACK when a segment fills all or part of a gap.
  Receiver r(false);
  r.send(1201, 1301);
  r.expect_ack(1001, {{1201, 1301}});
  r.send(1001, 1101);
  r.expect_ack(1101, {{1201, 1301}});
}

TEST(SackBlocks, FourBlocksWithoutTimestamps) {
  Receiver r(false);
  for (std::uint32_t i = 0; i < 5; ++i) r.send(1101 + 200 * i, 1201 + 200 * i);
  for (int i = 0; i < 4; ++i) r.p.expect({.flags = ACK, .ack = 1001});
  r.expect_ack(1001, {{1901, 2001}, {1701, 1801}, {1501, 1601}, {1301, 1401}});
}

TEST(SackBlocks, ThreeBlocksBesideTimestampsInTheLinuxLayout) {
  // 40 option bytes: NOP NOP TS (12) + NOP NOP SACK (2 + 3·8): three blocks fit, four do not.
  Receiver r(true);
  TraceRecorder trace(r.p.stack());
  for (std::uint32_t i = 0; i < 4; ++i) r.send(1101 + 200 * i, 1201 + 200 * i);
  for (int i = 0; i < 3; ++i) r.p.expect({.flags = ACK, .ack = 1001});
  const Seen s = r.expect_ack(1001, {{1701, 1801}, {1501, 1601}, {1301, 1401}});
  ASSERT_TRUE(s.header.options.timestamps);
  EXPECT_EQ(s.header.options.timestamps->tsecr, 50u) << "TS.Recent: out-of-order data "
                                                        "does not update it (RFC 7323 §4.3)";
  const auto& opts = trace.sent().back().options;
  ASSERT_EQ(opts.size(), 40u);
  EXPECT_EQ(std::vector<std::uint8_t>(opts.begin(), opts.begin() + 4), bytes_of({1, 1, 8, 10}));
  EXPECT_EQ(std::vector<std::uint8_t>(opts.begin() + 12, opts.begin() + 16),
            bytes_of({1, 1, 5, 26}));
}

TEST(SackBlocks, NoBlocksWhenThePeerDidNotOfferSack) {
  RawPeer p;
  const Opened c = p.accept_established();
  p.inject({.flags = ACK, .seq = 1101, .ack = c.iss + 1, .payload = std::string(100, 'x')});
  const Seen s = p.expect({.flags = ACK, .ack = 1001, .len = 0});
  EXPECT_EQ(s.header.options.sack_block_count, 0u);
}

// --- Receiver: D-SACK (RFC 2883) --------------------------------------------------------------

TEST(Dsack, ADuplicateBelowRcvNxtIsReportedFirstAndAckedAtOnce) {
  // RFC 2883 §4.1.1: the duplicate's range, below the cumulative ACK.
  Receiver r(false);
  r.send(1001, 1101);
  r.p.expect_nothing();  // delayed ACK
  r.send(1001, 1101);
  r.expect_ack(1101, {{1001, 1101}});
  EXPECT_EQ(r.p.counters().tcp.dsacks_sent, 1u);
  r.send(1101, 1201);
  r.p.advance(milliseconds(40));
  r.expect_ack(1201, {});  // reported once
  EXPECT_EQ(r.p.counters().tcp.dsacks_sent, 1u);
}

TEST(Dsack, APartlyDuplicateSegmentReportsTheOldPart) {
  // RFC 2883 §4.1.1 again, for the part of the segment below RCV.NXT; the new part is
  // taken and acknowledged as usual (here by the delayed ACK).
  Receiver r(false);
  r.send(1001, 1101);
  r.send(1051, 1151);
  r.p.advance(milliseconds(40));
  r.expect_ack(1151, {{1051, 1101}});
  std::string got;
  ASSERT_FALSE(r.p.read(r.c.socket, got));
  EXPECT_EQ(got, stream_bytes(0, 150));
}

TEST(Dsack, ADuplicateOfOutOfOrderDataComesFirstWithItsIslandSecond) {
  // RFC 2883 §4.1.2: a duplicate above RCV.NXT is reported first, and the second block is
  // the (larger) island that holds it, so the sender can tell it is a D-SACK (Linux's
  // tcp_check_dsack looks for exactly this). The other islands follow.
  Receiver r(false);
  r.send(1101, 1201);
  r.expect_ack(1001, {{1101, 1201}});
  r.send(1301, 1401);
  r.expect_ack(1001, {{1301, 1401}, {1101, 1201}});
  r.send(1101, 1201);  // again, the older island
  r.expect_ack(1001, {{1101, 1201}, {1101, 1201}, {1301, 1401}});
  EXPECT_EQ(r.p.counters().tcp.dsacks_sent, 1u);
}

TEST(Dsack, APartOfALargerIslandIsReportedWithTheWholeIsland) {
  Receiver r(false);
  r.send(1101, 1301);
  r.expect_ack(1001, {{1101, 1301}});
  r.send(1501, 1601);
  r.expect_ack(1001, {{1501, 1601}, {1101, 1301}});
  r.send(1151, 1251);
  r.expect_ack(1001, {{1151, 1251}, {1101, 1301}, {1501, 1601}});
  r.send(1701, 1801);  // the next ACK has no D-SACK
  r.expect_ack(1001, {{1701, 1801}, {1101, 1301}, {1501, 1601}});
}

TEST(Dsack, NotSentWhenSackWasNotNegotiated) {
  RawPeer p;
  const Opened c = p.accept_established();
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 1, .payload = "abc"});
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 1, .payload = "abc"});
  const Seen s = p.expect({.flags = ACK, .ack = 1004, .len = 0});
  EXPECT_EQ(s.header.options.sack_block_count, 0u);
  EXPECT_EQ(p.counters().tcp.dsacks_sent, 0u);
}

}  // namespace
}  // namespace synack::testing
