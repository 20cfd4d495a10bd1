// The retransmission timer on a timeline (RFC 6298): the initial RTO, SRTT and RTTVAR from
// samples with the 200 ms floor, doubling on each expiry up to rto_max, giving up after
// data_retries; Karn's algorithm without timestamps, and RTT samples from the echoed TSecr
// with them (RFC 7323 §4).
#include <gtest/gtest.h>

#include "support/raw_peer.hpp"
#include "support/stream_helpers.hpp"
#include "support/trace_recorder.hpp"

namespace synack::testing {
namespace {

using tcp::State;

constexpr wire::TcpOptions kMss1000{.mss = 1000};

// A passive open whose final ACK arrives `rtt` after our SYN,ACK (no timestamps), so the
// handshake gives one RTT sample of exactly `rtt`.
Opened accept_with_rtt(RawPeer& p, Duration rtt,
                       const wire::TcpOptions& syn = RawPeer::default_syn_options()) {
  Opened o;
  o.peer_iss = 1000;
  o.listener = p.listen(80);
  p.inject({.flags = SYN, .seq = 1000, .options = syn});
  o.iss = p.expect({.flags = SYN | ACK, .ack = 1001}).header.seq;
  p.advance(rtt);
  p.inject({.flags = ACK, .seq = 1001, .ack = o.iss + 1});
  p.expect_nothing();
  EXPECT_FALSE(p.stack().accept(o.listener, o.socket));
  return o;
}

// Writes `data`, expects it to go at once, and returns when it went.
Instant send_now(RawPeer& p, const Opened& c, std::uint32_t seq, const std::string& data) {
  EXPECT_FALSE(p.write(c.socket, data));
  return p.expect({.flags = PSH | ACK, .seq = seq, .payload = data}).at;
}

// The segment at `seq` is retransmitted at exactly `when`, and not a microsecond before.
void expect_retransmission_at(RawPeer& p, Instant when, std::uint32_t seq) {
  p.advance_to(when - microseconds(1));
  p.expect_nothing();
  p.advance_to(when);
  p.expect({.flags = PSH | ACK, .seq = seq});
}

// --- The initial RTO --------------------------------------------------------------------------

TEST(Rto, DataWithNoRttSampleYetWaitsTheInitialOneSecondThenTwo) {
  // RFC 6298 (2.1). Timestamps are on, and the peer's ACK of our SYN,ACK carries none, so
  // nothing has been measured when the data goes.
  RawPeer p;
  const SocketId l = p.listen(80);
  p.inject({.flags = SYN, .seq = 1000, .options = syn_options(false, true, std::nullopt)});
  const std::uint32_t iss = p.expect({.flags = SYN | ACK, .ack = 1001}).header.seq;
  p.inject({.flags = ACK, .seq = 1001, .ack = iss + 1});
  SocketId s = -1;
  ASSERT_FALSE(p.stack().accept(l, s));
  const Instant sent = send_now(p, {.socket = s, .iss = iss}, iss + 1, "hello");
  expect_retransmission_at(p, sent + seconds(1), iss + 1);
  expect_retransmission_at(p, sent + seconds(1 + 2), iss + 1);
}

TEST(Rto, AfterARetransmittedSynAckDataStartsWithThreeSeconds) {
  // RFC 6298 (5.7): the SYN,ACK timed out and Karn's rule leaves no sample, so the RTO is
  // re-initialized to 3 s when data transmission begins (Linux: TCP_TIMEOUT_FALLBACK).
  RawPeer p;
  const SocketId l = p.listen(80);
  p.inject({.flags = SYN, .seq = 1000});
  const Seen synack = p.expect({.flags = SYN | ACK, .ack = 1001});
  const std::uint32_t iss = synack.header.seq;
  p.advance_to(synack.at + seconds(1));
  p.expect({.flags = SYN | ACK, .seq = iss, .ack = 1001});
  p.advance(milliseconds(50));
  p.inject({.flags = ACK, .seq = 1001, .ack = iss + 1});
  SocketId s = -1;
  ASSERT_FALSE(p.stack().accept(l, s));
  const Instant sent = send_now(p, {.socket = s, .iss = iss}, iss + 1, "hello");
  expect_retransmission_at(p, sent + seconds(3), iss + 1);
  expect_retransmission_at(p, sent + seconds(3 + 6), iss + 1);
}

TEST(Rto, AfterARetransmittedSynDataStartsWithThreeSeconds) {
  // RFC 6298 (5.7), the active side: the SYN went twice, so its SYN,ACK is no sample.
  RawPeer p;
  const SocketId s = p.connect_from_stack();
  const Seen syn = p.expect({.flags = SYN});
  p.advance_to(syn.at + seconds(1));
  p.expect({.flags = SYN, .seq = syn.header.seq});
  p.advance(milliseconds(50));
  p.inject({.flags = SYN | ACK, .seq = 5000, .ack = syn.header.seq + 1});
  p.expect({.flags = ACK, .seq = syn.header.seq + 1, .ack = 5001});
  const Instant sent = send_now(p, {.socket = s, .iss = syn.header.seq}, syn.header.seq + 1, "hi");
  expect_retransmission_at(p, sent + seconds(3), syn.header.seq + 1);
}

TEST(Rto, RetransmittedSynAckStillGivesASampleThroughItsTimestamp) {
  // RFC 7323 §4: the ACK echoes the retransmitted SYN,ACK's TSval, so the round trip is
  // known (100 ms) and (5.7) does not apply: RTO = 100 + 4·50 = 300 ms.
  RawPeer p;
  const SocketId l = p.listen(80);
  p.inject({.flags = SYN, .seq = 1000, .options = syn_options(false, true, std::nullopt, 7)});
  const Seen first = p.expect({.flags = SYN | ACK, .ack = 1001});
  p.advance_to(first.at + seconds(1));
  const Seen again = p.expect({.flags = SYN | ACK, .seq = first.header.seq, .ack = 1001});
  ASSERT_TRUE(again.header.options.timestamps);
  p.advance(milliseconds(100));
  p.inject({.flags = ACK,
            .seq = 1001,
            .ack = first.header.seq + 1,
            .options = ts_options(8, again.header.options.timestamps->tsval)});
  SocketId s = -1;
  ASSERT_FALSE(p.stack().accept(l, s));
  const std::uint32_t iss = first.header.seq;
  const Instant sent = send_now(p, {.socket = s, .iss = iss}, iss + 1, "hello");
  expect_retransmission_at(p, sent + milliseconds(300), iss + 1);
}

// --- RFC 6298 §2: SRTT, RTTVAR, and the floor -------------------------------------------------

TEST(Rto, FirstSampleSetsSrttAndRttvar) {
  // (2.2): SRTT = R = 250 ms, RTTVAR = R/2, RTO = SRTT + 4·RTTVAR = 750 ms.
  RawPeer p;
  const SocketId s = p.connect_from_stack();
  const std::uint32_t iss = p.expect({.flags = SYN}).header.seq;
  p.advance(milliseconds(250));
  p.inject({.flags = SYN | ACK, .seq = 5000, .ack = iss + 1});
  p.expect({.flags = ACK, .seq = iss + 1, .ack = 5001});
  const Instant sent = send_now(p, {.socket = s, .iss = iss}, iss + 1, "x");
  expect_retransmission_at(p, sent + milliseconds(750), iss + 1);
}

TEST(Rto, LaterSamplesAreSmoothedWithAlphaAndBeta) {
  // (2.3): after R = 100 ms (RTO 300 ms), a sample R' = 250 ms gives
  // RTTVAR = 3/4·50 + 1/4·|100 - 250| = 75, SRTT = 7/8·100 + 1/8·250 = 118.75,
  // RTO = 118.75 + 4·75 = 418.75 ms.
  RawPeer p;
  const Opened c = accept_with_rtt(p, milliseconds(100));
  send_now(p, c, c.iss + 1, "a");
  p.advance(milliseconds(250));
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 2});
  const Instant sent = send_now(p, c, c.iss + 2, "b");
  expect_retransmission_at(p, sent + microseconds(418'750), c.iss + 2);
}

TEST(Rto, ShortRoundTripsAreFlooredAtRtoMin) {
  // 10 ms gives SRTT + 4·RTTVAR = 30 ms; the RTO is never below rto_min (200 ms, Linux's
  // TCP_RTO_MIN; RFC 6298 (2.4) would say 1 s).
  RawPeer p;
  const Opened c = accept_with_rtt(p, milliseconds(10));
  const Instant sent = send_now(p, c, c.iss + 1, "x");
  expect_retransmission_at(p, sent + milliseconds(200), c.iss + 1);
}

TEST(Rto, TheFloorIsTheConfiguredRtoMin) {
  tcp::Config cfg = RawPeer::test_config();
  cfg.rto_min = milliseconds(50);
  RawPeer p(cfg);
  const Opened c = accept_with_rtt(p, milliseconds(10));
  const Instant sent = send_now(p, c, c.iss + 1, "x");
  expect_retransmission_at(p, sent + milliseconds(50), c.iss + 1);
}

// --- Backoff ----------------------------------------------------------------------------------

TEST(Rto, EachExpiryDoublesTheTimeout) {
  // (5.5): 200, 400, 800, 1600, 3200 ms between the retransmissions, each an RTO.
  RawPeer p;
  const Opened c = p.accept_established();
  TraceRecorder trace(p.stack());
  const Instant sent = send_now(p, c, c.iss + 1, "hello");
  Instant at = sent;
  Duration gap = milliseconds(200);
  for (int i = 0; i < 5; ++i) {
    at += gap;
    expect_retransmission_at(p, at, c.iss + 1);
    gap *= 2;
  }
  EXPECT_EQ(p.counters().tcp.timeouts, 5u);
  EXPECT_EQ(p.counters().tcp.retrans_segs, 5u);
  EXPECT_EQ(trace.data_causes(),
            (std::vector<std::string>{"write()", "retransmit: RTO", "retransmit: RTO",
                                      "retransmit: RTO", "retransmit: RTO", "retransmit: RTO"}));
  EXPECT_EQ(trace.timers(), (std::vector<std::string>(5, "retransmit")));
}

TEST(Rto, BackoffStopsAtRtoMaxAndTheConnectionTimesOutAfterDataRetries) {
  // The defaults of Linux: 15 retransmissions (tcp_retries2), the RTO doubling from 200 ms
  // to its 120 s cap, and the connection given up 924.6 s after the first transmission.
  RawPeer p;
  const Opened c = p.accept_established();
  TraceRecorder trace(p.stack());
  const Instant sent = send_now(p, c, c.iss + 1, "hello");
  Instant at = sent;
  Duration gap = milliseconds(200);
  for (int i = 0; i < 15; ++i) {
    at += gap;
    expect_retransmission_at(p, at, c.iss + 1);
    gap = std::min<Duration>(gap * 2, seconds(120));
  }
  EXPECT_EQ(at - sent, milliseconds(204'600 + 5 * 120'000));
  p.advance_to(at + seconds(120) - microseconds(1));
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::Established);
  p.advance_to(at + seconds(120));
  EXPECT_EQ(p.now() - sent, milliseconds(924'600));
  p.expect_nothing();
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::Closed);
  EXPECT_EQ(p.stack().socket_error(c.socket), std::errc::timed_out);
  EXPECT_EQ(p.counters().tcp.timeouts, 16u);
  EXPECT_EQ(p.counters().tcp.retrans_segs, 15u);
}

TEST(Rto, ASmallerRtoMaxCapsTheBackoffSooner) {
  tcp::Config cfg = RawPeer::test_config();
  cfg.rto_max = seconds(1);
  RawPeer p(cfg);
  const Opened c = p.accept_established();
  const Instant sent = send_now(p, c, c.iss + 1, "hello");
  Instant at = sent;
  for (const int gap : {200, 400, 800, 1000, 1000, 1000}) {
    at += milliseconds(gap);
    expect_retransmission_at(p, at, c.iss + 1);
  }
}

TEST(Rto, AnAckOfNewDataRestartsTheTimerFromTheAck) {
  // (5.3): two segments sent 50 ms apart; the ACK of the first at 150 ms restarts the
  // timer for the second at 150 + 200 ms, not at the first's 200 ms.
  RawPeer p;
  const Opened c = p.accept_established(1000, 65535, kMss1000);
  ASSERT_FALSE(p.write(c.socket, std::string(1000, 'a')));
  const Instant t0 = p.expect({.flags = PSH | ACK, .seq = c.iss + 1, .len = 1000}).at;
  p.advance(milliseconds(50));
  ASSERT_FALSE(p.write(c.socket, std::string(1000, 'b')));
  p.expect({.flags = PSH | ACK, .seq = c.iss + 1001, .len = 1000});
  p.advance_to(t0 + milliseconds(150));
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 1001});
  p.advance_to(t0 + milliseconds(200));
  p.expect_nothing();
  expect_retransmission_at(p, t0 + milliseconds(350), c.iss + 1001);
}

