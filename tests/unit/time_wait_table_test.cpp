// The compact TIME_WAIT table (stack/time_wait_table.hpp): an orphan in TIME_WAIT gives
// up its connection and answers from a 44-byte entry, exactly as the connection did.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "support/raw_peer.hpp"
#include "support/trace_recorder.hpp"
#include "tcp/connection.hpp"
#include "trace/trace.hpp"

namespace synack::testing {
namespace {

using tcp::State;

wire::TcpOptions ts(std::uint32_t tsval, std::uint32_t tsecr = 0) {
  wire::TcpOptions o;
  o.timestamps = wire::TcpTimestamps{tsval, tsecr};
  return o;
}

wire::TcpOptions syn_with_everything() {
  wire::TcpOptions o = RawPeer::default_syn_options();
  o.sack_permitted = true;
  o.window_scale = 7;
  o.timestamps = wire::TcpTimestamps{100, 0};
  return o;
}

tcp::Config scaled_config() {
  tcp::Config c = RawPeer::test_config();
  c.window_scaling = true;
  return c;
}

// ESTABLISHED as server (peer ISS 1000, timestamps, SACK, window scaling), then our FIN and
// the peer's: TIME_WAIT. `orphan`: the socket is closed first (the entry goes to the
// compact table); otherwise it stays open with shutdown(write) (the connection stays).
Opened to_time_wait(RawPeer& p, bool orphan) {
  const Opened c = p.accept_established(1000, 65535, syn_with_everything());
  if (orphan) {
    EXPECT_FALSE(p.close(c.socket));
  } else {
    EXPECT_FALSE(p.shutdown(c.socket, Shutdown::write));
  }
  p.expect({.flags = FIN | ACK, .seq = c.iss + 1, .ack = 1001});
  p.inject({.flags = FIN | ACK, .seq = 1001, .ack = c.iss + 2, .options = ts(200, 0)});
  p.expect({.flags = ACK, .seq = c.iss + 2, .ack = 1002});
  EXPECT_EQ(p.in_state(State::TimeWait), 1u);
  EXPECT_EQ(p.stack().connection_count(), 1u);
  // The connection's TIME_WAIT timer is in the wheel; a compact entry has none there.
  EXPECT_EQ(p.stack().timers_armed(), orphan ? 0u : 1u);
  return c;
}

// State changes and timers, as a ladder shows them.
struct StateLog final : trace::Sink {
  std::vector<std::string> lines;
  void on_state(Instant at, const FourTuple&, State from, State to,
                std::string_view cause) override {
    lines.push_back(std::to_string(to_nanos(at)) + " " + std::string(tcp::to_string(from)) +
                    " -> " + std::string(tcp::to_string(to)) + " (" + std::string(cause) + ")");
  }
  void on_timer(Instant at, const FourTuple&, std::string_view timer) override {
    lines.push_back(std::to_string(to_nanos(at)) + " timer " + std::string(timer));
  }
};

std::string describe(const std::optional<Seen>& s) {
  if (!s) return "nothing";
  std::ostringstream os;
  os << s->describe();
  const auto& o = s->header.options;
  if (o.timestamps) os << " TS=" << o.timestamps->tsval << "/" << o.timestamps->tsecr;
  for (const auto& b : o.sacks()) os << " SACK=" << b.left << "-" << b.right;
  return os.str();
}

std::vector<std::uint64_t> tw_counters(const RawPeer& p) {
  const auto& t = p.counters().tcp;
  return {t.out_of_window,   t.paws_rejected,   t.challenge_acks, t.challenge_acks_suppressed,
          t.time_wait_rsts,  t.bad_ack,         t.ack_too_old,    t.old_ack,
          t.dsacks_sent,     t.dsacks_received, t.no_ack_flag,    t.out_segs,
          t.time_wait_reused};
}

TEST(TimeWaitTable, CompactEntryAnswersAsTheConnection) {
  // The same segments to a connection in TIME_WAIT (socket open) and to an orphan's compact
  // entry: the same replies, counters and drops, one by one.
  RawPeer full(scaled_config()), compact(scaled_config());
  TraceRecorder full_trace(full.stack()), compact_trace(compact.stack());
  const Opened f = to_time_wait(full, false);
  const Opened c = to_time_wait(compact, true);
  ASSERT_EQ(f.iss, c.iss);
  const std::uint32_t nxt = c.iss + 2;
  wire::TcpOptions dsack = ts(400, 1);
  dsack.add_sack({nxt - 10, nxt - 5});  // below the ACK: a D-SACK
  const std::vector<In> segments = {
      {.flags = FIN | ACK, .seq = 1001, .ack = nxt, .options = ts(300)},  // retransmitted FIN
      {.flags = ACK, .seq = 990, .ack = nxt, .options = ts(300), .payload = "old"},  // D-SACK
      {.flags = ACK, .seq = 1002, .ack = nxt, .options = ts(350)},  // in window: nothing
      {.flags = ACK, .seq = 1002, .ack = nxt, .window = 10, .options = dsack},
      {.flags = ACK, .seq = 1002, .ack = nxt, .options = ts(100)},        // PAWS: old timestamp
      {.flags = ACK, .seq = 1002, .ack = nxt + 5, .options = ts(500)},    // unsent data ACKed
      {.flags = ACK, .seq = 1002, .ack = nxt - 100, .options = ts(500)},  // an old ACK
      {.flags = ACK, .seq = 1002, .ack = nxt - 2'000'000'000u, .options = ts(500)},  // too old
      {.flags = SYN, .seq = 1002, .options = ts(600)},  // in window, not above: challenge
      {.flags = RST, .seq = 1002},
      {.flags = RST | ACK, .seq = 1500, .ack = nxt},
      {.flags = PSH, .seq = 1002, .options = ts(700), .payload = "no ack"},
      {.flags = PSH | ACK, .seq = 1002, .ack = nxt, .options = ts(700), .payload = "late"},
      {.flags = ACK, .seq = 900'000, .ack = nxt, .options = ts(800)},  // far out of window
  };
  for (std::size_t i = 0; i < segments.size(); ++i) {
    full.advance(milliseconds(7));
    compact.advance(milliseconds(7));
    full.inject(segments[i]);
    compact.inject(segments[i]);
    for (int k = 0; k < 3; ++k) {
      EXPECT_EQ(describe(compact.next()), describe(full.next())) << "segment " << i << "." << k;
    }
    EXPECT_EQ(tw_counters(compact), tw_counters(full)) << "segment " << i;
    EXPECT_EQ(compact_trace.drops(), full_trace.drops()) << "segment " << i;
    EXPECT_EQ(compact_trace.causes(), full_trace.causes()) << "segment " << i;
  }
  // Challenge ACKs to the limit: the budget is the entry's own, as it was the connection's.
  for (int i = 0; i < 12; ++i) {
    const In syn{.flags = SYN, .seq = 1002, .options = ts(900)};  // not above: no reopening
    full.inject(syn);
    compact.inject(syn);
    EXPECT_EQ(describe(compact.next()), describe(full.next())) << "SYN " << i;
  }
  EXPECT_EQ(tw_counters(compact), tw_counters(full));
  EXPECT_GT(compact.counters().tcp.challenge_acks_suppressed, 0u);
  EXPECT_EQ(compact.in_state(State::TimeWait), 1u);
  EXPECT_EQ(compact.stack().connection_count(), 1u);
}

TEST(TimeWaitTable, RetransmittedFinIsAckedWithTimestampsAndRestartsTwoMsl) {
  RawPeer p(scaled_config());
  StateLog log;
  p.stack().set_trace(&log);
  const Opened c = to_time_wait(p, true);
  const Instant first_expiry = p.now() + seconds(60);
  p.advance(seconds(20));
  p.inject({.flags = FIN | ACK, .seq = 1001, .ack = c.iss + 2, .options = ts(300, 0)});
  const Seen ack = p.expect({.flags = ACK, .seq = c.iss + 2, .ack = 1002, .len = 0});
  ASSERT_TRUE(ack.header.options.timestamps);
  EXPECT_EQ(ack.header.options.timestamps->tsecr, 200u)
      << "TS.Recent: the FIN's, not the old one's";
  const Instant new_expiry = p.now() + seconds(60);
  p.advance_to(first_expiry);
  EXPECT_EQ(p.in_state(State::TimeWait), 1u) << "the first 2·MSL was restarted";
  p.advance_to(new_expiry - microseconds(1));
  EXPECT_EQ(p.in_state(State::TimeWait), 1u);
  p.advance_to(new_expiry);
  EXPECT_EQ(p.in_state(State::TimeWait), 0u);
  EXPECT_EQ(p.stack().connection_count(), 0u);
  p.expect_nothing();
  p.stack().set_trace(nullptr);
  ASSERT_GE(log.lines.size(), 2u);
  const std::string at = std::to_string(to_nanos(new_expiry));
  EXPECT_EQ(log.lines[log.lines.size() - 2],
            at + " timer " + std::string(tcp::to_string(tcp::Timer::TimeWait)));
  EXPECT_EQ(log.lines.back(), at + " " + std::string(tcp::to_string(State::TimeWait)) + " -> " +
                                  std::string(tcp::to_string(State::Closed)) + " (2MSL expired)");
}

TEST(TimeWaitTable, TsvalFollowsTheConnectionsClock) {
  RawPeer p(scaled_config());
  const Opened c = to_time_wait(p, true);
  p.inject({.flags = FIN | ACK, .seq = 1001, .ack = c.iss + 2, .options = ts(300, 0)});
  const Seen a = p.expect({.flags = ACK});
  p.advance(milliseconds(1234));
  p.inject({.flags = FIN | ACK, .seq = 1001, .ack = c.iss + 2, .options = ts(301, 0)});
  const Seen b = p.expect({.flags = ACK});
  ASSERT_TRUE(a.header.options.timestamps && b.header.options.timestamps);
  EXPECT_EQ(b.header.options.timestamps->tsval - a.header.options.timestamps->tsval, 1234u)
      << "1 ms a tick, from the connection's own start";
  EXPECT_EQ(b.header.options.timestamps->tsecr, 200u)
      << "a FIN below RCV.NXT is out of the window: TS.Recent stays";
}

TEST(TimeWaitTable, RstIsIgnoredAndCounted) {
  RawPeer p(scaled_config());
  TraceRecorder trace(p.stack());
  const Opened c = to_time_wait(p, true);
  const Instant expiry = p.now() + seconds(60);
  p.inject({.flags = RST, .seq = 1002});
  p.inject({.flags = RST | ACK, .seq = 1002, .ack = c.iss + 2});
  p.expect_nothing();
  EXPECT_EQ(p.counters().tcp.time_wait_rsts, 2u);
  EXPECT_EQ(p.counters().tcp.in_rsts, 0u);
  EXPECT_EQ(trace.drops(), std::vector<std::string>(2, "tcp: RST in TIME_WAIT (RFC 1337)"));
  p.advance_to(expiry - microseconds(1));
  EXPECT_EQ(p.in_state(State::TimeWait), 1u);
  p.advance_to(expiry);
  EXPECT_EQ(p.in_state(State::TimeWait), 0u);
}

TEST(TimeWaitTable, PawsFailingSegmentIsDroppedWithAnAck) {
  RawPeer p(scaled_config());
  const Opened c = to_time_wait(p, true);
  p.inject({.flags = ACK, .seq = 1002, .ack = c.iss + 2, .options = ts(199, 0)});
  const Seen ack = p.expect({.flags = ACK, .seq = c.iss + 2, .ack = 1002, .len = 0});
  EXPECT_EQ(ack.header.options.timestamps->tsecr, 200u);
  EXPECT_EQ(p.counters().tcp.paws_rejected, 1u);
  EXPECT_EQ(p.in_state(State::TimeWait), 1u);
}

TEST(TimeWaitTable, ExpiresAtTwoMslAndFreesThePort) {
  RawPeer p;
  const Opened c = p.accept_established(1000);
  ASSERT_FALSE(p.close(c.listener));
  ASSERT_FALSE(p.close(c.socket));
  p.expect({.flags = FIN | ACK, .seq = c.iss + 1});
  p.inject({.flags = FIN | ACK, .seq = 1001, .ack = c.iss + 2});
  p.expect({.flags = ACK, .seq = c.iss + 2, .ack = 1002});
  const Instant expiry = p.now() + seconds(60);
  EXPECT_EQ(p.stack().connection_count(), 1u);
  EXPECT_EQ(p.stack().timers_armed(), 0u) << "compacted";

  SocketId s = -1;
  ASSERT_FALSE(p.stack().tcp_socket(s));
  EXPECT_EQ(p.stack().bind(s, {Ipv4Address(), 80}), std::errc::address_in_use)
      << "the TIME_WAIT entry still holds the port";
  p.advance_to(expiry - microseconds(1));
  EXPECT_EQ(p.stack().connection_count(), 1u);
  EXPECT_EQ(p.stack().bind(s, {Ipv4Address(), 80}), std::errc::address_in_use);
  p.advance_to(expiry);
  EXPECT_EQ(p.stack().connection_count(), 0u);
  EXPECT_EQ(p.in_state(State::TimeWait), 0u);
  EXPECT_FALSE(p.stack().bind(s, {Ipv4Address(), 80})) << "the port is free again";
}

TEST(TimeWaitTable, SynAboveRcvNxtReopensThroughTheListener) {
  RawPeer p(scaled_config());
  const Opened c = to_time_wait(p, true);
  const std::uint32_t old_snd_nxt = c.iss + 2;
  p.inject({.flags = SYN, .seq = 50'000, .options = syn_with_everything()});
  const Seen synack = p.expect({.flags = SYN | ACK, .ack = 50'001});
  EXPECT_GE(synack.header.seq - old_snd_nxt, 65536u + 2) << "ISS past the old SND.NXT";
  EXPECT_LT(synack.header.seq - old_snd_nxt, 0x80000000u);
  EXPECT_EQ(p.counters().tcp.time_wait_reused, 1u);
  EXPECT_EQ(p.in_state(State::TimeWait), 0u);
  EXPECT_EQ(p.in_state(State::SynReceived), 1u);
  EXPECT_EQ(p.stack().connection_count(), 1u);
}

TEST(TimeWaitTable, SynNotAboveRcvNxtIsAnsweredAsBefore) {
  RawPeer p(scaled_config());
  const Opened c = to_time_wait(p, true);
  // At RCV.NXT: in the window, so a challenge ACK (RFC 5961 §4).
  p.inject({.flags = SYN, .seq = 1002, .options = ts(300)});
  p.expect({.flags = ACK, .seq = c.iss + 2, .ack = 1002, .len = 0});
  EXPECT_EQ(p.counters().tcp.challenge_acks, 1u);
  // Below it: out of the window, an ACK.
  p.inject({.flags = SYN, .seq = 900, .options = ts(300)});
  p.expect({.flags = ACK, .seq = c.iss + 2, .ack = 1002, .len = 0});
  EXPECT_EQ(p.counters().tcp.out_of_window, 1u);
  EXPECT_EQ(p.counters().tcp.time_wait_reused, 0u);
  EXPECT_EQ(p.in_state(State::TimeWait), 1u);
}

TEST(TimeWaitTable, MixedMslsExpireEachAtItsTime) {
  // Entries of three MSLs, interleaved, some restarted: each ends at exactly its own 2·MSL.
  RawPeer p;
  const std::vector<int> msls = {30, 1, 7, 30, 1, 7, 2, 30};
  std::vector<Instant> expiry;
  for (std::size_t i = 0; i < msls.size(); ++i) {
    p.stack().tcp_defaults().msl = seconds(msls[i]);
    const auto port = static_cast<std::uint16_t>(8000 + i);
    const std::uint32_t peer_iss = 1000;
    const Opened c = p.accept_established(peer_iss, 65535, RawPeer::default_syn_options(), port);
    ASSERT_FALSE(p.close(c.listener));
    ASSERT_FALSE(p.close(c.socket));
    p.expect({.flags = FIN | ACK, .seq = c.iss + 1});
    p.inject({.flags = FIN | ACK, .seq = peer_iss + 1, .ack = c.iss + 2, .dst_port = port});
    p.expect({.flags = ACK, .ack = peer_iss + 2});
    expiry.push_back(p.now() + 2 * seconds(msls[i]));
    if (i == 3) {  // restart the first one's wait
      p.inject({.flags = FIN | ACK, .seq = peer_iss + 1, .ack = 0, .dst_port = 8000});
      p.next();
      expiry[0] = p.now() + seconds(60);
    }
    p.advance(milliseconds(30));
  }
  EXPECT_EQ(p.stack().timers_armed(), 0u) << "all compacted";
  std::vector<Instant> sorted = expiry;
  std::sort(sorted.begin(), sorted.end());
  const auto after = [&](Instant t) {
    return static_cast<std::size_t>(
        std::count_if(expiry.begin(), expiry.end(), [t](Instant e) { return e > t; }));
  };
  for (const Instant t : sorted) {
    if (t <= p.now()) continue;  // a tie, done already
    p.advance_to(t - microseconds(1));
    EXPECT_EQ(p.stack().connection_count(), after(t - microseconds(1))) << "before " << to_nanos(t);
    p.advance_to(t);
    EXPECT_EQ(p.stack().connection_count(), after(t)) << "at " << to_nanos(t);
    EXPECT_EQ(p.in_state(State::TimeWait), after(t));
  }
  EXPECT_EQ(p.stack().connection_count(), 0u);
}

TEST(TimeWaitTable, SocketOpenInTimeWaitKeepsItsConnectionUntilClosed) {
  RawPeer p;
  const Opened c = p.accept_in_state(State::TimeWait);
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::TimeWait);
  EXPECT_EQ(p.stack().timers_armed(), 1u);
  ASSERT_FALSE(p.close(c.socket));
  EXPECT_EQ(p.stack().timers_armed(), 0u) << "an orphan now: compacted";
  EXPECT_EQ(p.stack().connection_count(), 1u);
  EXPECT_EQ(p.in_state(State::TimeWait), 1u);
}

}  // namespace
}  // namespace synack::testing
