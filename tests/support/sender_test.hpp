// A test fixture for the sending side of the byte stream: an established connection with
// whole segments written, the peer acknowledging (and SACKing) by segment number.
//
//   open(20);             // 20 full segments written; segment k is [seg(k), seg(k + 1))
//   expect_segs(0, 10);   // the initial window goes out
//   sack(0, {{1, 3}});    // ACK of nothing, SACK of segments 1 and 2
//   expect_seg(0);        // ... and what that lets out
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <utility>

#include "support/raw_peer.hpp"
#include "support/stream_helpers.hpp"
#include "support/trace_recorder.hpp"

namespace synack::testing {

class SenderTest : public ::testing::Test {
 protected:
  explicit SenderTest(tcp::Config config = RawPeer::test_config()) : p_(config) {}

  // Accepts a connection whose peer's SYN carries `syn`, then writes `segments` full
  // segments (1460 bytes, or 1448 beside timestamps). The trace starts empty after it.
  void open(int segments, const wire::TcpOptions& syn = RawPeer::default_syn_options()) {
    c_ = p_.accept_established(1000, 65535, syn);
    mss_ = syn.timestamps ? 1448 : 1460;
    segments_ = segments;
    trace_.clear();
    ASSERT_FALSE(p_.write(c_.socket, std::string(static_cast<std::size_t>(segments) * mss_, 'x')));
  }
  std::uint32_t seg(int k) const { return c_.iss + 1 + mss_ * static_cast<std::uint32_t>(k); }
  // The peer acknowledges everything before segment k.
  void ack(int k, std::uint16_t window = 65535) {
    p_.inject({.flags = ACK, .seq = 1001, .ack = seg(k), .window = window});
  }
  // The same with SACK blocks of segments [from, to), in the order given.
  void sack(int k, std::initializer_list<std::pair<int, int>> blocks) {
    wire::TcpOptions o;
    for (const auto& [from, to] : blocks) o.add_sack({seg(from), seg(to)});
    p_.inject({.flags = ACK, .seq = 1001, .ack = seg(k), .options = o});
  }
  // Segment k goes out next.
  Seen expect_seg(int k) {
    return p_.expect(
        {.flags = k == segments_ - 1 ? PSH | ACK : ACK, .seq = seg(k), .ack = 1001, .len = mss_});
  }
  void expect_segs(int from, int to) {
    for (int k = from; k < to; ++k) expect_seg(k);
  }
  const TcpCounters& counters() const { return p_.counters().tcp; }

  RawPeer p_;
  TraceRecorder trace_{p_.stack()};
  Opened c_;
  std::uint32_t mss_ = 1460;
  int segments_ = 0;
};

}  // namespace synack::testing
