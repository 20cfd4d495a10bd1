// Flow control: the persist timer probing a zero window (RFC 9293 §3.8.6.1) with backoff, and
// overriding sender SWS avoidance for a window too small to fill (§3.8.6.2.1); our receive
// window closing and reopening by at least an MSS or half the buffer (§3.8.6.2.2); and
// window scaling (RFC 7323 §2): negotiated only when both SYNs carry it, shifts above 14
// taken as 14, never applied to a SYN's window.
#include <gtest/gtest.h>

#include "support/raw_peer.hpp"
#include "support/stream_helpers.hpp"
#include "support/trace_recorder.hpp"

namespace synack::testing {
namespace {

// --- Persist: probing a zero window -----------------------------------------------------------

TEST(Persist, ZeroWindowIsProbedBelowSndUnaWithBackoff) {
  // The probe is Linux's: SEG.SEQ = SND.UNA - 1 and no data, so the peer must answer with
  // an ACK carrying its window. RTO 200 ms (the handshake measured 0); the interval
  // doubles while the window stays shut, answered or not.
  RawPeer p;
  const Opened c = p.accept_established(1000, /*window=*/0);
  TraceRecorder trace(p.stack());
  ASSERT_FALSE(p.write(c.socket, "hello"));
  const Instant t0 = p.now();
  p.expect_nothing();
  Instant at = t0;
  for (const int gap : {200, 400, 800, 1600, 3200}) {
    at += milliseconds(gap);
    p.advance_to(at - microseconds(1));
    p.expect_nothing();
    p.advance_to(at);
    p.expect({.flags = ACK, .seq = c.iss, .ack = 1001, .len = 0});
    p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 1, .window = 0});
    p.expect_nothing();
  }
  EXPECT_EQ(p.counters().tcp.zero_window_probes, 5u);
  EXPECT_EQ(p.counters().tcp.retrans_segs, 0u);
  EXPECT_EQ(trace.causes(), (std::vector<std::string>(5, "zero-window probe")));
  EXPECT_EQ(trace.timers(), (std::vector<std::string>(5, "persist")));
}

TEST(Persist, ProbeBackoffIsCappedAtRtoMax) {
  tcp::Config cfg = RawPeer::test_config();
  cfg.rto_max = seconds(1);
  RawPeer p(cfg);
  const Opened c = p.accept_established(1000, /*window=*/0);
  ASSERT_FALSE(p.write(c.socket, "hello"));
  Instant at = p.now();
  for (const int gap : {200, 400, 800, 1000, 1000, 1000}) {
    at += milliseconds(gap);
    p.advance_to(at - microseconds(1));
    p.expect_nothing();
    p.advance_to(at);
    p.expect({.flags = ACK, .seq = c.iss, .ack = 1001, .len = 0});
  }
}

TEST(Persist, AnsweredProbesKeepTheConnectionOpenIndefinitely) {
  // RFC 1122 4.2.2.17: the peer may keep its window shut as long as it likes, so long as it
  // answers the probes; far more probes than data_retries go.
  tcp::Config cfg = RawPeer::test_config();
  cfg.data_retries = 2;
  cfg.rto_max = seconds(1);
  RawPeer p(cfg);
  const Opened c = p.accept_established(1000, /*window=*/0);
  ASSERT_FALSE(p.write(c.socket, "hello"));
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(p.advance_to_next_deadline());
    p.expect({.flags = ACK, .seq = c.iss, .len = 0});
    p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 1, .window = 0});
  }
  EXPECT_EQ(p.stack().tcp_state(c.socket), tcp::State::Established);
  EXPECT_EQ(p.counters().tcp.zero_window_probes, 10u);
  EXPECT_EQ(p.counters().tcp.timeouts, 0u);
}

