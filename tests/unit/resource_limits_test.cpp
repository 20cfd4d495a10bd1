// The stack's resource limits (StackConfig::max_sockets, max_buffer_memory): socket() and
// accept() beyond the sockets fail with EMFILE, and the connection accept() could not take
// stays queued; writes beyond the buffer memory fail with ENOBUFS, arriving data beyond it
// is dropped whole (not ACKed) and counted until the application reads; a listener at
// either limit drops new SYNs, counted, while the connections it has go on.
#include <gtest/gtest.h>

#include <string>

#include "sim/world.hpp"
#include "support/raw_peer.hpp"

namespace synack::testing {
namespace {

using tcp::State;

StackConfig with_max_sockets(std::size_t n) {
  StackConfig c;
  c.max_sockets = n;
  return c;
}

StackConfig with_max_buffer_memory(std::size_t bytes) {
  StackConfig c;
  c.max_buffer_memory = bytes;
  return c;
}

TEST(ResourceLimits, DefaultsAre65536SocketsAnd256MiB) {
  const StackConfig c;
  EXPECT_EQ(c.max_sockets, 65536u);
  EXPECT_EQ(c.max_buffer_memory, 256u * 1024 * 1024);
}

TEST(SocketLimit, SocketBeyondTheLimitIsEmfileAndClosingOneFreesASlot) {
  RawPeer p(RawPeer::test_config(), with_max_sockets(3));
  Stack& s = p.stack();
  SocketId a = -1, b = -1, c = -1, d = -1;
  ASSERT_FALSE(s.tcp_socket(a));
  ASSERT_FALSE(s.udp_socket(b));
  ASSERT_FALSE(s.tcp_socket(c));
  EXPECT_EQ(s.tcp_socket(d), std::errc::too_many_files_open);
  EXPECT_EQ(s.udp_socket(d), std::errc::too_many_files_open);
  EXPECT_EQ(d, -1);
  EXPECT_EQ(p.counters().stack.sockets_refused, 2u);

  ASSERT_FALSE(s.close(b));
  ASSERT_FALSE(s.tcp_socket(d));
  EXPECT_EQ(d, b);  // the lowest free number, as file descriptors are given out
  EXPECT_EQ(s.udp_socket(d), std::errc::too_many_files_open);
  EXPECT_EQ(p.counters().stack.sockets_refused, 3u);
}

TEST(SocketLimit, AcceptBeyondTheLimitIsEmfileAndTheConnectionStaysQueued) {
  RawPeer p(RawPeer::test_config(), with_max_sockets(2));
  const SocketId listener = p.listen(80);
  const std::uint32_t iss = p.handshake_to(80, 1000);  // ESTABLISHED, waiting in the queue
  SocketId other = -1;
  ASSERT_FALSE(p.stack().tcp_socket(other));  // two sockets: the limit

  SocketId child = -1;
  EXPECT_EQ(p.stack().accept(listener, child), std::errc::too_many_files_open);
  EXPECT_EQ(child, -1);
  EXPECT_EQ(p.counters().stack.sockets_refused, 1u);
  EXPECT_TRUE(p.stack().readiness(listener).readable);  // still there to accept, as on Linux
  p.expect_nothing();

  ASSERT_FALSE(p.close(other));
  Endpoint peer;
  ASSERT_FALSE(p.stack().accept(listener, child, &peer));
  EXPECT_EQ(peer, (Endpoint{RawPeer::kRemote, RawPeer::kRemotePort}));
  EXPECT_EQ(p.stack().tcp_state(child), State::Established);
  EXPECT_FALSE(p.write(child, "late but whole"));
  p.expect({.flags = ACK | PSH, .seq = iss + 1, .ack = 1001, .payload = "late but whole"});
}

TEST(SocketLimit, ListenerAtTheLimitDropsSynsAndAcceptsAgainOnceASocketCloses) {
  RawPeer p(RawPeer::test_config(), with_max_sockets(2));
  const Opened c = p.accept_established();  // the listener and its accepted child: the limit

  // A second client's SYN makes no child and draws no answer: its retransmission will.
  const In syn{
      .flags = SYN, .seq = 7000, .options = RawPeer::default_syn_options(), .src_port = 40001};
  p.inject(syn);
  p.expect_nothing();
  EXPECT_EQ(p.counters().tcp.syn_limit_drops, 1u);
  EXPECT_EQ(p.counters().tcp.passive_opens, 1u);
  EXPECT_EQ(p.stack().connection_count(), 1u);

  // The connection already open goes on.
  p.inject({.flags = ACK | PSH, .seq = 1001, .ack = c.iss + 1, .payload = "still here"});
  p.advance(milliseconds(40));
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 1011, .len = 0});
  std::string got;
  EXPECT_FALSE(p.read(c.socket, got));
  EXPECT_EQ(got, "still here");

