// SYN cookies at the listener (RFC 4987 §3.6, as Linux does them): with the half-open
// queue full a SYN gets a SYN,ACK whose ISS is a cookie and nothing is stored; the ACK that
// returns a good cookie makes the connection, straight into ESTABLISHED and the accept
// queue; any other ACK is reset, as in LISTEN (RFC 9293 §3.10.7.2).
#include <gtest/gtest.h>

#include <string>

#include "support/raw_peer.hpp"
#include "tcp/syn_cookie.hpp"

namespace synack::testing {
namespace {

using tcp::State;

constexpr std::uint16_t kFillerPort = 40001;  // the SYN that fills the half-open queue
constexpr std::uint16_t kPort = 40002;        // the SYN answered with a cookie
constexpr std::uint32_t kPeerIss = 5000;

tcp::Config scaling_config() {
  tcp::Config c = RawPeer::test_config();
  c.window_scaling = true;  // our shift: 7, for the 6 MiB receive_buffer_max
  return c;
}

// The cookie the stack must send: the same function, with the key from the stack's secret.
std::uint32_t expected_cookie(Instant now, std::uint16_t port, std::uint32_t irs,
                              std::uint8_t mss_index) {
  const StackConfig defaults;
  const SipKey key = tcp::syn_cookie_key(SipKey{defaults.secret[0], defaults.secret[1]});
  const FourTuple tuple{{RawPeer::kLocal, 80}, {RawPeer::kRemote, port}};
  return tcp::syn_cookie_encode(key, tuple, tcp::Seq(irs), tcp::syn_cookie_counter(now), mss_index)
      .raw();
}

wire::TcpOptions full_syn_options(std::uint32_t tsval) {
  wire::TcpOptions o;
  o.mss = 1460;
  o.window_scale = 9;
  o.sack_permitted = true;
  o.timestamps = wire::TcpTimestamps{tsval, 0};
  return o;
}

wire::TcpOptions ts(std::uint32_t tsval, std::uint32_t tsecr) {
  wire::TcpOptions o;
  o.timestamps = wire::TcpTimestamps{tsval, tsecr};
  return o;
}

// listen(80, backlog 1) and one SYN that takes the half-open queue's only place.
SocketId listen_with_full_half_open_queue(RawPeer& p) {
  const SocketId l = p.listen(80, /*backlog=*/1);
  p.inject({.flags = SYN, .seq = 1000, .src_port = kFillerPort});
  p.expect({.flags = SYN | ACK, .ack = 1001});
  EXPECT_EQ(p.in_state(State::SynReceived), 1u);
  return l;
}

// Drops whatever the stack sent (the filler's SYN,ACK retransmissions while time passes).
void drain(RawPeer& p) {
  for (int i = 0; i < 100 && p.next(); ++i) {
  }
}

TEST(SynCookie, FullHalfOpenQueueAnswersWithACookieCarryingTheOptionsAndStoresNothing) {
  RawPeer p(scaling_config());
  listen_with_full_half_open_queue(p);
  p.advance(milliseconds(300));
  p.inject({.flags = SYN, .seq = kPeerIss, .options = full_syn_options(777), .src_port = kPort});
  const Seen synack = p.expect({.flags = SYN | ACK,
                                .seq = expected_cookie(p.now(), kPort, kPeerIss, 3),
                                .ack = kPeerIss + 1,
                                .window = 65535,
                                .len = 0});
  const wire::TcpOptions& o = synack.header.options;
  EXPECT_EQ(o.mss, 1460);
  EXPECT_EQ(o.window_scale, 7) << "our own shift, offered as the peer offered one";
  EXPECT_TRUE(o.sack_permitted);
  ASSERT_TRUE(o.timestamps.has_value());
  EXPECT_EQ(o.timestamps->tsecr, 777u);
  // The peer's shift (9) and SACK-permitted (bit 4) in the low six bits of our TSval.
  EXPECT_EQ(o.timestamps->tsval & tcp::kTsOptionMask, 9u | 16u);

  EXPECT_EQ(p.stack().connection_count(), 1u) << "only the filler: the cookie stored nothing";
  EXPECT_EQ(p.in_state(State::SynReceived), 1u);
  EXPECT_EQ(p.counters().tcp.syncookies_sent, 1u);
  EXPECT_EQ(p.counters().tcp.passive_opens, 1u);
  EXPECT_EQ(p.counters().tcp.syn_dropped, 0u);

  // A retransmitted SYN gets the same cookie again.
  p.inject({.flags = SYN, .seq = kPeerIss, .options = full_syn_options(800), .src_port = kPort});
  p.expect({.flags = SYN | ACK, .seq = synack.header.seq, .ack = kPeerIss + 1});
  EXPECT_EQ(p.counters().tcp.syncookies_sent, 2u);
}

TEST(SynCookie, TheCookieAckMakesAnEstablishedConnectionWithScalingSackAndTimestamps) {
  RawPeer p(scaling_config());
  const SocketId l = listen_with_full_half_open_queue(p);
  p.inject({.flags = SYN, .seq = kPeerIss, .options = full_syn_options(777), .src_port = kPort});
  const Seen synack = p.expect({.flags = SYN | ACK, .ack = kPeerIss + 1});
  const std::uint32_t iss = synack.header.seq;
  const std::uint32_t synack_tsval = synack.header.options.timestamps->tsval;
  p.advance(milliseconds(10));

  // The ACK offers a window of 2 in units of 2^9: 1024 octets.
  p.inject({.flags = ACK,
            .seq = kPeerIss + 1,
            .ack = iss + 1,
            .window = 2,
            .options = ts(787, synack_tsval),
            .src_port = kPort});
  p.expect_nothing();
  EXPECT_EQ(p.counters().tcp.syncookies_validated, 1u);
  EXPECT_EQ(p.counters().tcp.syncookies_failed, 0u);
  EXPECT_EQ(p.counters().tcp.passive_opens, 2u);
  EXPECT_EQ(p.in_state(State::Established), 1u);
  EXPECT_EQ(p.in_state(State::SynReceived), 1u) << "the filler still waits";
  ASSERT_TRUE(p.stack().readiness(l).readable);
  SocketId c = -1;
  Endpoint peer;
  ASSERT_FALSE(p.stack().accept(l, c, &peer));
  EXPECT_EQ(peer, (Endpoint{RawPeer::kRemote, kPort}));
  EXPECT_EQ(p.stack().tcp_state(c), State::Established);

  // Our way: the peer's window is scaled by its shift of 9, the one the cookie carried:
  // 1024 octets go, and no more.
  ASSERT_FALSE(p.write(c, std::string(3000, 'x')));
  const Seen first = p.expect({.flags = ACK, .seq = iss + 1, .ack = kPeerIss + 1, .len = 1024});
  p.expect_nothing();
  ASSERT_TRUE(first.header.options.timestamps.has_value());
  EXPECT_EQ(first.header.options.timestamps->tsecr, 787u) << "TS.Recent from the cookie ACK";
  EXPECT_GE(first.header.options.timestamps->tsval - synack_tsval, 10u)
      << "the clock runs on from the SYN,ACK's TSval";
  EXPECT_LT(first.header.options.timestamps->tsval - synack_tsval, 10u + 64u);
  // The window we offer is scaled by our shift of 7: 65536 octets are 512 units.
  EXPECT_EQ(first.header.window, 512);

  // The peer's way: data, SACK and timestamps as on any connection.
  p.advance(milliseconds(10));
  p.inject({.flags = ACK | PSH,
            .seq = kPeerIss + 1 + 100,
            .ack = iss + 1 + 1024,
            .window = 2,
            .options = ts(797, first.header.options.timestamps->tsval),
            .payload = "later",
            .src_port = kPort});
  const Seen sack = p.expect({.flags = ACK, .ack = kPeerIss + 1, .len = 1024});
  EXPECT_EQ(sack.header.seq, iss + 1 + 1024);
  ASSERT_EQ(sack.header.options.sack_block_count, 1) << "SACK-permitted came through the cookie";
  EXPECT_EQ(sack.header.options.sack_blocks[0], (wire::SackBlock{kPeerIss + 101, kPeerIss + 106}));
  EXPECT_EQ(sack.header.options.timestamps->tsecr, 787u) << "out of order: TS.Recent stays";
  p.expect_nothing();
  // PAWS: a segment with a timestamp older than TS.Recent is an old duplicate.
  p.inject({.flags = ACK | PSH,
            .seq = kPeerIss + 1,
            .ack = iss + 1 + 1024,
            .window = 2,
            .options = ts(700, 0),
            .payload = "stale",
            .src_port = kPort});
  p.expect({.flags = ACK, .ack = kPeerIss + 1, .len = 0});
  EXPECT_EQ(p.counters().tcp.paws_rejected, 1u);
  p.inject({.flags = ACK | PSH,
            .seq = kPeerIss + 1,
            .ack = iss + 1 + 1024,
            .window = 2,
            .options = ts(798, 0),
            .payload = std::string(100, 'a'),
            .src_port = kPort});
  const Seen acked = p.expect({.flags = ACK, .ack = kPeerIss + 106});
  EXPECT_EQ(acked.header.options.timestamps->tsecr, 798u);
  std::string got;
  EXPECT_FALSE(p.read(c, got));
  EXPECT_EQ(got, std::string(100, 'a') + "later");
}

TEST(SynCookie, WithoutTimestampsTheConnectionHasNeitherScalingNorSack) {
  RawPeer p(scaling_config());
  const SocketId l = listen_with_full_half_open_queue(p);
  wire::TcpOptions syn;
  syn.mss = 1400;  // rounded down to the table's 1300
  syn.window_scale = 9;
  syn.sack_permitted = true;
  p.inject({.flags = SYN, .seq = kPeerIss, .options = syn, .src_port = kPort});
  const Seen synack = p.expect({.flags = SYN | ACK,
                                .seq = expected_cookie(p.now(), kPort, kPeerIss, 1),
                                .ack = kPeerIss + 1,
                                .window = 65535});
  wire::TcpOptions mss_only;
  mss_only.mss = 1460;
  EXPECT_EQ(synack.header.options, mss_only) << "nothing the cookie could not keep is offered";
  p.inject({.flags = ACK, .seq = kPeerIss + 1, .ack = synack.header.seq + 1, .src_port = kPort});
  p.expect_nothing();
  SocketId c = -1;
  ASSERT_FALSE(p.stack().accept(l, c));
  // The MSS from the cookie: 1300 octets a segment. The window is not scaled either way.
  ASSERT_FALSE(p.write(c, std::string(2000, 'y')));
  const Seen first = p.expect({.flags = ACK, .seq = synack.header.seq + 1, .len = 1300});
  EXPECT_EQ(first.header.window, 65535);
  EXPECT_FALSE(first.header.options.timestamps.has_value());
  p.expect_nothing();  // Nagle holds the 700-octet tail
  // No SACK: data past a hole is acknowledged without blocks (on the tail, now let go).
  p.inject({.flags = ACK,
            .seq = kPeerIss + 11,
            .ack = synack.header.seq + 1301,
            .payload = "late",
            .src_port = kPort});
  const Seen dup = p.expect(
      {.flags = ACK | PSH, .seq = synack.header.seq + 1301, .ack = kPeerIss + 1, .len = 700});
  EXPECT_EQ(dup.header.options.sack_block_count, 0);
}

TEST(SynCookie, AnAckWithAWrongCookieIsResetAndCounted) {
  RawPeer p;
  listen_with_full_half_open_queue(p);
  p.inject({.flags = SYN, .seq = kPeerIss, .src_port = kPort});
  const std::uint32_t cookie = p.expect({.flags = SYN | ACK, .ack = kPeerIss + 1}).header.seq;
  // The cookie off by one, and the right cookie with the wrong IRS: <SEQ=SEG.ACK><CTL=RST>.
  p.inject({.flags = ACK, .seq = kPeerIss + 1, .ack = cookie + 2, .src_port = kPort});
  p.expect({.flags = RST, .seq = cookie + 2, .len = 0});
  p.inject({.flags = ACK, .seq = kPeerIss + 2, .ack = cookie + 1, .src_port = kPort});
  p.expect({.flags = RST, .seq = cookie + 1, .len = 0});
  // Another 4-tuple returning this one's cookie.
  p.inject({.flags = ACK, .seq = kPeerIss + 1, .ack = cookie + 1, .src_port = kPort + 1});
  p.expect({.flags = RST, .seq = cookie + 1, .len = 0});
  EXPECT_EQ(p.counters().tcp.syncookies_failed, 3u);
  EXPECT_EQ(p.counters().tcp.syncookies_validated, 0u);
  EXPECT_EQ(p.counters().tcp.bad_ack, 3u);
  EXPECT_EQ(p.stack().connection_count(), 1u);
  // The right one still works.
  p.inject({.flags = ACK, .seq = kPeerIss + 1, .ack = cookie + 1, .src_port = kPort});
  p.expect_nothing();
  EXPECT_EQ(p.counters().tcp.syncookies_validated, 1u);
  EXPECT_EQ(p.in_state(State::Established), 1u);
}

TEST(SynCookie, ACookieIsGoodForItsCounterAndTheNextOnly) {
  // Made at 63 s (counter 0): good until 128 s, when the counter reaches 2.
  for (const bool late : {false, true}) {
    RawPeer p;
    const SocketId l = listen_with_full_half_open_queue(p);
    p.advance_to(kEpoch + seconds(63));
    drain(p);
    p.inject({.flags = SYN, .seq = kPeerIss, .src_port = kPort});
    const std::uint32_t cookie = p.expect({.flags = SYN | ACK, .ack = kPeerIss + 1}).header.seq;
    p.advance_to(kEpoch + (late ? seconds(128) : seconds(128) - nanoseconds(1)));
    drain(p);
    p.inject({.flags = ACK, .seq = kPeerIss + 1, .ack = cookie + 1, .src_port = kPort});
    SocketId c = -1;
    if (late) {
      p.expect({.flags = RST, .seq = cookie + 1});
      EXPECT_EQ(p.counters().tcp.syncookies_failed, 1u);
      EXPECT_EQ(p.stack().accept(l, c), std::errc::resource_unavailable_try_again);
    } else {
      p.expect_nothing();
      EXPECT_EQ(p.counters().tcp.syncookies_validated, 1u);
      EXPECT_FALSE(p.stack().accept(l, c));
    }
  }
}

TEST(SynCookie, AcksAreNotCheckedAsCookiesUnlessCookiesWereSentLately) {
  RawPeer p;
  p.listen(80, /*backlog=*/1);
  // No cookie ever sent: an ACK in LISTEN is reset as RFC 9293 says, and not counted.
  p.inject({.flags = ACK, .seq = 1, .ack = 12345, .src_port = kPort});
  p.expect({.flags = RST, .seq = 12345});
  EXPECT_EQ(p.counters().tcp.syncookies_failed, 0u);
  EXPECT_EQ(p.counters().tcp.bad_ack, 1u);

  p.inject({.flags = SYN, .seq = 1000, .src_port = kFillerPort});
  p.expect({.flags = SYN | ACK});
  p.inject({.flags = SYN, .seq = kPeerIss, .src_port = kPort});
  p.expect({.flags = SYN | ACK});  // a cookie: now ACKs are checked, for 128 s
  p.advance_to(kEpoch + seconds(128));
  drain(p);
  p.inject({.flags = ACK, .seq = 1, .ack = 12345, .src_port = kPort});
  p.expect({.flags = RST, .seq = 12345});
  EXPECT_EQ(p.counters().tcp.syncookies_failed, 1u);
  p.advance_to(kEpoch + seconds(128) + nanoseconds(1));
  drain(p);
  p.inject({.flags = ACK, .seq = 1, .ack = 12345, .src_port = kPort});
  p.expect({.flags = RST, .seq = 12345});
  EXPECT_EQ(p.counters().tcp.syncookies_failed, 1u) << "too long since the last cookie";
  EXPECT_EQ(p.counters().tcp.bad_ack, 3u);
}

TEST(SynCookie, AGoodCookieFindingTheAcceptQueueFullIsDroppedUntilAcceptMakesRoom) {
  RawPeer p;
  const SocketId l = listen_with_full_half_open_queue(p);
  const std::uint32_t filler_iss = [&] {
    p.inject({.flags = SYN, .seq = 1000, .src_port = kFillerPort});  // its SYN,ACK again
    return p.expect({.flags = SYN | ACK, .ack = 1001}).header.seq;
  }();
  p.inject({.flags = SYN, .seq = kPeerIss, .src_port = kPort});
  const std::uint32_t cookie = p.expect({.flags = SYN | ACK, .ack = kPeerIss + 1}).header.seq;
  EXPECT_EQ(p.counters().tcp.syncookies_sent, 1u);
  // The filler completes: the accept queue (1) is full, the half-open queue empty.
  p.inject({.flags = ACK, .seq = 1001, .ack = filler_iss + 1, .src_port = kFillerPort});
  p.expect_nothing();
  // The cookie is good, but there is no room: dropped, nothing sent, nothing kept.
  p.inject({.flags = ACK | PSH,
            .seq = kPeerIss + 1,
            .ack = cookie + 1,
            .payload = "hello",
            .src_port = kPort});
  p.expect_nothing();
  EXPECT_EQ(p.counters().tcp.syncookies_validated, 1u);
  EXPECT_EQ(p.counters().tcp.listen_overflows, 1u);
  EXPECT_EQ(p.stack().connection_count(), 1u);
  SocketId first = -1;
  ASSERT_FALSE(p.stack().accept(l, first));
  // The peer retransmits: the data comes in with the connection.
  p.inject({.flags = ACK | PSH,
            .seq = kPeerIss + 1,
            .ack = cookie + 1,
            .payload = "hello",
            .src_port = kPort});
  EXPECT_EQ(p.counters().tcp.syncookies_validated, 2u);
  SocketId second = -1;
  ASSERT_FALSE(p.stack().accept(l, second));
  std::string got;
  EXPECT_FALSE(p.read(second, got));
  EXPECT_EQ(got, "hello");
  p.advance_to_next_deadline();
  p.expect({.flags = ACK, .seq = cookie + 1, .ack = kPeerIss + 6, .len = 0});
}

TEST(SynCookie, ASynReopeningTimeWaitWithTheHalfOpenQueueFullGetsACookieAsOnLinux) {
  RawPeer p;
  const Opened c = p.accept_in_state(State::TimeWait);  // the listener's backlog is 16
  for (std::uint16_t i = 0; i < 16; ++i) {
    p.inject({.flags = SYN, .seq = 1000, .src_port = static_cast<std::uint16_t>(41000 + i)});
    p.expect({.flags = SYN | ACK, .ack = 1001});
  }
  const std::uint32_t seq = c.peer_iss + 100000;  // above the old incarnation's
  p.inject({.flags = SYN, .seq = seq});
  const Seen synack = p.expect({.flags = SYN | ACK, .ack = seq + 1});
  EXPECT_EQ(p.counters().tcp.time_wait_reused, 1u);
  EXPECT_EQ(p.counters().tcp.syncookies_sent, 1u);
  p.inject({.flags = ACK, .seq = seq + 1, .ack = synack.header.seq + 1});
  p.expect_nothing();
  EXPECT_EQ(p.counters().tcp.syncookies_validated, 1u);
  SocketId s = -1;
  ASSERT_FALSE(p.stack().accept(c.listener, s));
  EXPECT_EQ(p.stack().tcp_state(s), State::Established);
}

TEST(SynCookie, WithCookiesOffASynFindingTheHalfOpenQueueFullIsDropped) {
  tcp::Config config = RawPeer::test_config();
  config.syn_cookies = false;
  RawPeer p(config);
  listen_with_full_half_open_queue(p);
  p.inject({.flags = SYN, .seq = kPeerIss, .src_port = kPort});
  p.expect_nothing();
  EXPECT_EQ(p.counters().tcp.syn_dropped, 1u);
  EXPECT_EQ(p.counters().tcp.syncookies_sent, 0u);
}

TEST(SynCookie, ASynFindingTheAcceptQueueFullIsDroppedCookiesOrNot) {
  RawPeer p;
  p.listen(80, /*backlog=*/1);
  p.handshake_to(80, 1000);
  p.inject({.flags = SYN, .seq = kPeerIss, .src_port = kPort});
  p.expect_nothing();
  EXPECT_EQ(p.counters().tcp.syn_dropped, 1u);
  EXPECT_EQ(p.counters().tcp.syncookies_sent, 0u);
}

}  // namespace
}  // namespace synack::testing