TEST(Persist, UnansweredProbesTimeTheConnectionOutAfterDataRetries) {
  // A peer that stops answering is given up like one that stops ACKing data: after
  // data_retries probes (Linux: tcp_retries2 in tcp_probe_timer). Probes at 200 and 600 ms,
  // and at 1400 ms the end.
  tcp::Config cfg = RawPeer::test_config();
  cfg.data_retries = 2;
  RawPeer p(cfg);
  const Opened c = p.accept_established(1000, /*window=*/0);
  ASSERT_FALSE(p.write(c.socket, "hello"));
  const Instant t0 = p.now();
  p.advance_to(t0 + milliseconds(200));
  p.expect({.flags = ACK, .seq = c.iss, .len = 0});
  p.advance_to(t0 + milliseconds(600));
  p.expect({.flags = ACK, .seq = c.iss, .len = 0});
  p.advance_to(t0 + milliseconds(1400) - microseconds(1));
  EXPECT_EQ(p.stack().tcp_state(c.socket), tcp::State::Established);
  p.advance_to(t0 + milliseconds(1400));
  p.expect_nothing();
  EXPECT_EQ(p.stack().tcp_state(c.socket), tcp::State::Closed);
  EXPECT_EQ(p.stack().socket_error(c.socket), std::errc::timed_out);
}

TEST(Persist, TheWindowOpeningStopsTheProbesAndTheDataFlows) {
  RawPeer p;
  const Opened c = p.accept_established(1000, /*window=*/0);
  ASSERT_FALSE(p.write(c.socket, "hello"));
  p.advance(milliseconds(200));
  p.expect({.flags = ACK, .seq = c.iss, .len = 0});
  p.advance(milliseconds(100));
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 1, .window = 1000});  // window update
  p.expect({.flags = PSH | ACK, .seq = c.iss + 1, .payload = "hello"});
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 6, .window = 1000});
  p.advance(seconds(10));
  p.expect_nothing();
  EXPECT_EQ(p.counters().tcp.zero_window_probes, 1u);
}

TEST(Persist, TheAnswerToAProbeCanOpenTheWindow) {
  RawPeer p;
  const Opened c = p.accept_established(1000, /*window=*/0);
  ASSERT_FALSE(p.write(c.socket, std::string(3000, 'x')));
  p.advance(milliseconds(200));
  p.expect({.flags = ACK, .seq = c.iss, .len = 0});
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 1, .window = 2920});
  p.expect({.flags = ACK, .seq = c.iss + 1, .len = 1460});
  p.expect({.flags = ACK, .seq = c.iss + 1461, .len = 1460});
  p.expect_nothing();  // 80 bytes wait: the window is full
}

TEST(Persist, AWindowClosedByTheAckOfAllDataStartsProbing) {
  RawPeer p;
  const Opened c = p.accept_established(1000, 2920);
  ASSERT_FALSE(p.write(c.socket, std::string(4000, 'x')));
  p.expect({.flags = ACK, .seq = c.iss + 1, .len = 1460});
  p.expect({.flags = ACK, .seq = c.iss + 1461, .len = 1460});
  p.advance(milliseconds(50));
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 2921, .window = 0});
  const Instant acked = p.now();
  p.expect_nothing();
  p.advance_to(acked + milliseconds(200) - microseconds(1));
  p.expect_nothing();
  p.advance_to(acked + milliseconds(200));
  p.expect({.flags = ACK, .seq = c.iss + 2920, .ack = 1001, .len = 0});
  EXPECT_EQ(p.counters().tcp.timeouts, 0u) << "the retransmission timer stopped";
}

// --- Persist: sender SWS avoidance and its override -------------------------------------------

TEST(Persist, ASmallWindowIsFilledWhenThePersistTimerFires) {
  // 100 bytes of window: not a full segment, not all the data, not half the largest window
  // the peer has offered (65535): SWS avoidance holds the data, and the persist timer, the
  // override timeout of §3.8.6.2.1, sends what fits when it fires.
  RawPeer p;
  const Opened c = p.accept_established(1000, /*window=*/100);
  ASSERT_FALSE(p.write(c.socket, stream_bytes(0, 5000)));
  const Instant t0 = p.now();
  p.expect_nothing();
  p.advance_to(t0 + milliseconds(200) - microseconds(1));
  p.expect_nothing();
  p.advance_to(t0 + milliseconds(200));
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 1001, .payload = stream_bytes(0, 100)});
  p.expect_nothing();
  EXPECT_EQ(p.counters().tcp.zero_window_probes, 0u);
  // The ACK keeps the window at 100: the same again, one persist interval later.
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 101, .window = 100});
  const Instant t1 = p.now();
  p.expect_nothing();
  p.advance_to(t1 + milliseconds(200));
  p.expect({.flags = ACK, .seq = c.iss + 101, .payload = stream_bytes(100, 100)});
}

