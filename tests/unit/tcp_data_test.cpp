// Data on a clean link: segmentation by MSS, the peer's window, our advertised window and
// its updates (RFC 9293 §3.8.6), delayed ACKs (§3.8.6.3, RFC 5681 §4.2), Nagle (§3.7.4),
// the send buffer, and retransmission (RFC 6298).
#include <gtest/gtest.h>

#include "support/raw_peer.hpp"

namespace synack::testing {
namespace {

using tcp::State;

constexpr wire::TcpOptions kMss1000{.mss = 1000};

tcp::Config with_buffers(std::size_t send, std::size_t receive) {
  tcp::Config cfg = RawPeer::test_config();
  cfg.send_buffer = send;
  cfg.receive_buffer = receive;
  return cfg;
}

// --- Sending --------------------------------------------------------------------------------

TEST(Data, WriteIsCutIntoMssSegmentsWithPshOnTheLast) {
  RawPeer p;
  const Opened c = p.accept_established(1000, 65535, kMss1000);
  std::size_t n = 0;
  ASSERT_FALSE(p.write(c.socket, std::string(5000, 'x'), &n));
  EXPECT_EQ(n, 5000u);
  for (std::uint32_t i = 0; i < 5; ++i) {
    p.expect({.flags = i == 4 ? PSH | ACK : ACK,
              .seq = c.iss + 1 + 1000 * i,
              .ack = 1001,
              .window = 65535,
              .len = 1000});
  }
  p.expect_nothing();
}

TEST(Data, OnlyThePeersWindowIsSentUntilAnAckOpensIt) {
  RawPeer p;
  const Opened c = p.accept_established(1000, /*window=*/3000, kMss1000);
  ASSERT_FALSE(p.write(c.socket, std::string(5000, 'x')));
  p.expect({.flags = ACK, .seq = c.iss + 1, .len = 1000});
  p.expect({.flags = ACK, .seq = c.iss + 1001, .len = 1000});
  p.expect({.flags = ACK, .seq = c.iss + 2001, .len = 1000});
  p.expect_nothing();  // 3000 bytes in flight fill the window

  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 1001, .window = 3000});
  p.expect({.flags = ACK, .seq = c.iss + 3001, .len = 1000});
  p.expect_nothing();
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 4001, .window = 3000});
  p.expect({.flags = PSH | ACK, .seq = c.iss + 4001, .len = 1000});
  p.expect_nothing();
}

TEST(Data, NothingIsSentIntoAZeroWindowUntilItOpens) {
  RawPeer p;
  const Opened c = p.accept_established(1000, /*window=*/0);
  ASSERT_FALSE(p.write(c.socket, "waiting"));
  p.expect_nothing();
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 1, .window = 100});
  p.expect({.flags = PSH | ACK, .seq = c.iss + 1, .ack = 1001, .payload = "waiting"});
}

// --- Our receive window -----------------------------------------------------------------------

// Fills a 4096-byte receive buffer (the peer's MSS 1000), asserting each ACK's window.
Opened fill_receive_buffer(RawPeer& p) {
  const Opened c = p.accept_established(1000, 65535, kMss1000);
  const auto send = [&](std::uint32_t seq, std::size_t len) {
    p.inject({.flags = ACK, .seq = seq, .ack = c.iss + 1, .payload = std::string(len, 'd')});
  };
  send(1001, 1000);
  p.expect_nothing();  // one segment: the ACK is delayed
  send(2001, 1000);
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 3001, .window = 2096, .len = 0});
  send(3001, 1000);
  send(4001, 1000);
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 5001, .window = 96, .len = 0});
  send(5001, 96);
  p.advance(milliseconds(40));
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 5097, .window = 0, .len = 0});
  p.expect_nothing();
  return c;
}

TEST(ReceiveWindow, ShrinksAsTheBufferFillsWhileTheAppDoesNotRead) {
  RawPeer p(with_buffers(64 * 1024, 4096));
  fill_receive_buffer(p);
  EXPECT_EQ(p.counters().tcp.out_of_window, 0u);
}

TEST(ReceiveWindow, DataIntoAZeroWindowIsDroppedAndAcked) {
  RawPeer p(with_buffers(64 * 1024, 4096));
  const Opened c = fill_receive_buffer(p);
  p.inject({.flags = ACK, .seq = 5097, .ack = c.iss + 1, .payload = "x"});
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 5097, .window = 0, .len = 0});
  EXPECT_EQ(p.counters().tcp.out_of_window, 1u);
}

