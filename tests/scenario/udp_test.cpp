// UDP and ICMP, stack against stack (and a raw node for ping): datagrams keep their
// boundaries, a short buffer truncates, a connected socket hears only its peer, a closed
// port answers with ICMP port unreachable that a connected socket sees as ECONNREFUSED,
// and echo requests are answered.
#include <gtest/gtest.h>

#include "stack/counters.hpp"
#include "support/flow.hpp"
#include "support/raw_node.hpp"
#include "wire/icmp.hpp"
#include "wire/udp.hpp"

namespace synack::testing {
namespace {

constexpr std::uint16_t kEchoPort = 7;
constexpr std::size_t kMaxPayload = 1500 - 20 - 8;  // 1472: one datagram fills the MTU

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

struct Udp : ::testing::Test {
  sim::World world{5, sim::ChannelParams{.delay = milliseconds(5)}};
  sim::Host& client = world.add_host(kClientAddr);
  sim::Host& server = world.add_host(kServerAddr);

  SocketId bound_socket(sim::Host& h, std::uint16_t port) {
    SocketId s = -1;
    EXPECT_FALSE(h.stack.udp_socket(s));
    EXPECT_FALSE(h.stack.bind(s, {Ipv4Address(), port}));
    return s;
  }

  struct Datagram {
    std::string data;
    Endpoint from;
    bool truncated = false;
  };
  // The next datagram on `s`, running the world until one is there.
  std::optional<Datagram> receive(sim::Host& h, SocketId s, std::size_t buffer = 2048) {
    if (!world.run_until([&] { return h.stack.readiness(s).readable; }, seconds(1)).done) {
      return std::nullopt;
    }
    std::string buf(buffer, '\0');
    std::size_t n = 0;
    Datagram d;
    const auto ec =
        h.stack.receive_from(s, std::span(reinterpret_cast<std::uint8_t*>(buf.data()), buf.size()),
                             n, &d.from, &d.truncated);
    EXPECT_FALSE(ec) << ec.message();
    if (ec) return std::nullopt;
    d.data = buf.substr(0, n);
    return d;
  }
};

TEST_F(Udp, DatagramsKeepTheirBoundariesBothWays) {
  const SocketId srv = bound_socket(server, kEchoPort);
  SocketId cli = -1;
  ASSERT_FALSE(client.stack.udp_socket(cli));
  const std::vector<std::size_t> sizes = {0, 1, 2, 100, 1000, 1471, kMaxPayload};
  // All sent at once: they arrive as separate datagrams, in order, none merged or split.
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    ASSERT_FALSE(client.stack.send_to(
        cli, bytes_of(pattern(sizes[i], static_cast<std::uint32_t>(i))), {kServerAddr, kEchoPort}))
        << sizes[i];
  }
  Endpoint cli_local;
  ASSERT_FALSE(client.stack.getsockname(cli, cli_local));
  EXPECT_EQ(cli_local.address, Ipv4Address()) << "an implicit bind is to the wildcard";
  EXPECT_GE(cli_local.port, 32768) << "sendto() on an unbound socket binds an ephemeral port";
  const Endpoint cli_source{kClientAddr, cli_local.port};

  for (std::size_t i = 0; i < sizes.size(); ++i) {
    const auto d = receive(server, srv);
    ASSERT_TRUE(d) << "datagram " << i;
    EXPECT_TRUE(same_bytes(d->data, pattern(sizes[i], static_cast<std::uint32_t>(i)))) << sizes[i];
    EXPECT_FALSE(d->truncated);
    EXPECT_EQ(d->from, cli_source);
    // Echo it back to where it came from.
    ASSERT_FALSE(server.stack.send_to(srv, bytes_of(d->data), d->from));
  }
  std::size_t n = 0;
  std::uint8_t byte;
  EXPECT_EQ(server.stack.receive_from(srv, std::span(&byte, 1), n),
            std::errc::resource_unavailable_try_again);
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    const auto d = receive(client, cli);
    ASSERT_TRUE(d);
    EXPECT_TRUE(same_bytes(d->data, pattern(sizes[i], static_cast<std::uint32_t>(i))));
    EXPECT_EQ(d->from, (Endpoint{kServerAddr, kEchoPort}));
  }

  // One byte more than fits in the MTU is refused (EMSGSIZE): we never fragment.
  EXPECT_EQ(client.stack.send_to(cli, bytes_of(pattern(kMaxPayload + 1)), {kServerAddr, kEchoPort}),
            std::errc::message_size);
  const Counters& cc = client.stack.counters();
  const Counters& sc = server.stack.counters();
  EXPECT_EQ(cc.udp.out_datagrams, sizes.size());
  EXPECT_EQ(sc.udp.in_datagrams, sizes.size());
  EXPECT_EQ(sc.udp.out_datagrams, sizes.size());
  EXPECT_EQ(cc.udp.in_datagrams, sizes.size());
  EXPECT_EQ(sc.udp.in_errors + sc.udp.no_ports + sc.udp.rcvbuf_errors, 0u);
}