TEST(Persist, HalfTheLargestWindowOfferedIsSentAtOnce) {
  // Sender SWS avoidance (RFC 9293 §3.8.6.2.1): a segment of at least Fs·Max(SND.WND), with
  // Fs = 1/2, goes without waiting. The peer's SYN offered 2000; a window of 1000 is half.
  RawPeer p;
  const SocketId l = p.listen(80);
  p.inject({.flags = SYN, .seq = 1000, .window = 2000, .options = {.mss = 1460}});
  const std::uint32_t iss = p.expect({.flags = SYN | ACK}).header.seq;
  p.inject({.flags = ACK, .seq = 1001, .ack = iss + 1, .window = 1000});
  SocketId s = -1;
  ASSERT_FALSE(p.stack().accept(l, s));
  ASSERT_FALSE(p.write(s, std::string(5000, 'x')));
  p.expect({.flags = ACK, .seq = iss + 1, .len = 1000});
  p.expect_nothing();
}

// --- Our receive window -----------------------------------------------------------------------

tcp::Config with_receive_buffer(std::size_t bytes) {
  tcp::Config cfg = RawPeer::test_config();
  cfg.receive_buffer = bytes;
  return cfg;
}

TEST(ReceiveWindow, ClosesAsTheBufferFillsAndReopensByHalfTheBuffer) {
  // A 2048-byte buffer and an MSS of 1460: the window reopens only once min(MSS, half the
  // buffer) = 1024 bytes are free (RFC 9293 §3.8.6.2.2 [MUST-39]).
  RawPeer p(with_receive_buffer(2048));
  const Opened c = p.accept_established();
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 1, .payload = std::string(1460, 'a')});
  p.expect_nothing();
  p.inject({.flags = ACK, .seq = 2461, .ack = c.iss + 1, .payload = std::string(588, 'b')});
  p.advance(milliseconds(40));
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 3049, .window = 0, .len = 0});
  std::string got;
  ASSERT_FALSE(p.read(c.socket, got, 1000));
  p.expect_nothing();  // 1000 free: less than 1024
  ASSERT_FALSE(p.read(c.socket, got, 24));
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 3049, .window = 1024, .len = 0});
  ASSERT_FALSE(p.read(c.socket, got));
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 3049, .window = 2048, .len = 0});
}

TEST(ReceiveWindow, TheWindowShrinksOnlyByTheDataThatArrives) {
  // The right edge never moves left (RFC 9293 §3.8.6.2.2 "the window should not shrink"):
  // the window offered falls by exactly what arrives while the application does not read.
  RawPeer p(with_receive_buffer(8192));
  const Opened c = p.accept_established();
  std::uint32_t seq = 1001;
  for (const int expected : {5272, 2352}) {
    for (int i = 0; i < 2; ++i) {
      p.inject({.flags = ACK, .seq = seq, .ack = c.iss + 1, .payload = std::string(1460, 'd')});
      seq += 1460;
    }
    p.expect({.flags = ACK,
              .seq = c.iss + 1,
              .ack = seq,
              .window = static_cast<std::uint16_t>(expected),
              .len = 0});
  }
}

TEST(ReceiveWindow, AProbeIntoAClosedWindowIsAnsweredWithTheWindow) {
  RawPeer p(with_receive_buffer(2048));
  const Opened c = p.accept_established();
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 1, .payload = std::string(2048, 'a')});
  p.advance(milliseconds(40));
  p.expect({.flags = ACK, .ack = 3049, .window = 0});
  p.inject({.flags = ACK, .seq = 3048, .ack = c.iss + 1});  // Linux's probe: RCV.NXT - 1
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 3049, .window = 0, .len = 0});
  p.inject({.flags = ACK, .seq = 3049, .ack = c.iss + 1, .payload = "z"});  // a 1-byte probe
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 3049, .window = 0, .len = 0});
  EXPECT_EQ(p.counters().tcp.out_of_window, 2u);
}

// --- Window scaling (RFC 7323 §2) -------------------------------------------------------------

