// The real-time runtime's blocking calls, with two stacks in this process joined by a
// socketpair (no root, no TUN): each call behaves as its POSIX namesake.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <numeric>
#include <thread>
#include <vector>

#include "link/datagram_link.hpp"
#include "link/fault_link.hpp"
#include "runtime/runtime.hpp"

namespace synack {
namespace {

using namespace std::chrono_literals;
using runtime::Runtime;

const Ipv4Address kServerIp(198, 18, 0, 1);
const Ipv4Address kClientIp(198, 18, 0, 2);

struct TwoHosts {
  explicit TwoHosts(sim::ChannelParams* faults = nullptr) {
    auto [a, b] = link::DatagramLink::pair();
    server_link = std::move(a);
    client_link = std::move(b);
    link::Link* s = server_link.get();
    link::Link* c = client_link.get();
    if (faults) {
      server_faults = std::make_unique<link::FaultLink>(*s, *faults, *faults, 1);
      client_faults = std::make_unique<link::FaultLink>(*c, *faults, *faults, 2);
      s = server_faults.get();
      c = client_faults.get();
    }
    runtime::RuntimeOptions options;
    options.stop_grace = milliseconds(100);  // the other side may be gone: don't wait long
    server = std::make_unique<Runtime>(*s, StackConfig{.address = kServerIp}, options);
    client = std::make_unique<Runtime>(*c, StackConfig{.address = kClientIp}, options);
  }

  SocketId listen(std::uint16_t port) {
    SocketId l;
    EXPECT_FALSE(server->tcp_socket(l));
    EXPECT_FALSE(server->bind(l, {Ipv4Address(), port}));
    EXPECT_FALSE(server->listen(l, 8));
    return l;
  }
  // A connection to `port`, listened on first: the client's socket `c` and the accepted `a`
  // (use under ASSERT_NO_FATAL_FAILURE).
  void connected(std::uint16_t port, SocketId& c, SocketId& a) {
    const SocketId l = listen(port);
    client->tcp_socket(c);
    ASSERT_FALSE(client->connect(c, {kServerIp, port}));
    ASSERT_FALSE(server->accept(l, a));
  }