  // The application closes it: a socket is free, and the SYN sent again is taken.
  ASSERT_FALSE(p.close(c.socket));
  p.expect({.flags = FIN | ACK, .seq = c.iss + 1, .ack = 1011});
  p.inject(syn);
  const Seen synack = p.expect({.flags = SYN | ACK, .ack = 7001});
  p.inject({.flags = ACK, .seq = 7001, .ack = synack.header.seq + 1, .src_port = 40001});
  SocketId second = -1;
  EXPECT_FALSE(p.stack().accept(c.listener, second));
  EXPECT_EQ(p.stack().tcp_state(second), State::Established);
  EXPECT_EQ(p.counters().tcp.syn_limit_drops, 1u);
  EXPECT_EQ(p.counters().tcp.passive_opens, 2u);
}

TEST(BufferMemory, WriteBeyondTheLimitIsShortThenEnobufs) {
  RawPeer p(RawPeer::test_config(), with_max_buffer_memory(3000));
  const Opened c = p.accept_established();
  std::size_t n = 0;
  EXPECT_FALSE(p.write(c.socket, std::string(5000, 'a'), &n));
  EXPECT_EQ(n, 3000u);  // a short write: what the memory allows
  EXPECT_EQ(p.stack().buffer_memory(), 3000u);
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 1001, .len = 1460});
  p.expect({.flags = ACK, .seq = c.iss + 1461, .ack = 1001, .len = 1460});
  p.expect_nothing();  // Nagle holds the last 80 bytes while data is in flight

  EXPECT_EQ(p.write(c.socket, "b", &n), std::errc::no_buffer_space);
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(p.counters().tcp.snd_mem_refused, 1u);

  // The first segment is acknowledged: its bytes are given back, and writes fit again.
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 1461});
  EXPECT_EQ(p.stack().buffer_memory(), 1540u);
  EXPECT_FALSE(p.write(c.socket, std::string(2000, 'c'), &n));
  EXPECT_EQ(n, 1460u);
  p.expect({.flags = ACK, .seq = c.iss + 2921, .ack = 1001, .len = 1460});
  EXPECT_EQ(p.stack().buffer_memory(), 3000u);
  EXPECT_EQ(p.write(c.socket, "d", &n), std::errc::no_buffer_space);
  EXPECT_EQ(p.counters().tcp.snd_mem_refused, 2u);

  // All acknowledged: nothing held but the 80 bytes Nagle kept back, now sent.
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 4381});
  p.expect({.flags = ACK | PSH, .seq = c.iss + 4381, .ack = 1001, .len = 80});
  EXPECT_EQ(p.stack().buffer_memory(), 80u);
}

TEST(BufferMemory, ReceiverOverTheLimitDropsDataUnacknowledgedUntilTheApplicationReads) {
  RawPeer p(RawPeer::test_config(), with_max_buffer_memory(2000));
  const Opened c = p.accept_established();
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 1, .payload = std::string(1500, 'x')});
  p.expect_nothing();  // the ACK is delayed
  EXPECT_EQ(p.stack().buffer_memory(), 1500u);

  // 1000 more in order would hold 2500: dropped whole, counted, and the ACK that goes at
  // once does not acknowledge it.
  p.inject({.flags = ACK, .seq = 2501, .ack = c.iss + 1, .payload = std::string(1000, 'y')});
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 2501, .len = 0});
  EXPECT_EQ(p.counters().tcp.rcv_mem_drops, 1u);
  // Out of order the same.
  p.inject({.flags = ACK, .seq = 3501, .ack = c.iss + 1, .payload = std::string(1000, 'z')});
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 2501, .len = 0});
  EXPECT_EQ(p.counters().tcp.rcv_mem_drops, 2u);
  EXPECT_EQ(p.counters().tcp.out_of_order, 0u);
  EXPECT_EQ(p.stack().buffer_memory(), 1500u);

  // The application reads: the memory is free again, and the window update goes out.
  std::string got;
  EXPECT_FALSE(p.read(c.socket, got));
  EXPECT_EQ(got, std::string(1500, 'x'));
  EXPECT_EQ(p.stack().buffer_memory(), 0u);
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 2501, .len = 0});

  // The peer's retransmission is taken now.
  p.inject({.flags = ACK, .seq = 2501, .ack = c.iss + 1, .payload = std::string(1000, 'y')});
  EXPECT_EQ(p.stack().buffer_memory(), 1000u);
  p.advance(milliseconds(40));
  p.expect({.flags = ACK, .seq = c.iss + 1, .ack = 3501, .len = 0});
  EXPECT_FALSE(p.read(c.socket, got));
  EXPECT_EQ(got, std::string(1000, 'y'));
  EXPECT_EQ(p.counters().tcp.rcv_mem_drops, 2u);
}