tcp::Config scaling(std::size_t receive_buffer = 64 * 1024) {
  tcp::Config cfg = RawPeer::test_config();
  cfg.window_scaling = true;
  cfg.receive_buffer = receive_buffer;
  return cfg;
}

TEST(WindowScale, BothSidesOfferItSoWindowsAreShiftedBothWays) {
  // Our shift is 7, as Linux's, for the 6 MiB the buffer may grow to (tcp_rmem[2]); the
  // peer's is 7 too. A window of 100 from the peer means 12800 bytes: 8 full segments (the
  // 9th would be a silly 1120 bytes). Our windows go out in units of 128: the right edge
  // stays where the SYN,ACK put it, 65535 past RCV.NXT, until it can move by an MSS, and
  // the window to it is rounded up to a whole unit so as not to shrink it: 512. After 10
  // bytes have arrived it is 65526, rounded up to 512 again.
  RawPeer p(scaling());
  const SocketId l = p.listen(80);
  p.inject({.flags = SYN, .seq = 1000, .options = syn_options(false, false, 7)});
  const Seen synack = p.expect({.flags = SYN | ACK, .ack = 1001, .window = 65535});
  EXPECT_EQ(synack.header.options.window_scale, 7);
  const std::uint32_t iss = synack.header.seq;
  p.inject({.flags = ACK, .seq = 1001, .ack = iss + 1, .window = 100});
  SocketId s = -1;
  ASSERT_FALSE(p.stack().accept(l, s));
  ASSERT_FALSE(p.write(s, std::string(20000, 'x')));
  for (std::uint32_t i = 0; i < 8; ++i) {
    p.expect({.flags = ACK, .seq = iss + 1 + 1460 * i, .window = 512, .len = 1460});
  }
  p.expect_nothing();
  p.inject({.flags = ACK, .seq = 1001, .ack = iss + 1, .window = 100, .payload = "0123456789"});
  p.advance(milliseconds(40));
  p.expect({.flags = ACK, .ack = 1011, .window = 512, .len = 0});
}

TEST(WindowScale, ALargeBufferIsAdvertisedThroughTheShift) {
  // 256 KiB: the SYN,ACK says 65535 (a SYN's window is never scaled); once the edge can
  // move, later segments offer the free space rounded down to a unit of 128, never an
  // octet the buffer cannot take: (262144 - 1) >> 7.
  RawPeer p(scaling(256 * 1024));
  const SocketId l = p.listen(80);
  p.inject({.flags = SYN, .seq = 1000, .options = syn_options(false, false, 2)});
  const Seen synack = p.expect({.flags = SYN | ACK, .ack = 1001, .window = 65535});
  EXPECT_EQ(synack.header.options.window_scale, 7);
  p.inject({.flags = ACK, .seq = 1001, .ack = synack.header.seq + 1});
  SocketId s = -1;
  ASSERT_FALSE(p.stack().accept(l, s));
  p.inject({.flags = ACK, .seq = 1001, .ack = synack.header.seq + 1, .payload = "x"});
  p.advance(milliseconds(40));
  p.expect({.flags = ACK, .ack = 1002, .window = (262144 - 1) >> 7, .len = 0});
}

TEST(WindowScale, TheShiftIsForTheLargestBufferAndSoRcvbufSetsIt) {
  // Linux's tcp_select_initial_window: the shift fits the most the buffer may grow to,
  // tcp_rmem[2] (6 MiB: 7), or the buffer if larger (8 MiB: 8). An application's SO_RCVBUF
  // fixes the buffer, and the shift is then for it alone (64 KiB: 1), as Linux's
  // SOCK_RCVBUF_LOCK clamps it.
  const auto offered = [](RawPeer& p, SocketId s) {
    EXPECT_EQ(p.stack().connect(s, {RawPeer::kRemote, RawPeer::kRemotePort}),
              std::errc::operation_in_progress);
    p.poll();
    return p.expect({.flags = SYN}).header.options.window_scale;
  };
  {
    RawPeer p(scaling(4096));
    SocketId s = -1;
    ASSERT_FALSE(p.stack().tcp_socket(s));
    EXPECT_EQ(offered(p, s), 7);
  }
  {
    RawPeer p(scaling(8 * 1024 * 1024));
    SocketId s = -1;
    ASSERT_FALSE(p.stack().tcp_socket(s));
    EXPECT_EQ(offered(p, s), 8);
  }
  {
    RawPeer p(scaling());
    SocketId s = -1;
    ASSERT_FALSE(p.stack().tcp_socket(s));
    ASSERT_FALSE(p.stack().setsockopt(s, Option::receive_buffer, 64 * 1024));
    EXPECT_EQ(offered(p, s), 1);
  }
}

