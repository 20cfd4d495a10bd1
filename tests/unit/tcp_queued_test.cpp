// Stack::queued on a TCP socket (FIONREAD / SIOCINQ and SIOCOUTQ), with the peer played by
// the test: the in-order bytes read() would return, and the bytes written but not yet
// acknowledged, sent or not (Linux's write_seq - snd_una: SYN and FIN not counted). A
// listener is invalid_argument, as Linux's SIOCINQ on one is EINVAL.
#include <gtest/gtest.h>

#include "support/raw_peer.hpp"

namespace synack::testing {
namespace {

using tcp::State;

Stack::Queued queued(RawPeer& p, SocketId s) {
  Stack::Queued q;
  EXPECT_FALSE(p.stack().queued(s, q));
  return q;
}

TEST(Queued, ReadableIsWhatReadWouldReturnInOrderAndWithoutTheFin) {
  RawPeer p;
  const Opened c = p.accept_established();
  EXPECT_EQ(queued(p, c.socket).readable, 0u);
  p.inject({.flags = ACK, .seq = 1006, .ack = c.iss + 1, .payload = "world"});
  EXPECT_EQ(queued(p, c.socket).readable, 0u) << "out of order: not readable yet";
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 1, .payload = "hello"});
  EXPECT_EQ(queued(p, c.socket).readable, 10u);
  p.inject({.flags = FIN | PSH | ACK, .seq = 1011, .ack = c.iss + 1, .payload = "!"});
  EXPECT_EQ(queued(p, c.socket).readable, 11u) << "the FIN is not a byte to read";
  std::string got;
  ASSERT_FALSE(p.read(c.socket, got, 4));
  EXPECT_EQ(queued(p, c.socket).readable, 7u);
  ASSERT_FALSE(p.read(c.socket, got));
  EXPECT_EQ(queued(p, c.socket).readable, 0u);
  EXPECT_EQ(queued(p, c.socket).unacknowledged, 0u);
}

// --- queued --------------------------------------------------------------------------------------

TEST(Queued, CountsWhatIsWrittenUntilTheAckSentOrNot) {
  // The peer's window, one 1000-byte segment, lets 1000 of the 3000 bytes go; all 3000
  // are unacknowledged.
  RawPeer p;
  const Opened c = p.accept_established(1000, /*window=*/1000, {.mss = 1000});
  EXPECT_EQ(queued(p, c.socket).unacknowledged, 0u);
  ASSERT_FALSE(p.write(c.socket, std::string(3000, 'x')));
  p.expect({.flags = ACK, .seq = c.iss + 1, .len = 1000});
  p.expect_nothing();
  EXPECT_EQ(queued(p, c.socket).unacknowledged, 3000u);
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 1001, .window = 1000});
  p.expect({.flags = ACK, .seq = c.iss + 1001, .len = 1000});
  EXPECT_EQ(queued(p, c.socket).unacknowledged, 2000u);
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 2001, .window = 1000});
  p.expect({.flags = PSH | ACK, .seq = c.iss + 2001, .len = 1000});
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 3001, .window = 1000});
  EXPECT_EQ(queued(p, c.socket).unacknowledged, 0u);
  EXPECT_EQ(queued(p, c.socket).readable, 0u);
}

TEST(Queued, TheFinIsNotCounted) {
  RawPeer p;
  const Opened c = p.accept_established();
  ASSERT_FALSE(p.write(c.socket, "abc"));
  ASSERT_FALSE(p.shutdown(c.socket, Shutdown::write));
  p.expect({.flags = PSH | ACK, .seq = c.iss + 1, .payload = "abc"});
  p.expect({.flags = FIN | ACK, .seq = c.iss + 4});
  EXPECT_EQ(queued(p, c.socket).unacknowledged, 3u);
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 4});
  EXPECT_EQ(queued(p, c.socket).unacknowledged, 0u) << "only the FIN is out";
  EXPECT_EQ(p.stack().tcp_state(c.socket), State::FinWait1);
}

TEST(Queued, AListenerIsInvalidAndAnUnconnectedSocketHoldsNothing) {
  RawPeer p;
  Stack::Queued q{.readable = 7, .unacknowledged = 7};
  const SocketId l = p.listen(80);
  EXPECT_EQ(p.stack().queued(l, q), std::errc::invalid_argument);
  SocketId s = -1;
  ASSERT_FALSE(p.stack().tcp_socket(s));
  ASSERT_FALSE(p.stack().queued(s, q));
  EXPECT_EQ(q.readable, 0u);
  EXPECT_EQ(q.unacknowledged, 0u);
  EXPECT_EQ(p.stack().queued(999, q), std::errc::bad_file_descriptor);
}

TEST(Queued, AConnectingSocketHoldsNothing) {
  RawPeer p;
  const SocketId s = p.connect_from_stack();
  p.expect({.flags = SYN});
  const Stack::Queued q = queued(p, s);
  EXPECT_EQ(q.readable, 0u);
  EXPECT_EQ(q.unacknowledged, 0u) << "the SYN is not counted";
}

}  // namespace
}  // namespace synack::testing