TEST(ReceiveWindow, ReadingTheFullBufferSendsAWindowUpdate) {
  RawPeer p(with_buffers(64 * 1024, 4096));
  const Opened c = fill_receive_buffer(p);
  std::string got;
  ASSERT_FALSE(p.read(c.socket, got));
  EXPECT_EQ(got.size(), 4096u);
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 5097, .window = 4096, .len = 0});
  p.expect_nothing();
}

TEST(ReceiveWindow, SmallReadsDoNotOpenAClosedWindowUntilAnMssIsFree) {
  // Receiver SWS avoidance (RFC 9293 §3.8.6.2.2 [MUST-39]): the window opens by at least
  // min(an MSS, half the buffer), here 1000 bytes, or stays shut.
  RawPeer p(with_buffers(64 * 1024, 4096));
  const Opened c = fill_receive_buffer(p);
  std::string got;
  ASSERT_FALSE(p.read(c.socket, got, 10));
  p.expect_nothing();
  p.inject({.flags = ACK, .seq = 5096, .ack = c.iss + 1});  // a probe below RCV.NXT
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 5097, .window = 0, .len = 0});
  ASSERT_FALSE(p.read(c.socket, got, 990));
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 5097, .window = 1000, .len = 0});
}

// --- Delayed ACKs -----------------------------------------------------------------------------

TEST(DelayedAck, OneSegmentIsAckedAfterExactly40Milliseconds) {
  RawPeer p;
  const Opened c = p.accept_established();
  p.inject({.flags = PSH | ACK, .seq = 1001, .ack = c.iss + 1, .payload = std::string(100, 'd')});
  const Instant arrived = p.now();
  p.expect_nothing();
  p.advance_to(arrived + milliseconds(40) - microseconds(1));
  p.expect_nothing();
  p.advance_to(arrived + milliseconds(40));
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 1101, .window = 65435, .len = 0});
}

TEST(DelayedAck, TwoFullSegmentsAreAckedAtOnce) {
  RawPeer p;
  const Opened c = p.accept_established();  // the peer's MSS is 1460
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 1, .payload = std::string(1460, 'd')});
  p.expect_nothing();
  p.inject({.flags = ACK, .seq = 2461, .ack = c.iss + 1, .payload = std::string(1460, 'd')});
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 3921, .window = 62615, .len = 0});
  p.advance(milliseconds(40));
  p.expect_nothing();  // the delayed ACK was cancelled
}

TEST(DelayedAck, OutOfOrderSegmentGetsADuplicateAckAtOnce) {
  RawPeer p;
  const Opened c = p.accept_established();
  p.inject({.flags = ACK, .seq = 1101, .ack = c.iss + 1, .payload = "after a hole"});
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 1001, .window = 65535, .len = 0});
  EXPECT_EQ(p.counters().tcp.out_of_order, 1u);
  std::string got;
  EXPECT_EQ(p.read(c.socket, got), std::errc::resource_unavailable_try_again);
}

TEST(DelayedAck, DuplicateSegmentIsAckedAtOnce) {
  RawPeer p;
  const Opened c = p.accept_established();
  p.inject({.flags = PSH | ACK, .seq = 1001, .ack = c.iss + 1, .payload = "abc"});
  p.expect_nothing();
  p.inject({.flags = PSH | ACK, .seq = 1001, .ack = c.iss + 1, .payload = "abc"});
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 1004, .len = 0});
  EXPECT_EQ(p.counters().tcp.out_of_window, 1u);
  std::string got;
  EXPECT_FALSE(p.read(c.socket, got));
  EXPECT_EQ(got, "abc");
}

// Segments taken in as one batch of frames (one Stack::poll) owe one cumulative ACK, sent
// when the batch is done, as Linux sends one for a GRO batch; an ACK owed for anything
// else still goes out segment by segment.
TEST(AckPerBatch, SixFullSegmentsInOneBatchGetOneAck) {
  RawPeer p;
  const Opened c = p.accept_established();
  const std::string full(1460, 'd');
  p.inject_together({{.flags = ACK, .seq = 1001, .ack = c.iss + 1, .payload = full},
                     {.flags = ACK, .seq = 2461, .ack = c.iss + 1, .payload = full},
                     {.flags = ACK, .seq = 3921, .ack = c.iss + 1, .payload = full},
                     {.flags = ACK, .seq = 5381, .ack = c.iss + 1, .payload = full},
                     {.flags = ACK, .seq = 6841, .ack = c.iss + 1, .payload = full},
                     {.flags = ACK, .seq = 8301, .ack = c.iss + 1, .payload = full}});
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 9761, .window = 56775, .len = 0});
  p.expect_nothing();
  p.advance(milliseconds(40));
  p.expect_nothing();  // no delayed ACK is left armed
}