  std::unique_ptr<link::DatagramLink> server_link, client_link;
  std::unique_ptr<link::FaultLink> server_faults, client_faults;
  std::unique_ptr<Runtime> server, client;
};

std::span<const std::uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST(Runtime, AcceptAndConnectBlockUntilTheHandshakeIsDone) {
  TwoHosts h;
  const SocketId l = h.listen(80);
  SocketId accepted = -1;
  Endpoint peer;
  std::thread server([&] { EXPECT_FALSE(h.server->accept(l, accepted, &peer)); });
  std::this_thread::sleep_for(20ms);  // accept is blocked by now
  SocketId c;
  h.client->tcp_socket(c);
  EXPECT_FALSE(h.client->connect(c, {kServerIp, 80}));
  server.join();
  EXPECT_GE(accepted, 0);
  EXPECT_EQ(peer.address, kClientIp);
  Endpoint remote;
  EXPECT_FALSE(h.client->getpeername(c, remote));
  EXPECT_EQ(remote, (Endpoint{kServerIp, 80}));
}

TEST(Runtime, ConnectToAClosedPortIsRefused) {
  TwoHosts h;
  SocketId c;
  h.client->tcp_socket(c);
  EXPECT_EQ(h.client->connect(c, {kServerIp, 81}), std::errc::connection_refused);
}

TEST(Runtime, ReadBlocksUntilDataThenUntilEndOfStream) {
  TwoHosts h;
  SocketId c, a;
  ASSERT_NO_FATAL_FAILURE(h.connected(80, c, a));
  std::thread writer([&] {
    std::this_thread::sleep_for(30ms);
    std::size_t n;
    h.client->write(c, bytes("hello"), n);
    std::this_thread::sleep_for(30ms);
    h.client->shutdown(c, Shutdown::write);
  });
  std::uint8_t buffer[16];
  std::size_t n = 0;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(h.server->read(a, buffer, n));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 25ms);
  EXPECT_EQ(std::string(buffer, buffer + n), "hello");
  EXPECT_FALSE(h.server->read(a, buffer, n));
  EXPECT_EQ(n, 0u);  // EOF
  writer.join();
}

TEST(Runtime, WriteBlocksWhileTheSendBufferIsFullAndEveryByteArrives) {
  TwoHosts h;
  SocketId c, a;
  ASSERT_NO_FATAL_FAILURE(h.connected(80, c, a));
  std::vector<std::uint8_t> data(4 << 20);
  std::iota(data.begin(), data.end(), std::uint8_t{0});
  for (std::size_t i = 0; i < data.size(); i += 4096) data[i] = static_cast<std::uint8_t>(i >> 12);
  std::thread writer([&] {
    std::size_t n = 0;
    EXPECT_FALSE(h.client->write(c, data, n));  // one call: it blocks until all is taken
    EXPECT_EQ(n, data.size());
    h.client->close(c);
  });
  std::vector<std::uint8_t> got;
  std::vector<std::uint8_t> buffer(10000);
  for (int i = 0; i < 100000; ++i) {
    std::size_t n = 0;
    ASSERT_FALSE(h.server->read(a, buffer, n));
    if (n == 0) break;
    got.insert(got.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
  }
  writer.join();
  EXPECT_TRUE(got == data) << got.size() << " of " << data.size() << " bytes";
}

TEST(Runtime, AWriteCutShortByAResetReturnsItsCountAndTheNextCallTheReset) {
  TwoHosts h;
  SocketId c, a;
  ASSERT_NO_FATAL_FAILURE(h.connected(80, c, a));
  std::atomic<bool> blocked{false};
  std::size_t n = 0;
  std::error_code first;
  std::thread writer([&] {
    // More than both buffers hold while the server reads nothing: it blocks part-way.
    const std::vector<std::uint8_t> data(16 << 20, 0x5a);
    blocked = true;
    first = h.client->write(c, data, n);
  });
  for (int i = 0; i < 200 && !blocked; ++i) std::this_thread::sleep_for(5ms);
  std::this_thread::sleep_for(50ms);  // the send buffer fills and the write waits
  ASSERT_FALSE(h.server->setsockopt(a, Option::linger, 0));
  ASSERT_FALSE(h.server->close(a));  // RST
  writer.join();
  // As write(2): the bytes it took, no error; the reset goes to the next call, not lost.
  EXPECT_FALSE(first) << first.message();
  EXPECT_GT(n, 0u);
  EXPECT_LT(n, std::size_t{16} << 20);
  std::size_t again = 0;
  EXPECT_EQ(h.client->write(c, bytes("more"), again), std::errc::connection_reset);
  EXPECT_EQ(again, 0u);
  EXPECT_EQ(h.client->write(c, bytes("more"), again), std::errc::broken_pipe);
}

TEST(Runtime, TimeoutsAndNonBlockingAnswerTryAgain) {
  TwoHosts h;
  const SocketId l = h.listen(80);
  h.server->set_receive_timeout(l, milliseconds(50));
  SocketId a;
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(h.server->accept(l, a), std::errc::resource_unavailable_try_again);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 45ms);
  h.server->set_nonblocking(l, true);
  start = std::chrono::steady_clock::now();
  EXPECT_EQ(h.server->accept(l, a), std::errc::resource_unavailable_try_again);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 45ms);

  SocketId c;
  h.client->tcp_socket(c);
  h.client->set_nonblocking(c, true);
  EXPECT_EQ(h.client->connect(c, {kServerIp, 80}), std::errc::operation_in_progress);
  runtime::PollEntry e{c, false, true};
  std::size_t ready = 0;
  EXPECT_FALSE(h.client->wait(std::span(&e, 1), seconds(5), ready));
  EXPECT_EQ(ready, 1u);
  EXPECT_TRUE(e.ready.writable);
  EXPECT_FALSE(h.client->with_stack([&](Stack& s) { return s.socket_error(c); }));
}