TEST(WindowScale, AKeptEdgeIsRoundedUpWhileTheBufferHoldsItAndTheDataUpToItIsTaken) {
  // A 4096-byte buffer, shift 7, and a reader that has stopped. The SYN,ACK offers 4096:
  // the right edge is 4096 past RCV.NXT. 100 bytes arrive: the window to the kept edge is
  // 3996, which shifted down would shrink the edge by 28 octets. It is rounded up to 32
  // units (4096) instead, into the slack of one unit the ring keeps beyond SO_RCVBUF.
  // After 100 more the slack is spent: the buffer holds no more than 31 units past RCV.NXT,
  // and the offer shrinks by the 28 octets RFC 7323 Appendix F says no choice avoids. The
  // edge offered before still stands: the 3996 bytes the peer may have sent up to it are
  // all taken. Read, the buffer's free space moves the edge again, rounded down: 32 units.
  RawPeer p(scaling(4096));
  const SocketId l = p.listen(80);
  p.inject({.flags = SYN, .seq = 1000, .options = syn_options(false, false, 0)});
  const Seen synack = p.expect({.flags = SYN | ACK, .ack = 1001, .window = 4096});
  const std::uint32_t iss = synack.header.seq;
  p.inject({.flags = ACK, .seq = 1001, .ack = iss + 1});
  SocketId s = -1;
  ASSERT_FALSE(p.stack().accept(l, s));
  p.inject({.flags = ACK, .seq = 1001, .ack = iss + 1, .payload = std::string(100, 'a')});
  p.advance(milliseconds(40));
  p.expect({.flags = ACK, .ack = 1101, .window = 32});
  p.inject({.flags = ACK, .seq = 1101, .ack = iss + 1, .payload = std::string(100, 'b')});
  p.advance(milliseconds(40));
  p.expect({.flags = ACK, .ack = 1201, .window = 31});
  std::uint32_t seq = 1201;
  for (const std::size_t n : {std::size_t{1460}, std::size_t{1460}, std::size_t{1076}}) {
    p.inject({.flags = ACK, .seq = seq, .ack = iss + 1, .payload = std::string(n, 'c')});
    seq += static_cast<std::uint32_t>(n);
  }
  // Every second segment is ACKed at once; 1076 short of the kept edge, the buffer has
  // room for 8 units past RCV.NXT, not 9. The last segment reaches the edge: window 0.
  p.expect({.flags = ACK, .ack = 1201 + 2920, .window = 8});
  p.advance(milliseconds(40));
  p.expect({.flags = ACK, .ack = 1201 + 3996, .window = 0});
  p.expect_nothing();
  Stack::Queued q;
  ASSERT_FALSE(p.stack().queued(s, q));
  EXPECT_EQ(q.readable, 4196u);
  std::string got;
  ASSERT_FALSE(p.read(s, got));
  EXPECT_EQ(got.size(), 4196u);
  p.expect({.flags = ACK, .ack = 1201 + 3996, .window = 32});
}

TEST(WindowScale, OnlyWeOfferItSoThereIsNoScaling) {
  RawPeer p(scaling());
  const SocketId l = p.listen(80);
  p.inject({.flags = SYN, .seq = 1000, .options = syn_options(false, false, std::nullopt)});
  const Seen synack = p.expect({.flags = SYN | ACK, .ack = 1001});
  EXPECT_FALSE(synack.header.options.window_scale) << "a SYN,ACK offers only what was offered";
  p.inject({.flags = ACK, .seq = 1001, .ack = synack.header.seq + 1, .window = 100});
  SocketId s = -1;
  ASSERT_FALSE(p.stack().accept(l, s));
  ASSERT_FALSE(p.write(s, std::string(5000, 'x')));
  p.expect_nothing();  // 100 bytes of window, unscaled: SWS avoidance waits
  p.inject(
      {.flags = ACK, .seq = 1001, .ack = synack.header.seq + 1, .window = 100, .payload = "x"});
  p.advance(milliseconds(40));
  p.expect({.flags = ACK, .ack = 1002, .window = 65534, .len = 0});  // the edge stays put
}