TEST(Rto, TimeoutResendsOneSegmentThenSlowStartsThroughTheRest) {
  // RFC 5681 §3.1: after a timeout cwnd is one segment and ssthresh max(FlightSize/2,
  // 2·SMSS); RFC 6298 (5.4): go back to SND.UNA. Each ACK then lets slow start send more.
  RawPeer p;
  const Opened c = p.accept_established(1000, 65535, kMss1000);
  TraceRecorder trace(p.stack());
  ASSERT_FALSE(p.write(c.socket, std::string(4000, 'x')));
  for (std::uint32_t i = 0; i < 4; ++i) {
    p.expect({.flags = i == 3 ? PSH | ACK : ACK, .seq = c.iss + 1 + 1000 * i, .len = 1000});
  }
  p.advance(milliseconds(200));
  p.expect({.flags = ACK, .seq = c.iss + 1, .len = 1000});
  p.expect_nothing();  // cwnd = 1 segment
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 1001});
  p.expect({.flags = ACK, .seq = c.iss + 1001, .len = 1000});
  p.expect({.flags = ACK, .seq = c.iss + 2001, .len = 1000});
  p.expect_nothing();  // cwnd = 2 segments (slow start: + the segment acknowledged)
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 3001});
  p.expect({.flags = PSH | ACK, .seq = c.iss + 3001, .len = 1000});
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 4001});
  p.expect_nothing();
  EXPECT_EQ(p.counters().tcp.timeouts, 1u);
  EXPECT_EQ(p.counters().tcp.retrans_segs, 4u);
  EXPECT_EQ(trace.data_causes(),
            (std::vector<std::string>{"write()", "write()", "write()", "write()", "retransmit: RTO",
                                      "retransmit: RTO", "retransmit: RTO", "retransmit: RTO"}));
}

