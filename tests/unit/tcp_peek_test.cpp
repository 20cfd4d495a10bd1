// Stack::peek (recv with MSG_PEEK) on a TCP socket, with the peer played by the test:
// it copies from the front of the receive buffer and leaves it there, with read()'s
// errors.
#include <gtest/gtest.h>

#include "support/raw_peer.hpp"

namespace synack::testing {
namespace {

using tcp::State;

// peek() into a buffer of `max` bytes; the bytes it gave, and its error in `ec`.
std::string peek(RawPeer& p, SocketId s, std::size_t max, std::error_code& ec) {
  std::vector<std::uint8_t> buf(max);
  std::size_t n = 0;
  bool truncated = true;
  ec = p.stack().peek(s, buf, n, nullptr, &truncated);
  if (!ec) {
    EXPECT_FALSE(truncated) << "a stream is never truncated";
  }
  return {buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n)};
}

// --- peek ----------------------------------------------------------------------------------------

TEST(Peek, GivesTheFrontOfTheStreamAndLeavesItForRead) {
  RawPeer p;
  const Opened c = p.accept_established();
  p.inject({.flags = PSH | ACK, .seq = 1001, .ack = c.iss + 1, .payload = "hello world"});
  std::error_code ec;
  EXPECT_EQ(peek(p, c.socket, 5, ec), "hello");
  EXPECT_FALSE(ec);
  EXPECT_EQ(peek(p, c.socket, 100, ec), "hello world");
  EXPECT_FALSE(ec);
  std::string got;
  ASSERT_FALSE(p.read(c.socket, got, 6));
  EXPECT_EQ(got, "hello ");
  EXPECT_EQ(peek(p, c.socket, 100, ec), "world");
  ASSERT_FALSE(p.read(c.socket, got));
  EXPECT_EQ(got, "world");
  EXPECT_EQ(peek(p, c.socket, 100, ec), "");
  EXPECT_EQ(ec, std::errc::resource_unavailable_try_again);
}

TEST(Peek, ConsumesNothingSoTheWindowIsNotUpdated) {
  // A 4096-byte buffer filled by 4096 bytes: the window is shut. read() reopening it sends
  // a window update at once; peek() must not, as it frees nothing.
  tcp::Config cfg = RawPeer::test_config();
  cfg.receive_buffer = 4096;
  RawPeer p(cfg);
  const Opened c = p.accept_established(1000, 65535, {.mss = 1024});
  for (std::uint32_t i = 0; i < 4; ++i) {
    p.inject({.flags = ACK,
              .seq = 1001 + 1024 * i,
              .ack = c.iss + 1,
              .payload = std::string(1024, static_cast<char>('a' + i))});
  }
  p.expect({.flags = ACK, .ack = 1001 + 2048});
  p.expect({.flags = ACK, .ack = 1001 + 4096, .window = 0});
  std::error_code ec;
  EXPECT_EQ(peek(p, c.socket, 4096, ec).size(), 4096u);
  p.poll();
  p.expect_nothing();
  std::string got;
  ASSERT_FALSE(p.read(c.socket, got, 4096));
  p.expect({.flags = ACK, .ack = 1001 + 4096, .window = 4096});
}

TEST(Peek, OutOfOrderDataIsNotThereYet) {
  RawPeer p;
  const Opened c = p.accept_established();
  p.inject({.flags = ACK, .seq = 1006, .ack = c.iss + 1, .payload = "world"});
  std::error_code ec;
  EXPECT_EQ(peek(p, c.socket, 100, ec), "");
  EXPECT_EQ(ec, std::errc::resource_unavailable_try_again);
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 1, .payload = "hello"});
  EXPECT_EQ(peek(p, c.socket, 100, ec), "helloworld");
}

TEST(Peek, AtTheEndOfTheStreamGivesZeroWithNoError) {
  // The data before the FIN can be peeked and read; then peek, like read, says EOF.
  RawPeer p;
  const Opened c = p.accept_established();
  p.inject({.flags = FIN | PSH | ACK, .seq = 1001, .ack = c.iss + 1, .payload = "bye"});
  std::error_code ec;
  EXPECT_EQ(peek(p, c.socket, 100, ec), "bye");
  std::string got;
  ASSERT_FALSE(p.read(c.socket, got));
  EXPECT_EQ(peek(p, c.socket, 100, ec), "");
  EXPECT_FALSE(ec);
}

TEST(Peek, ReportsAResetOnceAsReadDoes) {
  RawPeer p;
  const Opened c = p.accept_established();
  p.inject({.flags = RST, .seq = 1001});
  ASSERT_EQ(p.stack().tcp_state(c.socket), State::Closed);
  std::error_code ec;
  EXPECT_EQ(peek(p, c.socket, 100, ec), "");
  EXPECT_EQ(ec, std::errc::connection_reset);
  EXPECT_EQ(peek(p, c.socket, 100, ec), "");
  EXPECT_FALSE(ec) << "the error was collected: a closed connection reads as EOF";
}

TEST(Peek, NeedsAConnectedSocket) {
  RawPeer p;
  SocketId s = -1;
  ASSERT_FALSE(p.stack().tcp_socket(s));
  std::error_code ec;
  peek(p, s, 10, ec);
  EXPECT_EQ(ec, std::errc::not_connected);
  const SocketId l = p.listen(80);
  peek(p, l, 10, ec);
  EXPECT_EQ(ec, std::errc::not_connected);
  peek(p, 999, 10, ec);
  EXPECT_EQ(ec, std::errc::bad_file_descriptor);
}

}  // namespace
}  // namespace synack::testing