TEST(AckPerBatch, OutOfOrderSegmentsInABatchEachGetTheirDuplicateAck) {
  RawPeer p;
  const Opened c = p.accept_established();
  const std::string full(1460, 'd');
  // Two in order, then two beyond a hole of one segment: the sender counts duplicate ACKs.
  p.inject_together({{.flags = ACK, .seq = 1001, .ack = c.iss + 1, .payload = full},
                     {.flags = ACK, .seq = 2461, .ack = c.iss + 1, .payload = full},
                     {.flags = ACK, .seq = 5381, .ack = c.iss + 1, .payload = full},
                     {.flags = ACK, .seq = 6841, .ack = c.iss + 1, .payload = full}});
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 3921, .len = 0});
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 3921, .len = 0});
  p.expect_nothing();
  EXPECT_EQ(p.counters().tcp.out_of_order, 2u);
}

TEST(AckPerBatch, AFinInTheBatchIsAckedWithTheDataBeforeIt) {
  RawPeer p;
  const Opened c = p.accept_established();
  const std::string full(1460, 'd');
  p.inject_together({{.flags = ACK, .seq = 1001, .ack = c.iss + 1, .payload = full},
                     {.flags = ACK, .seq = 2461, .ack = c.iss + 1, .payload = full},
                     {.flags = FIN | ACK, .seq = 3921, .ack = c.iss + 1}});
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 3922, .len = 0});
  p.expect_nothing();
  EXPECT_EQ(p.in_state(State::CloseWait), 1u);
}

// --- Nagle ------------------------------------------------------------------------------------

TEST(Nagle, SmallWriteWaitsWhileDataIsInFlight) {
  RawPeer p;
  const Opened c = p.accept_established();
  ASSERT_FALSE(p.write(c.socket, "a"));
  p.expect({.flags = PSH | ACK, .seq = c.iss + 1, .ack = 1001, .payload = "a"});
  ASSERT_FALSE(p.write(c.socket, "b"));
  ASSERT_FALSE(p.write(c.socket, "c"));
  p.expect_nothing();
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 2});
  p.expect({.flags = PSH | ACK, .seq = c.iss + 2, .ack = 1001, .payload = "bc"});
}

TEST(Nagle, NodelaySendsEachSmallWriteAtOnce) {
  RawPeer p;
  const Opened c = p.accept_established();
  ASSERT_FALSE(p.stack().setsockopt(c.socket, Option::nodelay, 1));
  ASSERT_FALSE(p.write(c.socket, "a"));
  p.expect({.flags = PSH | ACK, .seq = c.iss + 1, .payload = "a"});
  ASSERT_FALSE(p.write(c.socket, "b"));
  p.expect({.flags = PSH | ACK, .seq = c.iss + 2, .payload = "b"});
}

TEST(Nagle, AFullSegmentGoesEvenWithDataInFlight) {
  RawPeer p;
  const Opened c = p.accept_established(1000, 65535, kMss1000);
  ASSERT_FALSE(p.write(c.socket, "a"));
  p.expect({.flags = PSH | ACK, .seq = c.iss + 1, .len = 1});
  ASSERT_FALSE(p.write(c.socket, std::string(1500, 'x')));
  p.expect({.flags = ACK, .seq = c.iss + 2, .len = 1000});
  p.expect_nothing();  // the 500 left wait for the ACK
}

// --- The send buffer --------------------------------------------------------------------------

TEST(SendBuffer, ShortWriteWhenNearlyFullThenTryAgain) {
  RawPeer p(with_buffers(4096, 64 * 1024));
  const Opened c = p.accept_established(1000, /*window=*/0);  // nothing leaves the buffer
  std::size_t n = 0;
  ASSERT_FALSE(p.write(c.socket, std::string(3000, 'x'), &n));
  EXPECT_EQ(n, 3000u);
  ASSERT_FALSE(p.write(c.socket, std::string(3000, 'x'), &n));
  EXPECT_EQ(n, 1096u) << "a short write";
  EXPECT_FALSE(p.stack().readiness(c.socket).writable);
  EXPECT_EQ(p.write(c.socket, "x", &n), std::errc::resource_unavailable_try_again);
  EXPECT_EQ(n, 0u);
  p.expect_nothing();
}

