// Connection::check_invariants(), which the stack runs after every event and API call in
// builds without NDEBUG: a sound TCB passes, and a corrupted one aborts with a message that
// names the invariant, the values, the state and the 4-tuple. The check itself is compiled
// in every build, so these run in release builds too.
#include <gtest/gtest.h>

#include "tcp/connection.hpp"

namespace synack::tcp {

// The test-only hook Connection befriends: it breaks a TCB on purpose.
struct InvariantTestAccess {
  static void set_snd_nxt(Connection& c, Seq s) { c.snd_nxt_ = s; }
  static void arm(Connection& c, Timer t, Instant when) {
    c.timers_[static_cast<std::size_t>(t)] = when;
  }
};

namespace {

const FourTuple kTuple{{Ipv4Address(198, 18, 0, 2), 80}, {Ipv4Address(198, 18, 0, 1), 40000}};

struct TcbInvariantsDeathTest : ::testing::Test {
  Counters counters;
  Context ctx{counters};
  Connection c = Connection::active_open(ctx, Config{}, kTuple, Seq(1000), Instant{});
};

TEST_F(TcbInvariantsDeathTest, ASoundConnectionPasses) {
  c.check_invariants();  // SYN_SENT, nothing sent yet
  OutSegment syn;
  ASSERT_TRUE(c.next_segment(Instant{}, syn));
  c.check_invariants();  // the SYN out, its retransmission timer armed
}

TEST_F(TcbInvariantsDeathTest, SndNxtPastSndMaxAborts) {
  InvariantTestAccess::set_snd_nxt(c, Seq(1001));  // ahead of anything sent
  EXPECT_DEATH(c.check_invariants(),
               "TCB invariant violated: SND.UNA <= SND.NXT <= SND.MAX "
               "\\[SND.UNA=1000 SND.NXT=1001 SND.MAX=1000\\] in SYN_SENT, "
               "198.18.0.2:80 <-> 198.18.0.1:40000");
}

TEST_F(TcbInvariantsDeathTest, ATimerTheStateDoesNotNeedAborts) {
  InvariantTestAccess::arm(c, Timer::TimeWait, Instant{} + seconds(60));
  EXPECT_DEATH(c.check_invariants(),
               "TCB invariant violated: 2MSL timer armed iff TIME_WAIT or an orphan's "
               "FIN_WAIT_2 \\[2MSL armed, socket open\\] in SYN_SENT");
}

TEST_F(TcbInvariantsDeathTest, ARetransmissionTimerWithNothingOutstandingAborts) {
  InvariantTestAccess::arm(c, Timer::Retransmit, Instant{} + seconds(1));
  EXPECT_DEATH(c.check_invariants(),
               "retransmission timer armed iff something is unacknowledged "
               "\\[retransmit armed, SND.UNA=1000 SND.MAX=1000\\]");
}

}  // namespace
}  // namespace synack::tcp