TEST(WindowScale, OnlyThePeerOffersItSoThereIsNoScaling) {
  RawPeer p;  // window_scaling off
  const SocketId l = p.listen(80);
  p.inject({.flags = SYN, .seq = 1000, .options = syn_options(false, false, 7)});
  const Seen synack = p.expect({.flags = SYN | ACK, .ack = 1001});
  EXPECT_FALSE(synack.header.options.window_scale);
  p.inject({.flags = ACK, .seq = 1001, .ack = synack.header.seq + 1, .window = 3000});
  SocketId s = -1;
  ASSERT_FALSE(p.stack().accept(l, s));
  ASSERT_FALSE(p.write(s, std::string(5000, 'x')));
  p.expect({.flags = ACK, .len = 1460});
  p.expect({.flags = ACK, .len = 1460});
  p.expect_nothing();  // 3000, not 3000 << 7
}

TEST(WindowScale, ASynAckWithoutItTurnsOurOfferOff) {
  RawPeer p(scaling());
  const SocketId s = p.connect_from_stack();
  const Seen syn = p.expect({.flags = SYN, .window = 65535});
  EXPECT_EQ(syn.header.options.window_scale, 7);
  p.inject({.flags = SYN | ACK,
            .seq = 5000,
            .ack = syn.header.seq + 1,
            .window = 3000,
            .options = {.mss = 1460}});
  p.expect({.flags = ACK, .ack = 5001, .window = 65535});
  ASSERT_FALSE(p.write(s, std::string(5000, 'x')));
  p.expect({.flags = ACK, .len = 1460});
  p.expect({.flags = ACK, .len = 1460});
  p.expect_nothing();
}

TEST(WindowScale, TheWindowInASynAckIsNeverScaled) {
  // RFC 7323 §2.2: the SYN,ACK's window of 100 means 100, though it offers shift 7; the
  // ACK that follows with the same 100 means 12800.
  RawPeer p(scaling());
  const SocketId s = p.connect_from_stack();
  const std::uint32_t iss = p.expect({.flags = SYN}).header.seq;
  p.inject({.flags = SYN | ACK,
            .seq = 5000,
            .ack = iss + 1,
            .window = 100,
            .options = syn_options(false, false, 7)});
  p.expect({.flags = ACK, .ack = 5001, .window = 65536 >> 7});
  ASSERT_FALSE(p.write(s, std::string(5000, 'x')));
  p.expect({.flags = ACK, .seq = iss + 1, .len = 100});  // half the largest window: sent
  p.expect_nothing();
  p.inject({.flags = ACK, .seq = 5001, .ack = iss + 101, .window = 100});
  for (std::uint32_t i = 0; i < 3; ++i) {
    p.expect({.flags = ACK, .seq = iss + 101 + 1460 * i, .len = 1460});
  }
  p.expect_nothing();  // the last 520 bytes wait for those ACKs (Nagle)
}

TEST(WindowScale, AShiftAbove14IsTakenAs14) {
  // RFC 7323 §2.3: shift 15 is used as 14. A window of 1 is then 16384 bytes: after the
  // initial window is ACKed (cwnd 17520), 11 segments fit (16060; the rest would be silly),
  // where shift 15 would allow 12.
  RawPeer p;
  p.stack().tcp_defaults().window_scaling = true;
  const Opened c = p.accept_established(1000, /*window=*/1, syn_options(false, false, 15));
  ASSERT_FALSE(p.write(c.socket, std::string(40000, 'x')));
  for (std::uint32_t i = 0; i < 10; ++i) p.expect({.flags = ACK, .seq = c.iss + 1 + 1460 * i});
  p.expect_nothing();
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 14601, .window = 1});
  for (std::uint32_t i = 0; i < 11; ++i) {
    p.expect({.flags = ACK, .seq = c.iss + 14601 + 1460 * i, .len = 1460});
  }
  p.expect_nothing();
}

}  // namespace
}  // namespace synack::testing