TEST(SendBuffer, AcknowledgedDataFreesRoomAndTheSocketTurnsWritable) {
  RawPeer p(with_buffers(4096, 64 * 1024));
  const Opened c = p.accept_established(1000, /*window=*/0, kMss1000);
  ASSERT_FALSE(p.write(c.socket, std::string(4096, 'x')));
  EXPECT_FALSE(p.stack().readiness(c.socket).writable);

  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 1, .window = 2000});
  p.expect({.flags = ACK, .seq = c.iss + 1, .len = 1000});
  p.expect({.flags = ACK, .seq = c.iss + 1001, .len = 1000});
  EXPECT_FALSE(p.stack().readiness(c.socket).writable) << "sent is not acknowledged";

  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 2001, .window = 2000});
  p.expect({.flags = ACK, .seq = c.iss + 2001, .len = 1000});
  p.expect({.flags = ACK, .seq = c.iss + 3001, .len = 1000});
  p.expect_nothing();
  EXPECT_TRUE(p.stack().readiness(c.socket).writable);
  std::size_t n = 0;
  ASSERT_FALSE(p.write(c.socket, std::string(3000, 'y'), &n));
  EXPECT_EQ(n, 2000u);
}

// --- Retransmission ---------------------------------------------------------------------------

TEST(Retransmit, UnackedDataIsResentAfterTheRtoWithBackoff) {
  RawPeer p;
  const Opened c = p.accept_established();  // RTT 0: the RTO is its 200 ms minimum
  ASSERT_FALSE(p.write(c.socket, "hello"));
  const Seen first = p.expect({.flags = PSH | ACK, .seq = c.iss + 1, .payload = "hello"});
  p.advance_to(first.at + milliseconds(200) - microseconds(1));
  p.expect_nothing();
  p.advance_to(first.at + milliseconds(200));
  p.expect({.flags = PSH | ACK, .seq = c.iss + 1, .ack = 1001, .payload = "hello"});
  p.advance_to(first.at + milliseconds(200 + 400));
  p.expect({.flags = PSH | ACK, .seq = c.iss + 1, .ack = 1001, .payload = "hello"});
  EXPECT_EQ(p.counters().tcp.retrans_segs, 2u);
  EXPECT_EQ(p.counters().tcp.timeouts, 2u);

  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 6});
  p.advance(seconds(10));
  p.expect_nothing();
}

TEST(Retransmit, TheRtoFollowsTheMeasuredRoundTrip) {
  // RFC 6298 (2.2): SRTT = R, RTTVAR = R/2, RTO = SRTT + 4·RTTVAR = 300 ms for R = 100 ms.
  RawPeer p;
  const SocketId l = p.listen(80);
  p.inject({.flags = SYN, .seq = 1000});
  const std::uint32_t iss = p.expect({.flags = SYN | ACK}).header.seq;
  p.advance(milliseconds(100));
  p.inject({.flags = ACK, .seq = 1001, .ack = iss + 1});
  SocketId s = -1;
  ASSERT_FALSE(p.stack().accept(l, s));
  ASSERT_FALSE(p.write(s, "x"));
  const Seen first = p.expect({.flags = PSH | ACK, .seq = iss + 1});
  p.advance_to(first.at + milliseconds(300) - microseconds(1));
  p.expect_nothing();
  p.advance_to(first.at + milliseconds(300));
  p.expect({.flags = PSH | ACK, .seq = iss + 1, .len = 1});
}

TEST(Retransmit, AfterDataRetriesTheAppGetsTimedOut) {
  tcp::Config cfg = RawPeer::test_config();
  cfg.data_retries = 3;
  RawPeer p(cfg);
  const Opened c = p.accept_established();
  ASSERT_FALSE(p.write(c.socket, "hello"));
  const Seen first = p.expect({.flags = PSH | ACK, .seq = c.iss + 1});
  for (const int ms : {200, 600, 1400}) {
    p.advance_to(first.at + milliseconds(ms));
    p.expect({.flags = PSH | ACK, .seq = c.iss + 1, .len = 5});
  }
  p.advance_to(first.at + milliseconds(3000) - microseconds(1));
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::Established);
  p.advance_to(first.at + milliseconds(3000));
  p.expect_nothing();  // giving up sends nothing, as Linux
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::Closed);
  EXPECT_EQ(p.counters().tcp.timeouts, 4u);
  EXPECT_EQ(p.counters().tcp.retrans_segs, 3u);
  std::string got;
  EXPECT_EQ(p.read(c.socket, got), std::errc::timed_out);
  EXPECT_FALSE(p.read(c.socket, got));
  EXPECT_EQ(p.write(c.socket, "x"), std::errc::broken_pipe);
}

}  // namespace
}  // namespace synack::testing
