// The receiver's reassembly (RFC 9293 §3.10.7.4 seventh: out-of-order segments "may be held
// for later processing"): holes filled in any order, overlaps and duplicates, each byte
// delivered to read() once and in place; an immediate ACK for each out-of-order segment and
// for each that fills a hole (RFC 5681 §4.2).
#include <gtest/gtest.h>

#include "support/raw_peer.hpp"
#include "support/stream_helpers.hpp"

namespace synack::testing {
namespace {

using tcp::State;

// The peer's stream starts at 1001; these send its bytes [from, to) by sequence number.
struct Receiver {
  explicit Receiver(tcp::Config config = RawPeer::test_config()) : p(config) {
    c = p.accept_established();
  }
  void send(std::uint32_t from, std::uint32_t to, wire::TcpFlags extra = {}) {
    p.inject({.flags = ACK | extra,
              .seq = from,
              .ack = c.iss + 1,
              .payload = stream_bytes(from - 1001, to - from)});
  }
  void expect_ack(std::uint32_t ack) {
    p.expect({.flags = ACK, .seq = c.iss + 1, .ack = ack, .len = 0});
  }
  std::string read_all() {
    std::string got;
    EXPECT_FALSE(p.read(c.socket, got));
    return got;
  }
  RawPeer p;
  Opened c;
};

TEST(OutOfOrder, EachOutOfOrderSegmentGetsAnImmediateDuplicateAck) {
  // Three segments past a hole: three duplicate ACKs at once, enough for the sender's fast
  // retransmit; nothing is readable yet.
  Receiver r;
  r.send(1101, 1201);
  r.expect_ack(1001);
  r.send(1201, 1301);
  r.expect_ack(1001);
  r.send(1301, 1401);
  r.expect_ack(1001);
  r.p.expect_nothing();
  EXPECT_EQ(r.p.counters().tcp.out_of_order, 3u);
  std::string got;
  EXPECT_EQ(r.p.read(r.c.socket, got), std::errc::resource_unavailable_try_again);
  EXPECT_FALSE(r.p.stack().readiness(r.c.socket).readable);
}

TEST(OutOfOrder, HolesFilledInAnyOrderDeliverTheExactBytes) {
  Receiver r;
  for (const std::uint32_t at : {1401u, 1201u, 1601u, 1101u, 1501u, 1301u}) {
    r.send(at, at + 100);
    r.expect_ack(1001);
  }
  r.send(1001, 1101);  // the last hole: all of it at once, ACKed at once
  r.expect_ack(1701);
  r.p.expect_nothing();
  EXPECT_EQ(r.read_all(), stream_bytes(0, 700));
}

TEST(OutOfOrder, OverlappingSegmentsDeliverEachByteOnce) {
  Receiver r;
  r.send(1201, 1401);
  r.send(1301, 1501);  // overlaps the island's end
  r.send(1151, 1251);  // and its start
  r.send(1151, 1501);  // covers it all
  for (int i = 0; i < 4; ++i) r.expect_ack(1001);
  r.send(1001, 1171);  // in order, reaching into the island
  r.expect_ack(1501);
  EXPECT_EQ(r.read_all(), stream_bytes(0, 500));
}

TEST(OutOfOrder, ASegmentSpanningSeveralIslandsJoinsThem) {
  Receiver r;
  r.send(1101, 1201);
  r.send(1301, 1401);
  r.send(1501, 1601);
  r.send(1151, 1551);
  for (int i = 0; i < 4; ++i) r.expect_ack(1001);
  r.send(1001, 1101);
  r.expect_ack(1601);
  EXPECT_EQ(r.read_all(), stream_bytes(0, 600));
}

TEST(OutOfOrder, FillingOnlyTheFirstHoleDeliversUpToTheNext) {
  // RFC 5681 §4.2: a segment that fills part of the gap is ACKed at once too.
  Receiver r;
  r.send(1101, 1201);
  r.send(1301, 1401);
  r.expect_ack(1001);
  r.expect_ack(1001);
  r.send(1001, 1101);
  r.expect_ack(1201);
  EXPECT_EQ(r.read_all(), stream_bytes(0, 200));
  r.send(1201, 1301);
  r.expect_ack(1401);
  EXPECT_EQ(r.read_all(), stream_bytes(200, 200));
}

TEST(OutOfOrder, DuplicatesOfHeldDataChangeNothing) {
  Receiver r;
  r.send(1101, 1201);
  r.expect_ack(1001);
  r.send(1101, 1201);
  r.expect_ack(1001);  // a duplicate: ACKed at once all the same
  r.send(1001, 1101);
  r.expect_ack(1201);
  r.send(1001, 1201);  // all of it below RCV.NXT now
  r.expect_ack(1201);
  EXPECT_EQ(r.read_all(), stream_bytes(0, 200));
}

TEST(OutOfOrder, OutOfOrderDataPastTheWindowIsCutAtItsEdge) {
  // A 4096-byte buffer: data past RCV.NXT + RCV.WND is not kept (RFC 9293 §3.10.7.4 seventh:
  // trim to the window); the sender resends it when the window opens.
  tcp::Config cfg = RawPeer::test_config();
  cfg.receive_buffer = 4096;
  Receiver r(cfg);
  r.send(4001, 5401);  // [4001, 5097) fits; the rest does not
  r.expect_ack(1001);
  r.send(1001, 2461);
  r.expect_ack(2461);  // part of the hole filled: ACKed at once
  r.send(2461, 3921);
  r.expect_ack(3921);
  r.send(3921, 4001);
  r.expect_ack(5097);  // the hole filled up to the island's trimmed end
  EXPECT_EQ(r.read_all(), stream_bytes(0, 4096));
}

TEST(OutOfOrder, AnOutOfOrderFinCountsOnceTheHoleFills) {
  Receiver r;
  r.send(1101, 1201, FIN);
  r.expect_ack(1001);
  EXPECT_EQ(r.p.stack().tcp_state(r.c.socket), State::Established);
  r.send(1001, 1101);
  r.expect_ack(1202);  // data and FIN
  EXPECT_EQ(r.p.stack().tcp_state(r.c.socket), State::CloseWait);
  EXPECT_EQ(r.read_all(), stream_bytes(0, 200));
  std::string eof;
  EXPECT_FALSE(r.p.read(r.c.socket, eof));
  EXPECT_EQ(eof, "") << "end of stream";
}

TEST(OutOfOrder, IslandsBeyondTheLimitAreDroppedAndCounted) {
  // Memory per connection stays bounded whatever the peer sends: 16 islands are kept,
  // a 17th is dropped (and ACKed, so the sender learns nothing is held past the hole).
  Receiver r;
  for (std::uint32_t i = 0; i < 17; ++i) {
    r.send(1101 + 200 * i, 1201 + 200 * i);
    r.expect_ack(1001);
  }
  EXPECT_EQ(r.p.counters().tcp.ofo_dropped, 1u);
  r.send(1001, 1101);
  r.expect_ack(1201);
  // The islands join as their holes fill; the dropped one has to come again.
  for (std::uint32_t i = 0; i < 15; ++i) {
    r.send(1201 + 200 * i, 1301 + 200 * i);
    r.expect_ack(1401 + 200 * i);
  }
  r.send(4201, 4401);
  r.p.expect_nothing();  // in order with nothing held: the ACK is delayed
  r.p.advance(milliseconds(40));
  r.expect_ack(4401);
  EXPECT_EQ(r.read_all(), stream_bytes(0, 3400));
}

}  // namespace
}  // namespace synack::testing