TEST_F(Udp, AShortBufferTruncatesAndTheRestOfTheDatagramIsDiscarded) {
  const SocketId srv = bound_socket(server, kEchoPort);
  SocketId cli = -1;
  ASSERT_FALSE(client.stack.udp_socket(cli));
  const std::string first = pattern(100, 1), second = pattern(30, 2);
  ASSERT_FALSE(client.stack.send_to(cli, bytes_of(first), {kServerAddr, kEchoPort}));
  ASSERT_FALSE(client.stack.send_to(cli, bytes_of(second), {kServerAddr, kEchoPort}));

  const auto a = receive(server, srv, 10);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->data, first.substr(0, 10));
  EXPECT_TRUE(a->truncated) << "MSG_TRUNC";
  // The next read is the next datagram, not the other 90 bytes of the first.
  const auto b = receive(server, srv, 100);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->data, second);
  EXPECT_FALSE(b->truncated);
  // read() on a UDP socket is recv(): one datagram, truncated the same way.
  ASSERT_FALSE(client.stack.send_to(cli, bytes_of(first), {kServerAddr, kEchoPort}));
  ASSERT_TRUE(
      world.run_until([&] { return server.stack.readiness(srv).readable; }, seconds(1)).done);
  std::uint8_t buf[7];
  std::size_t n = 0;
  ASSERT_FALSE(server.stack.read(srv, buf, n));
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), n), first.substr(0, 7));
  EXPECT_EQ(server.stack.read(srv, buf, n), std::errc::resource_unavailable_try_again);
}

TEST_F(Udp, PeekLeavesTheDatagramForTheNextRead) {
  // MSG_PEEK gives the next datagram (truncated to the buffer, the flag set) and leaves
  // it whole for the next read.
  const SocketId srv = bound_socket(server, kEchoPort);
  SocketId cli = -1;
  ASSERT_FALSE(client.stack.udp_socket(cli));
  std::uint8_t buf[200];
  std::size_t n = 0;
  EXPECT_EQ(server.stack.peek(srv, buf, n), std::errc::resource_unavailable_try_again);

  const std::string first = pattern(100, 1), second = pattern(30, 2);
  ASSERT_FALSE(client.stack.send_to(cli, bytes_of(first), {kServerAddr, kEchoPort}));
  ASSERT_FALSE(client.stack.send_to(cli, bytes_of(second), {kServerAddr, kEchoPort}));
  ASSERT_TRUE(
      world.run_until([&] { return server.stack.readiness(srv).readable; }, seconds(1)).done);
  world.run_for(milliseconds(10));  // both have arrived

  Endpoint from;
  bool truncated = false;
  ASSERT_FALSE(server.stack.peek(srv, std::span(buf, 10), n, &from, &truncated));
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), n), first.substr(0, 10));
  EXPECT_TRUE(truncated);
  Endpoint cli_local;
  ASSERT_FALSE(client.stack.getsockname(cli, cli_local));
  EXPECT_EQ(from, (Endpoint{kClientAddr, cli_local.port}));
  ASSERT_FALSE(server.stack.peek(srv, buf, n, nullptr, &truncated));
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), n), first);
  EXPECT_FALSE(truncated);

  const auto a = receive(server, srv);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->data, first) << "the peeked datagram is still whole";
  const auto b = receive(server, srv);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->data, second);
}

TEST_F(Udp, QueuedIsTheSizeOfTheNextDatagram) {
  // FIONREAD on a datagram socket: what the next read takes, not the total queued.
  const SocketId srv = bound_socket(server, kEchoPort);
  SocketId cli = -1;
  ASSERT_FALSE(client.stack.udp_socket(cli));
  Stack::Queued q{.readable = 1, .unacknowledged = 1};
  ASSERT_FALSE(server.stack.queued(srv, q));
  EXPECT_EQ(q.readable, 0u);
  EXPECT_EQ(q.unacknowledged, 0u);
  for (const std::size_t size : {std::size_t{100}, std::size_t{30}, std::size_t{0}}) {
    ASSERT_FALSE(client.stack.send_to(cli, bytes_of(pattern(size, 1)), {kServerAddr, kEchoPort}));
  }
  ASSERT_TRUE(
      world.run_until([&] { return server.stack.readiness(srv).readable; }, seconds(1)).done);
  world.run_for(milliseconds(10));  // all have arrived
  for (const std::size_t size : {std::size_t{100}, std::size_t{30}, std::size_t{0}}) {
    ASSERT_FALSE(server.stack.queued(srv, q));
    EXPECT_EQ(q.readable, size);
    EXPECT_EQ(q.unacknowledged, 0u);
    ASSERT_TRUE(receive(server, srv));
  }
  ASSERT_FALSE(server.stack.queued(srv, q));
  EXPECT_EQ(q.readable, 0u);
  EXPECT_EQ(server.stack.queued(99, q), std::errc::bad_file_descriptor);
}