TEST(BufferMemory, ListenerDropsSynsWhileTheMemoryIsUsedUp) {
  RawPeer p(RawPeer::test_config(), with_max_buffer_memory(1000));
  const Opened c = p.accept_established();
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 1, .payload = std::string(1000, 'x')});
  EXPECT_EQ(p.stack().buffer_memory(), 1000u);  // all of it, unread

  const In syn{
      .flags = SYN, .seq = 7000, .options = RawPeer::default_syn_options(), .src_port = 40001};
  p.inject(syn);
  p.expect_nothing();
  EXPECT_EQ(p.counters().tcp.syn_limit_drops, 1u);
  EXPECT_EQ(p.stack().connection_count(), 1u);

  std::string got;
  EXPECT_FALSE(p.read(c.socket, got));
  EXPECT_EQ(got.size(), 1000u);
  p.inject(syn);
  p.expect({.flags = SYN | ACK, .ack = 7001});
  EXPECT_EQ(p.counters().tcp.syn_limit_drops, 1u);
  EXPECT_EQ(p.counters().tcp.passive_opens, 2u);
}

TEST(BufferMemory, ClosingGivesTheBytesBack) {
  RawPeer p(RawPeer::test_config(), with_max_buffer_memory(1 << 20));
  const Opened c = p.accept_established();
  p.inject({.flags = ACK, .seq = 1001, .ack = c.iss + 1, .payload = std::string(700, 'x')});
  EXPECT_FALSE(p.write(c.socket, std::string(300, 'y')));
  EXPECT_EQ(p.stack().buffer_memory(), 1000u);
  ASSERT_FALSE(p.close(c.socket));  // unread data: reset, everything released (RFC 2525 §2.17)
  EXPECT_EQ(p.stack().buffer_memory(), 0u);
}

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST(BufferMemory, UdpDatagramsBeyondTheLimitAreDroppedAndSendsRefused) {
  sim::World world{5, sim::ChannelParams{.delay = milliseconds(5)}};
  sim::Host& client = world.add_host(Ipv4Address(198, 18, 0, 1));
  StackConfig config;
  config.address = Ipv4Address(198, 18, 0, 2);
  config.max_buffer_memory = 2500;
  sim::Host& server = world.add_host(config);
  SocketId srv = -1, cli = -1;
  ASSERT_FALSE(server.stack.udp_socket(srv));
  ASSERT_FALSE(server.stack.bind(srv, {Ipv4Address(), 7}));
  ASSERT_FALSE(client.stack.udp_socket(cli));
  const Endpoint to{config.address, 7};
  const std::string kilo(1000, 'k');
  for (int i = 0; i < 3; ++i) ASSERT_FALSE(client.stack.send_to(cli, bytes_of(kilo), to));
  world.run_for(milliseconds(50));
  EXPECT_EQ(server.stack.counters().udp.in_datagrams, 2u);
  EXPECT_EQ(server.stack.counters().udp.rcv_mem_drops, 1u);
  EXPECT_EQ(server.stack.buffer_memory(), 2000u);

  // Sending: what would take the stack past its memory is refused; what fits goes.
  const Endpoint back{Ipv4Address(198, 18, 0, 1), 9};
  EXPECT_EQ(server.stack.send_to(srv, bytes_of(kilo), back), std::errc::no_buffer_space);
  EXPECT_EQ(server.stack.counters().udp.snd_mem_refused, 1u);
  EXPECT_FALSE(server.stack.send_to(srv, bytes_of(std::string(500, 'h')), back));

  std::string buf(2000, '\0');
  std::size_t n = 0;
  ASSERT_FALSE(server.stack.receive_from(
      srv, std::span(reinterpret_cast<std::uint8_t*>(buf.data()), buf.size()), n));
  EXPECT_EQ(n, 1000u);
  EXPECT_EQ(server.stack.buffer_memory(), 1000u);
  ASSERT_FALSE(client.stack.send_to(cli, bytes_of(kilo), to));
  world.run_for(milliseconds(50));
  EXPECT_EQ(server.stack.counters().udp.in_datagrams, 3u);
  EXPECT_EQ(server.stack.buffer_memory(), 2000u);
  ASSERT_FALSE(server.stack.close(srv));  // the unread datagrams go with the socket
  EXPECT_EQ(server.stack.buffer_memory(), 0u);
}

}  // namespace
}  // namespace synack::testing