// --- Karn's algorithm (no timestamps) ---------------------------------------------------------

TEST(Karn, AnAckForARetransmittedSegmentGivesNoSample) {
  // RTT 100 ms: RTO 300. "a" times out and goes again; an ACK 20 ms later is ambiguous and
  // measures nothing. "b" then measures 100 ms: RTTVAR = 3/4·50 = 37.5, SRTT = 100,
  // RTO = 250 ms. (A sample of 320 or 20 ms from "a" would give another RTO.)
  RawPeer p;
  const Opened c = accept_with_rtt(p, milliseconds(100));
  const Instant t0 = send_now(p, c, c.iss + 1, "a");
  expect_retransmission_at(p, t0 + milliseconds(300), c.iss + 1);
  p.advance(milliseconds(20));
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 2});
  send_now(p, c, c.iss + 2, "b");
  p.advance(milliseconds(100));
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 3});
  const Instant t2 = send_now(p, c, c.iss + 3, "c");
  expect_retransmission_at(p, t2 + milliseconds(250), c.iss + 3);
}

TEST(Karn, TheBackedOffTimeoutIsKeptUntilAValidSample) {
  // Karn and Partridge's second half, RFC 6298 §5 after (5.7): the doubled RTO stays for
  // the next segment until a segment that was not retransmitted is acknowledged. The
  // handshake measured 0 (RTO 200 ms) and the path's RTT jumps to 350 ms: "a" goes at 0 and
  // 200 ms and is ACKed at 350 ms, which measures nothing. "b", sent then, keeps the 400 ms
  // timeout, so its ACK 350 ms later is a clean sample: RTTVAR = 1/4·350 = 87.5, SRTT =
  // 1/8·350 = 43.75, RTO = 393.75 ms. Were the RTO back at 200 ms, "b" would be
  // retransmitted too, and no sample would ever be taken again.
  RawPeer p;
  const Opened c = p.accept_established();
  const Instant t0 = send_now(p, c, c.iss + 1, "a");
  expect_retransmission_at(p, t0 + milliseconds(200), c.iss + 1);
  p.advance_to(t0 + milliseconds(350));
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 2});
  const Instant t1 = send_now(p, c, c.iss + 2, "b");
  p.advance_to(t1 + milliseconds(350));
  p.expect_nothing();
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 3});
  const Instant t2 = send_now(p, c, c.iss + 3, "c");
  expect_retransmission_at(p, t2 + microseconds(393'750), c.iss + 3);
  EXPECT_EQ(p.counters().tcp.retrans_segs, 2u);
}

// --- Timestamps (RFC 7323 §4) -----------------------------------------------------------------

TEST(RtoTimestamps, TheEchoOfARetransmissionIsASample) {
  // With timestamps the echoed TSecr names the transmission, so even a retransmitted
  // segment is measured. RTT 100 ms (RTO 300); "a" goes again at 300 ms; the ACK at 700 ms
  // echoes that retransmission: R' = 400 ms, RTTVAR = 37.5 + 75 = 112.5, SRTT = 87.5 + 50 =
  // 137.5, RTO = 587.5 ms.
  RawPeer p;
  const SocketId l = p.listen(80);
  p.inject({.flags = SYN, .seq = 1000, .options = syn_options(false, true, std::nullopt, 10)});
  const Seen synack = p.expect({.flags = SYN | ACK, .ack = 1001});
  const std::uint32_t iss = synack.header.seq;
  p.advance(milliseconds(100));
  p.inject({.flags = ACK,
            .seq = 1001,
            .ack = iss + 1,
            .options = ts_options(11, synack.header.options.timestamps->tsval)});
  SocketId s = -1;
  ASSERT_FALSE(p.stack().accept(l, s));
  ASSERT_FALSE(p.write(s, "a"));
  const Seen a = p.expect({.flags = PSH | ACK, .seq = iss + 1, .payload = "a"});
  p.advance_to(a.at + milliseconds(300));
  const Seen again = p.expect({.flags = PSH | ACK, .seq = iss + 1, .payload = "a"});
  ASSERT_TRUE(again.header.options.timestamps);
  EXPECT_EQ(again.header.options.timestamps->tsval, a.header.options.timestamps->tsval + 300);
  p.advance_to(a.at + milliseconds(700));
  p.inject({.flags = ACK,
            .seq = 1001,
            .ack = iss + 2,
            .options = ts_options(12, again.header.options.timestamps->tsval)});
  ASSERT_FALSE(p.write(s, "b"));
  const Seen b = p.expect({.flags = PSH | ACK, .seq = iss + 2, .payload = "b"});
  expect_retransmission_at(p, b.at + microseconds(587'500), iss + 2);
}

TEST(RtoTimestamps, EveryAckOfNewDataIsASample) {
  // Without timestamps one segment per round trip is timed; with them each ACK measures.
  // (The handshake's ACK carries no timestamp here, so it measures nothing.) Three ACKs
  // each 300 ms after their segment: SRTT 300; RTTVAR 150 -> 112.5 -> 84.375;
  // RTO = 300 + 4·84.375 = 637.5 ms.
  RawPeer p;
  const Opened c = p.accept_established(1000, 65535, syn_options(false, true, std::nullopt, 10));
  std::uint32_t seq = c.iss + 1;
  std::uint32_t peer_ts = 20;
  for (const char* data : {"a", "b", "c"}) {
    ASSERT_FALSE(p.write(c.socket, data));
    const Seen s = p.expect({.flags = PSH | ACK, .seq = seq, .payload = data});
    p.advance(milliseconds(300));
    ++seq;
    p.inject({.flags = ACK,
              .seq = 1001,
              .ack = seq,
              .options = ts_options(peer_ts++, s.header.options.timestamps->tsval)});
  }
  const Instant sent = send_now(p, c, seq, "d");
  expect_retransmission_at(p, sent + microseconds(637'500), seq);
}

}  // namespace
}  // namespace synack::testing