TEST_F(Udp, AConnectedSocketHearsOnlyItsPeer) {
  // Two client sockets; the server's socket is connected to the first.
  SocketId peer = -1, stranger = -1;
  ASSERT_FALSE(client.stack.udp_socket(peer));
  ASSERT_FALSE(client.stack.udp_socket(stranger));
  ASSERT_FALSE(client.stack.bind(peer, {Ipv4Address(), 4001}));
  ASSERT_FALSE(client.stack.bind(stranger, {Ipv4Address(), 4002}));
  const SocketId srv = bound_socket(server, 5000);
  ASSERT_FALSE(server.stack.connect(srv, {kClientAddr, 4001}));
  Endpoint remote;
  ASSERT_FALSE(server.stack.getpeername(srv, remote));
  EXPECT_EQ(remote, (Endpoint{kClientAddr, 4001}));

  ASSERT_FALSE(client.stack.send_to(stranger, bytes_of("from the stranger"), {kServerAddr, 5000}));
  ASSERT_FALSE(client.stack.send_to(peer, bytes_of("from the peer"), {kServerAddr, 5000}));
  const auto d = receive(server, srv);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->data, "from the peer");
  EXPECT_EQ(d->from, (Endpoint{kClientAddr, 4001}));
  world.run_for(milliseconds(20));
  EXPECT_FALSE(server.stack.readiness(srv).readable) << "the stranger's datagram was dropped";
  // As on Linux, a datagram no socket will take is a datagram to a closed port: counted,
  // and answered with port unreachable (which the unconnected stranger does not hear of).
  EXPECT_EQ(server.stack.counters().udp.no_ports, 1u);
  EXPECT_EQ(server.stack.counters().icmp.out_dest_unreachs, 1u);
  EXPECT_EQ(client.stack.counters().icmp.in_dest_unreachs, 1u);
  EXPECT_FALSE(client.stack.socket_error(stranger));

  // write() on a connected socket goes to the peer.
  std::size_t n = 0;
  ASSERT_FALSE(server.stack.write(srv, bytes_of("reply"), n));
  EXPECT_EQ(n, 5u);
  const auto r = receive(client, peer);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->data, "reply");
  EXPECT_EQ(r->from, (Endpoint{kServerAddr, 5000}));
}

TEST_F(Udp, PortUnreachableIsConnectionRefusedOnAConnectedSocketOnly) {
  SocketId connected = -1, unconnected = -1;
  ASSERT_FALSE(client.stack.udp_socket(connected));
  ASSERT_FALSE(client.stack.udp_socket(unconnected));
  ASSERT_FALSE(client.stack.connect(connected, {kServerAddr, 9999}));  // nobody there
  std::size_t n = 0;
  ASSERT_FALSE(client.stack.write(connected, bytes_of("anyone?"), n));
  ASSERT_FALSE(client.stack.send_to(unconnected, bytes_of("anyone?"), {kServerAddr, 9999}));
  world.run_for(milliseconds(10));  // there and back

  EXPECT_EQ(server.stack.counters().udp.no_ports, 2u);
  EXPECT_EQ(server.stack.counters().icmp.out_dest_unreachs, 2u);
  EXPECT_EQ(client.stack.counters().icmp.in_dest_unreachs, 2u);

  // The connected socket: readable and in error; the error is reported once, by the next
  // call (here recv), and then cleared.
  const Readiness r = client.stack.readiness(connected);
  EXPECT_TRUE(r.readable);
  EXPECT_TRUE(r.error);
  std::uint8_t buf[16];
  EXPECT_EQ(client.stack.read(connected, buf, n), std::errc::connection_refused);
  EXPECT_EQ(client.stack.read(connected, buf, n), std::errc::resource_unavailable_try_again);
  EXPECT_FALSE(client.stack.readiness(connected).error);
  // Again, collected through SO_ERROR this time.
  ASSERT_FALSE(client.stack.write(connected, bytes_of("still?"), n));
  world.run_for(milliseconds(10));
  EXPECT_EQ(client.stack.socket_error(connected), std::errc::connection_refused);
  EXPECT_FALSE(client.stack.socket_error(connected));

  // The unconnected socket hears nothing of it (Linux without IP_RECVERR).
  EXPECT_FALSE(client.stack.readiness(unconnected).readable);
  EXPECT_FALSE(client.stack.readiness(unconnected).error);
  EXPECT_FALSE(client.stack.socket_error(unconnected));
  EXPECT_EQ(client.stack.receive_from(unconnected, buf, n),
            std::errc::resource_unavailable_try_again);
}