TEST(Runtime, WaitFindsTheReadySocketAmongMany) {
  TwoHosts h;
  const SocketId l = h.listen(80);
  std::vector<SocketId> clients(4), accepted(4);
  for (std::size_t i = 0; i < 4; ++i) {
    h.client->tcp_socket(clients[i]);
    ASSERT_FALSE(h.client->connect(clients[i], {kServerIp, 80}));
    ASSERT_FALSE(h.server->accept(l, accepted[i]));
  }
  std::vector<runtime::PollEntry> entries;
  for (const SocketId s : accepted) entries.push_back({s});
  std::size_t ready = 9;
  EXPECT_FALSE(h.server->wait(entries, milliseconds(30), ready));
  EXPECT_EQ(ready, 0u);  // the timeout passed with nothing to read
  std::size_t n;
  h.client->write(clients[2], bytes("x"), n);
  EXPECT_FALSE(h.server->wait(entries, seconds(5), ready));
  EXPECT_EQ(ready, 1u);
  EXPECT_TRUE(entries[2].ready.readable);
  EXPECT_FALSE(entries[0].ready.readable);
}

TEST(Runtime, StopCancelsBlockedCallsAndClosesConnectionsWithFin) {
  TwoHosts h;
  SocketId c, a;
  ASSERT_NO_FATAL_FAILURE(h.connected(80, c, a));
  std::error_code blocked;
  std::thread reader([&] {
    std::uint8_t b[4];
    std::size_t n;
    blocked = h.server->read(a, b, n);
  });
  std::this_thread::sleep_for(20ms);
  h.server->stop();
  reader.join();
  EXPECT_EQ(blocked, std::errc::operation_canceled);
  // The client saw a FIN, not a reset.
  std::uint8_t b[4];
  std::size_t n = 1;
  EXPECT_FALSE(h.client->read(c, b, n));
  EXPECT_EQ(n, 0u);
  SocketId again;
  EXPECT_EQ(h.server->tcp_socket(again), std::errc::operation_canceled);
}

TEST(Runtime, DelayedFramesOfAFaultLinkAreReleasedOnTime) {
  sim::ChannelParams faults = link::FaultLink::no_faults();
  faults.delay = milliseconds(20);
  faults.loss = 0.03;
  faults.reorder = 0.05;
  faults.reorder_delay = milliseconds(5);
  TwoHosts h(&faults);
  const SocketId l = h.listen(80);
  SocketId c, a;
  h.client->tcp_socket(c);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_FALSE(h.client->connect(c, {kServerIp, 80}));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 40ms);  // one round trip of 2 x 20 ms
  ASSERT_FALSE(h.server->accept(l, a));
  std::vector<std::uint8_t> data(300000);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 7);
  std::thread writer([&] {
    std::size_t n;
    EXPECT_FALSE(h.client->write(c, data, n));
    h.client->shutdown(c, Shutdown::write);
  });
  std::vector<std::uint8_t> got, buffer(65536);
  for (int i = 0; i < 100000; ++i) {
    std::size_t n = 0;
    ASSERT_FALSE(h.server->read(a, buffer, n));
    if (n == 0) break;
    got.insert(got.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
  }
  writer.join();
  EXPECT_TRUE(got == data) << got.size() << " of " << data.size() << " bytes";
}

}  // namespace
}  // namespace synack

namespace synack {
namespace {

TEST(Runtime, UdpDatagramsArriveWhole) {
  TwoHosts h;
  SocketId server, client;
  ASSERT_FALSE(h.server->udp_socket(server));
  ASSERT_FALSE(h.server->bind(server, {Ipv4Address(), 53}));
  ASSERT_FALSE(h.client->udp_socket(client));
  h.server->set_receive_timeout(server, seconds(5));
  h.client->set_receive_timeout(client, seconds(5));
  ASSERT_FALSE(h.client->send_to(client, bytes("question"), {kServerIp, 53}));
  std::uint8_t buffer[64];
  std::size_t n = 0;
  Endpoint from;
  ASSERT_FALSE(h.server->receive_from(server, buffer, n, &from));
  EXPECT_EQ(std::string(buffer, buffer + n), "question");
  EXPECT_EQ(from.address, kClientIp);
  ASSERT_FALSE(h.server->send_to(server, bytes("answer"), from));
  ASSERT_FALSE(h.client->receive_from(client, buffer, n));
  EXPECT_EQ(std::string(buffer, buffer + n), "answer");
}

}  // namespace
}  // namespace synack
