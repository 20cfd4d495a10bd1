// The socket API's errors, as a BSD-sockets programmer expects them (POSIX errno meanings,
// Linux where POSIX leaves a choice): bind conflicts and the server restart with
// SO_REUSEADDR, calls in the wrong state, a reset peer, addresses, bad descriptors.
#include <gtest/gtest.h>

#include "stack/counters.hpp"
#include "support/flow.hpp"

namespace synack::testing {
namespace {

using tcp::State;

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

struct SocketApi : ::testing::Test {
  sim::World world{9, sim::ChannelParams{.delay = milliseconds(5)}};
  sim::Host& client = world.add_host(kClientAddr);
  sim::Host& server = world.add_host(kServerAddr);

  SocketId listener_on(std::uint16_t port, bool reuse_addr = false) {
    SocketId s = -1;
    EXPECT_FALSE(server.stack.tcp_socket(s));
    if (reuse_addr) {
      EXPECT_FALSE(server.stack.setsockopt(s, Option::reuse_addr, 1));
    }
    EXPECT_FALSE(server.stack.bind(s, {Ipv4Address(), port}));
    EXPECT_FALSE(server.stack.listen(s, 8));
    return s;
  }
  std::error_code write_some(sim::Host& h, SocketId s, const std::string& data) {
    std::size_t n = 0;
    return h.stack.write(s, bytes_of(data), n);
  }
};

TEST_F(SocketApi, BindToATakenPortIsAddressInUse) {
  SocketId a = -1, b = -1;
  ASSERT_FALSE(server.stack.tcp_socket(a));
  ASSERT_FALSE(server.stack.tcp_socket(b));
  ASSERT_FALSE(server.stack.bind(a, {Ipv4Address(), 80}));
  EXPECT_EQ(server.stack.bind(b, {Ipv4Address(), 80}), std::errc::address_in_use);
  EXPECT_EQ(server.stack.bind(b, {kServerAddr, 80}), std::errc::address_in_use);
  // SO_REUSEADDR does not let two sockets share a port (that is SO_REUSEPORT).
  ASSERT_FALSE(server.stack.setsockopt(b, Option::reuse_addr, 1));
  EXPECT_EQ(server.stack.bind(b, {Ipv4Address(), 80}), std::errc::address_in_use);
  // Binding twice, or to an address that is not ours.
  EXPECT_EQ(server.stack.bind(a, {Ipv4Address(), 81}), std::errc::invalid_argument);
  EXPECT_EQ(server.stack.bind(b, {Ipv4Address(10, 0, 0, 1), 81}), std::errc::address_not_available);
  // A second listener on the port is refused too, and closing the first frees the port.
  ASSERT_FALSE(server.stack.listen(a, 8));
  ASSERT_FALSE(server.stack.close(a));
  EXPECT_FALSE(server.stack.bind(b, {Ipv4Address(), 80}));
}

// The server restart of every networking course: the server closed its connections first,
// so they sit in TIME_WAIT on the server's port for 2·MSL. A new server cannot bind the
// port until then, unless it sets SO_REUSEADDR.
TEST_F(SocketApi, ServerRestartBindsPastTimeWaitOnlyWithReuseAddr) {
  const SocketId listener = listener_on(80);
  SocketId c = -1, s = -1;
  ASSERT_FALSE(client.stack.tcp_socket(c));
  ASSERT_EQ(client.stack.connect(c, {kServerAddr, 80}), std::errc::operation_in_progress);
  ASSERT_TRUE(world.run_until([&] { return !server.stack.accept(listener, s); }, seconds(1)).done);
  // The server goes down: it closes its connection first, then its listener.
  ASSERT_FALSE(server.stack.close(s));
  ASSERT_FALSE(server.stack.close(listener));
  EXPECT_EQ(read_to_eof(world, client, c), "");
  ASSERT_FALSE(client.stack.close(c));
  ASSERT_TRUE(run_until_no_connections(world, {&client}, milliseconds(20)));
  ASSERT_EQ(server.stack.connection_count(), 1u);
  ASSERT_EQ(server.stack.counters().tcp.in_state[static_cast<int>(State::TimeWait)], 1u);
  const Instant time_wait_began = world.now() - milliseconds(5);  // the client's FIN came

  // Restart without SO_REUSEADDR: EADDRINUSE.
  SocketId restarted = -1;
  ASSERT_FALSE(server.stack.tcp_socket(restarted));
  EXPECT_EQ(server.stack.bind(restarted, {Ipv4Address(), 80}), std::errc::address_in_use);
  // With it: bound, listening, and serving new clients beside the old TIME_WAIT.
  ASSERT_FALSE(server.stack.setsockopt(restarted, Option::reuse_addr, 1));
  int value = 0;
  ASSERT_FALSE(server.stack.getsockopt(restarted, Option::reuse_addr, value));
  EXPECT_EQ(value, 1);
  ASSERT_FALSE(server.stack.bind(restarted, {Ipv4Address(), 80}));
  ASSERT_FALSE(server.stack.listen(restarted, 8));
  SocketId c2 = -1, s2 = -1;
  ASSERT_FALSE(client.stack.tcp_socket(c2));
  ASSERT_EQ(client.stack.connect(c2, {kServerAddr, 80}), std::errc::operation_in_progress);
  ASSERT_TRUE(
      world.run_until([&] { return !server.stack.accept(restarted, s2); }, seconds(1)).done);
  ASSERT_FALSE(write_some(client, c2, "hello again"));
  EXPECT_EQ(read_n(world, server, s2, 11), "hello again");
  ASSERT_FALSE(client.stack.close(c2));
  ASSERT_FALSE(server.stack.close(s2));
  ASSERT_FALSE(server.stack.close(restarted));

  // Once the TIME_WAIT is over, a plain bind works again.
  ASSERT_TRUE(
      world.run_until([&] { return world.now() >= time_wait_began + seconds(60); }, seconds(61))
          .done);
  ASSERT_TRUE(run_until_no_connections(world, {&client, &server}, seconds(61)));
  SocketId fresh = -1;
  ASSERT_FALSE(server.stack.tcp_socket(fresh));
  EXPECT_FALSE(server.stack.bind(fresh, {Ipv4Address(), 80}));
}

TEST_F(SocketApi, CallsInTheWrongState) {
  const SocketId listener = listener_on(80);
  SocketId c = -1, s = -1;
  ASSERT_FALSE(client.stack.tcp_socket(c));
  // Not connected yet: ENOTCONN for reading, writing, shutdown and the peer's name.
  std::uint8_t buf[8];
  std::size_t n = 0;
  EXPECT_EQ(client.stack.read(c, buf, n), std::errc::not_connected);
  EXPECT_EQ(write_some(client, c, "x"), std::errc::not_connected);
  EXPECT_EQ(client.stack.shutdown(c, Shutdown::both), std::errc::not_connected);
  Endpoint e;
  EXPECT_EQ(client.stack.getpeername(c, e), std::errc::not_connected);
  EXPECT_EQ(client.stack.accept(c, s), std::errc::invalid_argument) << "not listening";
  // A listener does not read or write.
  EXPECT_EQ(server.stack.read(listener, buf, n), std::errc::not_connected);
  EXPECT_EQ(server.stack.connect(listener, {kClientAddr, 80}), std::errc::invalid_argument);

  // Connecting: a second connect() is EALREADY; writing must wait (EAGAIN).
  ASSERT_EQ(client.stack.connect(c, {kServerAddr, 80}), std::errc::operation_in_progress);
  EXPECT_EQ(client.stack.tcp_state(c), State::SynSent);
  EXPECT_EQ(client.stack.connect(c, {kServerAddr, 80}), std::errc::connection_already_in_progress);
  EXPECT_EQ(write_some(client, c, "x"), std::errc::resource_unavailable_try_again);
  EXPECT_EQ(client.stack.getpeername(c, e), std::errc::not_connected);
  ASSERT_TRUE(world.run_until([&] { return !server.stack.accept(listener, s); }, seconds(1)).done);
  ASSERT_TRUE(world.run_until([&] { return client.stack.readiness(c).writable; }, seconds(1)).done);
  EXPECT_FALSE(client.stack.socket_error(c));

  // Connected: connect() again is EISCONN, listen() is EINVAL, bind() is EINVAL.
  EXPECT_EQ(client.stack.connect(c, {kServerAddr, 80}), std::errc::already_connected);
  EXPECT_EQ(client.stack.connect(c, {kServerAddr, 81}), std::errc::already_connected);
  EXPECT_EQ(client.stack.listen(c, 8), std::errc::invalid_argument);
  EXPECT_EQ(server.stack.listen(s, 8), std::errc::invalid_argument);
  EXPECT_EQ(client.stack.bind(c, {Ipv4Address(), 5555}), std::errc::invalid_argument);
  // Nothing to read yet: EAGAIN, not an error of the connection.
  EXPECT_EQ(client.stack.read(c, buf, n), std::errc::resource_unavailable_try_again);
  // A UDP socket cannot listen; a TCP socket has no sendto.
  SocketId u = -1;
  ASSERT_FALSE(client.stack.udp_socket(u));
  EXPECT_EQ(client.stack.listen(u, 8), std::errc::operation_not_supported);
  EXPECT_EQ(client.stack.send_to(c, bytes_of("x"), {kServerAddr, 80}),
            std::errc::operation_not_supported);
  // Options a UDP socket does not have, and bad values.
  EXPECT_EQ(client.stack.setsockopt(u, Option::nodelay, 1), std::errc::no_protocol_option);
  EXPECT_EQ(client.stack.setsockopt(c, Option::keep_idle, 0), std::errc::invalid_argument);
}

TEST_F(SocketApi, ConnectToAClosedPortIsRefused) {
  SocketId c = -1;
  ASSERT_FALSE(client.stack.tcp_socket(c));
  ASSERT_EQ(client.stack.connect(c, {kServerAddr, 81}), std::errc::operation_in_progress);
  ASSERT_TRUE(world.run_until([&] { return client.stack.readiness(c).error; }, seconds(1)).done);
  EXPECT_EQ(world.now(), kEpoch + milliseconds(10)) << "one round trip: SYN, RST";
  const Readiness r = client.stack.readiness(c);
  EXPECT_TRUE(r.writable);
  EXPECT_TRUE(r.hangup);
  EXPECT_EQ(client.stack.socket_error(c), std::errc::connection_refused);
  EXPECT_FALSE(client.stack.socket_error(c)) << "SO_ERROR clears when read";
  EXPECT_EQ(server.stack.counters().tcp.no_port, 1u);
  EXPECT_EQ(server.stack.counters().tcp.out_rsts, 1u);
  EXPECT_EQ(client.stack.counters().tcp.attempt_fails, 1u);
  ASSERT_FALSE(client.stack.close(c));
  world.run_for(microseconds(1));  // reclaimed on the next poll
  EXPECT_EQ(client.stack.connection_count(), 0u);
}

// The peer aborts (SO_LINGER 0: close() sends RST). The next write reports ECONNRESET,
// once; after that the connection is gone and writing is EPIPE. Reading sees end of file.
TEST_F(SocketApi, WriteAfterPeerResetIsConnectionResetThenBrokenPipe) {
  const Pair p = open_pair(world, client, server);
  ASSERT_FALSE(server.stack.setsockopt(p.server, Option::linger, 0));
  ASSERT_FALSE(server.stack.close(p.server));
  ASSERT_TRUE(
      world.run_until([&] { return client.stack.readiness(p.client).error; }, seconds(1)).done);
  EXPECT_EQ(client.stack.tcp_state(p.client), State::Closed);
  EXPECT_EQ(client.stack.counters().tcp.in_rsts, 1u);
  EXPECT_EQ(client.stack.counters().tcp.estab_resets, 1u);
  const Readiness r = client.stack.readiness(p.client);
  EXPECT_TRUE(r.readable && r.writable && r.hangup);

  const std::uint64_t sent = client.stack.counters().tcp.out_segs;
  EXPECT_EQ(write_some(client, p.client, "anyone?"), std::errc::connection_reset);
  EXPECT_EQ(write_some(client, p.client, "anyone?"), std::errc::broken_pipe);
  EXPECT_EQ(write_some(client, p.client, "anyone?"), std::errc::broken_pipe);
  std::uint8_t buf[8];
  std::size_t n = 1;
  EXPECT_FALSE(client.stack.read(p.client, buf, n));
  EXPECT_EQ(n, 0u);
  world.run_for(milliseconds(20));
  EXPECT_EQ(client.stack.counters().tcp.out_segs, sent) << "a reset connection sends nothing";
  ASSERT_FALSE(client.stack.close(p.client));
  world.run_for(microseconds(1));  // reclaimed on the next poll
  EXPECT_EQ(client.stack.connection_count() + server.stack.connection_count(), 0u);
}

// The classic way to meet a reset: the peer has closed (its socket is gone, its side in
// FIN_WAIT_2), we write anyway; the data reaches a socket that cannot read and the peer
// answers with RST. The first write succeeds, the next reports the reset, then EPIPE.
TEST_F(SocketApi, WritingToAClosedPeerProvokesAReset) {
  const Pair p = open_pair(world, client, server);
  ASSERT_FALSE(server.stack.close(p.server));
  EXPECT_EQ(read_to_eof(world, client, p.client), "");
  EXPECT_EQ(client.stack.tcp_state(p.client), State::CloseWait);
  EXPECT_FALSE(write_some(client, p.client, "are you there?"));
  ASSERT_TRUE(
      world.run_until([&] { return client.stack.readiness(p.client).error; }, seconds(1)).done);
  EXPECT_EQ(server.stack.counters().tcp.out_rsts, 1u);
  EXPECT_EQ(write_some(client, p.client, "hello?"), std::errc::connection_reset);
  EXPECT_EQ(write_some(client, p.client, "hello?"), std::errc::broken_pipe);
  ASSERT_FALSE(client.stack.close(p.client));
  ASSERT_TRUE(run_until_no_connections(world, {&client, &server}, seconds(1)));
}

TEST_F(SocketApi, SocketAndPeerNames) {
  const SocketId listener = listener_on(80);
  Endpoint e;
  ASSERT_FALSE(server.stack.getsockname(listener, e));
  EXPECT_EQ(e, (Endpoint{Ipv4Address(), 80})) << "bound to the wildcard, as bind() said";
  EXPECT_EQ(server.stack.getpeername(listener, e), std::errc::not_connected);

  SocketId fresh = -1;
  ASSERT_FALSE(client.stack.tcp_socket(fresh));
  ASSERT_FALSE(client.stack.getsockname(fresh, e));
  EXPECT_EQ(e, (Endpoint{})) << "unbound: 0.0.0.0:0";

  // connect() binds an ephemeral port and our address.
  SocketId c = -1, s = -1;
  ASSERT_FALSE(client.stack.tcp_socket(c));
  ASSERT_EQ(client.stack.connect(c, {kServerAddr, 80}), std::errc::operation_in_progress);
  Endpoint client_local;
  ASSERT_FALSE(client.stack.getsockname(c, client_local));
  EXPECT_EQ(client_local.address, kClientAddr);
  EXPECT_GE(client_local.port, 32768);
  EXPECT_LE(client_local.port, 60999);
  Endpoint accepted_peer;
  ASSERT_TRUE(
      world.run_until([&] { return !server.stack.accept(listener, s, &accepted_peer); }, seconds(1))
          .done);
  EXPECT_EQ(accepted_peer, client_local);
  ASSERT_FALSE(server.stack.getpeername(s, e));
  EXPECT_EQ(e, client_local);
  ASSERT_FALSE(server.stack.getsockname(s, e));
  EXPECT_EQ(e, (Endpoint{kServerAddr, 80})) << "an accepted socket has the specific address";
  ASSERT_TRUE(world.run_until([&] { return client.stack.readiness(c).writable; }, seconds(1)).done);
  ASSERT_FALSE(client.stack.getpeername(c, e));
  EXPECT_EQ(e, (Endpoint{kServerAddr, 80}));

  // A socket bound to the wildcard and a port before connect() keeps the port and gets
  // the address.
  SocketId b = -1;
  ASSERT_FALSE(client.stack.tcp_socket(b));
  ASSERT_FALSE(client.stack.bind(b, {Ipv4Address(), 4444}));
  ASSERT_FALSE(client.stack.getsockname(b, e));
  EXPECT_EQ(e, (Endpoint{Ipv4Address(), 4444}));
  ASSERT_EQ(client.stack.connect(b, {kServerAddr, 80}), std::errc::operation_in_progress);
  ASSERT_FALSE(client.stack.getsockname(b, e));
  EXPECT_EQ(e, (Endpoint{kClientAddr, 4444}));

  // UDP: sendto() on an unbound socket binds the wildcard and an ephemeral port; connect()
  // fixes the local address too.
  SocketId u = -1;
  ASSERT_FALSE(client.stack.udp_socket(u));
  ASSERT_FALSE(client.stack.send_to(u, bytes_of("x"), {kServerAddr, 9}));
  ASSERT_FALSE(client.stack.getsockname(u, e));
  EXPECT_EQ(e.address, Ipv4Address());
  EXPECT_NE(e.port, 0);
  const std::uint16_t udp_port = e.port;
  EXPECT_EQ(client.stack.getpeername(u, e), std::errc::not_connected);
  ASSERT_FALSE(client.stack.connect(u, {kServerAddr, 9}));
  ASSERT_FALSE(client.stack.getsockname(u, e));
  EXPECT_EQ(e, (Endpoint{kClientAddr, udp_port}));
  ASSERT_FALSE(client.stack.getpeername(u, e));
  EXPECT_EQ(e, (Endpoint{kServerAddr, 9}));
}

TEST_F(SocketApi, BadDescriptorsAreEbadf) {
  SocketId closed = -1;
  ASSERT_FALSE(client.stack.tcp_socket(closed));
  ASSERT_FALSE(client.stack.close(closed));
  Stack& st = client.stack;
  for (const SocketId bad : {-1, closed, 4096, 1 << 30}) {
    SCOPED_TRACE(bad);
    const auto ebadf = std::errc::bad_file_descriptor;
    std::uint8_t buf[4];
    std::size_t n = 7;
    SocketId out = -1;
    Endpoint e;
    int value = 0;
    EXPECT_EQ(st.bind(bad, {Ipv4Address(), 80}), ebadf);
    EXPECT_EQ(st.listen(bad, 1), ebadf);
    EXPECT_EQ(st.accept(bad, out), ebadf);
    EXPECT_EQ(st.connect(bad, {kServerAddr, 80}), ebadf);
    EXPECT_EQ(st.read(bad, buf, n), ebadf);
    EXPECT_EQ(n, 0u);
    EXPECT_EQ(st.write(bad, std::span<const std::uint8_t>(buf), n), ebadf);
    EXPECT_EQ(st.shutdown(bad, Shutdown::both), ebadf);
    EXPECT_EQ(st.getsockname(bad, e), ebadf);
    EXPECT_EQ(st.getpeername(bad, e), ebadf);
    EXPECT_EQ(st.setsockopt(bad, Option::nodelay, 1), ebadf);
    EXPECT_EQ(st.getsockopt(bad, Option::nodelay, value), ebadf);
    EXPECT_EQ(st.socket_error(bad), ebadf);
    EXPECT_EQ(st.send_to(bad, std::span<const std::uint8_t>(buf), {kServerAddr, 9}), ebadf);
    EXPECT_EQ(st.receive_from(bad, buf, n), ebadf);
    EXPECT_EQ(st.close(bad), ebadf);
    const Readiness r = st.readiness(bad);
    EXPECT_FALSE(r.readable || r.writable || r.error || r.hangup);
    EXPECT_EQ(st.tcp_state(bad), State::Closed);
  }
  // Descriptors are reused lowest first, like file descriptors: the closed one comes back.
  SocketId again = -1;
  ASSERT_FALSE(st.tcp_socket(again));
  EXPECT_EQ(again, closed);
}

}  // namespace
}  // namespace synack::testing