TEST_F(Udp, BindConflictsAndEphemeralPorts) {
  const SocketId a = bound_socket(server, 6000);
  SocketId b = -1;
  ASSERT_FALSE(server.stack.udp_socket(b));
  EXPECT_EQ(server.stack.bind(b, {Ipv4Address(), 6000}), std::errc::address_in_use);
  EXPECT_EQ(server.stack.bind(b, {kServerAddr, 6000}), std::errc::address_in_use);
  // TCP and UDP ports are separate spaces.
  SocketId t = -1;
  ASSERT_FALSE(server.stack.tcp_socket(t));
  EXPECT_FALSE(server.stack.bind(t, {Ipv4Address(), 6000}));
  // Port 0 picks a free ephemeral port.
  ASSERT_FALSE(server.stack.bind(b, {Ipv4Address(), 0}));
  Endpoint local;
  ASSERT_FALSE(server.stack.getsockname(b, local));
  EXPECT_GE(local.port, 32768);
  EXPECT_LE(local.port, 60999);
  // Closing frees the port for another socket.
  ASSERT_FALSE(server.stack.close(a));
  SocketId c = -1;
  ASSERT_FALSE(server.stack.udp_socket(c));
  EXPECT_FALSE(server.stack.bind(c, {Ipv4Address(), 6000}));
}

TEST_F(Udp, AFullReceiveQueueDropsAndCounts) {
  const SocketId srv = bound_socket(server, kEchoPort);
  SocketId cli = -1;
  ASSERT_FALSE(client.stack.udp_socket(cli));
  for (std::uint32_t i = 0; i < 300; ++i) {
    ASSERT_FALSE(client.stack.send_to(cli, bytes_of(pattern(1000, i)), {kServerAddr, kEchoPort}));
  }
  world.run_for(milliseconds(10));
  // The queue holds 212992 bytes (Linux's rmem_default): 212 datagrams of 1000.
  EXPECT_EQ(server.stack.counters().udp.in_datagrams, 212u);
  EXPECT_EQ(server.stack.counters().udp.rcvbuf_errors, 88u);
  for (std::uint32_t i = 0; i < 212; ++i) {
    const auto d = receive(server, srv);
    ASSERT_TRUE(d);
    ASSERT_TRUE(same_bytes(d->data, pattern(1000, i))) << i;
  }
  EXPECT_FALSE(server.stack.readiness(srv).readable);
}

// Ping: a raw node builds an echo request by hand; the stack answers with an echo reply
// carrying the same identifier, sequence number and data, addressed back to it.
TEST_F(Udp, EchoRequestsAreAnswered) {
  RawNode pinger(world.net(), Ipv4Address(198, 18, 0, 9));
  for (const std::size_t size : {std::size_t{0}, std::size_t{56}, kMaxPayload}) {
    const std::string data = pattern(size, 9);
    const auto seq = static_cast<std::uint16_t>(size);
    pinger.send(icmp_echo_request(pinger.address(), kServerAddr, 0x4242, seq, bytes_of(data)));
    world.run_for(milliseconds(10));
    const auto reply = pinger.pop();
    ASSERT_TRUE(reply) << "no reply to a " << size << "-byte ping";
    auto ip = wire::Ipv4View::parse(*reply);
    ASSERT_TRUE(ip);
    EXPECT_EQ(ip->src(), kServerAddr);
    EXPECT_EQ(ip->dst(), pinger.address());
    EXPECT_EQ(ip->protocol(), wire::kIcmp);
    auto icmp = wire::IcmpView::parse(ip->payload());
    ASSERT_TRUE(icmp) << "the reply's checksum is right";
    EXPECT_EQ(icmp->type(), wire::kIcmpEchoReply);
    EXPECT_EQ(icmp->code(), 0);
    EXPECT_EQ(icmp->identifier(), 0x4242);
    EXPECT_EQ(icmp->sequence(), seq);
    const auto echoed = icmp->echo_data();
    EXPECT_TRUE(same_bytes(std::string(echoed.begin(), echoed.end()), data));
    EXPECT_EQ(pinger.pending(), 0u);
  }
  EXPECT_EQ(server.stack.counters().icmp.in_echos, 3u);
  EXPECT_EQ(server.stack.counters().icmp.out_echo_reps, 3u);
}

}  // namespace
}  // namespace synack::testing
