// Half-close, stack against stack: one side's shutdown(SHUT_WR) ends its direction of the
// stream (its FIN follows the data already written) while the other direction carries on;
// and shutdown(SHUT_RD), which ends reading only at home and sends nothing.
#include <gtest/gtest.h>

#include "stack/counters.hpp"
#include "support/flow.hpp"

namespace synack::testing {
namespace {

using tcp::State;

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

struct HalfClose : ::testing::Test {
  sim::World world{3, sim::ChannelParams{.delay = milliseconds(5)}};
  sim::Host& client = world.add_host(kClientAddr);
  sim::Host& server = world.add_host(kServerAddr);

  std::error_code write_some(sim::Host& h, SocketId s, const std::string& data) {
    std::size_t n = 0;
    return h.stack.write(s, bytes_of(data), n);
  }
};

// The client sends its whole request, then shuts down writing (as `nc -N` does); the
// server reads to EOF and only then answers with a large response and closes.
TEST_F(HalfClose, TheClientShutsDownWritingFirstAndStillReadsTheResponse) {
  const Pair p = open_pair(world, client, server);
  const std::string request = pattern(50000, 1);
  write_all(world, client, p.client, request);
  // The FIN follows the data still in the send buffer: nothing is cut short.
  ASSERT_FALSE(client.stack.shutdown(p.client, Shutdown::write));
  EXPECT_EQ(client.stack.tcp_state(p.client), State::FinWait1);
  EXPECT_FALSE(client.stack.readiness(p.client).writable);
  EXPECT_TRUE(same_bytes(read_to_eof(world, server, p.server), request));
  EXPECT_EQ(server.stack.tcp_state(p.server), State::CloseWait);
  ASSERT_TRUE(world
                  .run_until([&] { return client.stack.tcp_state(p.client) == State::FinWait2; },
                             milliseconds(100))
                  .done);

  // The other direction is open: the server writes 200 KB (more than the buffers) and the
  // client reads every byte, in FIN_WAIT_2 the whole time.
  const std::string response = pattern(200000, 2);
  EXPECT_TRUE(server.stack.readiness(p.server).writable);
  EXPECT_TRUE(same_bytes(transfer(world, server, p.server, client, p.client, response), response));
  EXPECT_EQ(client.stack.tcp_state(p.client), State::FinWait2);
  // Writing after shutdown(SHUT_WR) is EPIPE, and sends nothing.
  world.run_for(milliseconds(50));  // the delayed ACK of the last data goes first
  const std::uint64_t client_out = client.stack.counters().tcp.out_segs;
  EXPECT_EQ(write_some(client, p.client, "late"), std::errc::broken_pipe);
  world.run_for(milliseconds(50));
  EXPECT_EQ(client.stack.counters().tcp.out_segs, client_out);

  ASSERT_FALSE(server.stack.close(p.server));
  EXPECT_EQ(server.stack.connection_count(), 1u);  // LAST_ACK, orphaned
  EXPECT_EQ(read_to_eof(world, client, p.client), "");
  EXPECT_EQ(client.stack.tcp_state(p.client), State::TimeWait);
  ASSERT_FALSE(client.stack.close(p.client));
  ASSERT_TRUE(run_until_no_connections(world, {&server}, milliseconds(10)));
  ASSERT_TRUE(run_until_no_connections(world, {&client, &server}, seconds(61)));
  for (const sim::Host* h : {&client, &server}) {
    EXPECT_EQ(h->stack.counters().tcp.out_rsts, 0u);
    EXPECT_EQ(h->stack.timers_armed(), 0u);
  }
}

// The mirror image: the server says its piece, shuts down writing, and keeps reading
// what the client uploads; the server's side ends in TIME_WAIT because its FIN was first.
TEST_F(HalfClose, TheServerShutsDownWritingFirstAndStillReadsTheUpload) {
  const Pair p = open_pair(world, client, server);
  const std::string greeting = "220 ready, send your data\r\n";
  ASSERT_FALSE(write_some(server, p.server, greeting));
  ASSERT_FALSE(server.stack.shutdown(p.server, Shutdown::write));
  EXPECT_EQ(read_to_eof(world, client, p.client), greeting);
  EXPECT_EQ(client.stack.tcp_state(p.client), State::CloseWait);
  EXPECT_TRUE(client.stack.readiness(p.client).writable) << "CLOSE_WAIT may still send";

  const std::string upload = pattern(300000, 3);
  EXPECT_TRUE(same_bytes(transfer(world, client, p.client, server, p.server, upload), upload));
  EXPECT_EQ(server.stack.tcp_state(p.server), State::FinWait2);
  EXPECT_EQ(write_some(server, p.server, "more"), std::errc::broken_pipe);

  ASSERT_FALSE(client.stack.close(p.client));
  EXPECT_EQ(client.stack.tcp_state(p.client), State::Closed) << "the socket is gone";
  EXPECT_EQ(read_to_eof(world, server, p.server), "");
  EXPECT_EQ(server.stack.tcp_state(p.server), State::TimeWait);
  ASSERT_TRUE(run_until_no_connections(world, {&client}, milliseconds(10)));
  EXPECT_EQ(server.stack.counters().tcp.in_state[static_cast<int>(State::TimeWait)], 1u);
  ASSERT_FALSE(server.stack.close(p.server));
  ASSERT_TRUE(run_until_no_connections(world, {&client, &server}, seconds(61)));
  for (const sim::Host* h : {&client, &server}) {
    EXPECT_EQ(h->stack.counters().tcp.out_rsts, 0u);
    EXPECT_EQ(h->stack.timers_armed(), 0u);
  }
}

// shutdown(SHUT_RD) sends nothing: the peer keeps writing, and what arrives is
// acknowledged and thrown away (as BSD does), so the peer is never blocked by it. Reads
// return end of stream at once. Writing still works.
TEST_F(HalfClose, ShutdownReadDiscardsWhatArrivesAndReadsReturnEndOfStream) {
  const Pair p = open_pair(world, client, server);
  // Something is waiting unread when the client shuts down reading: it is discarded too.
  ASSERT_FALSE(write_some(server, p.server, "unread"));
  world.run_for(milliseconds(10));
  ASSERT_TRUE(client.stack.readiness(p.client).readable);

  const std::uint64_t client_out = client.stack.counters().tcp.out_segs;
  ASSERT_FALSE(client.stack.shutdown(p.client, Shutdown::read));
  EXPECT_EQ(client.stack.tcp_state(p.client), State::Established);
  EXPECT_TRUE(client.stack.readiness(p.client).readable);
  std::uint8_t buf[64];
  std::size_t n = 99;
  EXPECT_FALSE(client.stack.read(p.client, buf, n));
  EXPECT_EQ(n, 0u) << "end of stream at once";
  world.run_for(milliseconds(1));
  EXPECT_EQ(client.stack.counters().tcp.out_segs, client_out) << "SHUT_RD sends nothing";

  // The server streams 1 MB, far more than the client's 64 KB window, then its FIN: it all
  // goes, because the client keeps acknowledging and opening its window while discarding.
  // The FIN is taken only after every byte before it (CLOSE_WAIT).
  const std::uint64_t resets_before = server.stack.counters().tcp.in_rsts;
  write_all(world, server, p.server, pattern(1000000, 4), seconds(10));
  ASSERT_FALSE(server.stack.shutdown(p.server, Shutdown::write));
  ASSERT_TRUE(world
                  .run_until([&] { return client.stack.tcp_state(p.client) == State::CloseWait; },
                             seconds(10))
                  .done);
  EXPECT_EQ(server.stack.counters().tcp.in_rsts, resets_before);
  EXPECT_FALSE(client.stack.read(p.client, buf, n));
  EXPECT_EQ(n, 0u);

  // The client can still write; the server reads it.
  ASSERT_FALSE(write_some(client, p.client, "still talking"));
  EXPECT_EQ(read_n(world, server, p.server, 13), "still talking");

  // Nothing is left unread, so close() is an orderly FIN, not a reset.
  ASSERT_FALSE(client.stack.close(p.client));
  EXPECT_EQ(read_to_eof(world, server, p.server), "");
  EXPECT_EQ(server.stack.tcp_state(p.server), State::TimeWait);
  ASSERT_FALSE(server.stack.close(p.server));
  ASSERT_TRUE(run_until_no_connections(world, {&client, &server}, seconds(61)));
  for (const sim::Host* h : {&client, &server}) {
    EXPECT_EQ(h->stack.counters().tcp.out_rsts, 0u);
    EXPECT_EQ(h->stack.counters().tcp.estab_resets, 0u);
  }
}

// shutdown(SHUT_RDWR): both at once. The FIN goes out and reads end at once; the peer can
// still send until it closes, and its data is discarded.
TEST_F(HalfClose, ShutdownBothSendsFinAndEndsReading) {
  const Pair p = open_pair(world, client, server);
  ASSERT_FALSE(client.stack.shutdown(p.client, Shutdown::both));
  EXPECT_EQ(client.stack.tcp_state(p.client), State::FinWait1);
  std::uint8_t buf[16];
  std::size_t n = 99;
  EXPECT_FALSE(client.stack.read(p.client, buf, n));
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(write_some(client, p.client, "x"), std::errc::broken_pipe);
  EXPECT_EQ(read_to_eof(world, server, p.server), "");
  ASSERT_FALSE(write_some(server, p.server, "into the void"));
  ASSERT_FALSE(server.stack.close(p.server));
  ASSERT_TRUE(world
                  .run_until([&] { return client.stack.tcp_state(p.client) == State::TimeWait; },
                             milliseconds(20))
                  .done);
  EXPECT_FALSE(client.stack.read(p.client, buf, n));
  EXPECT_EQ(n, 0u);
  ASSERT_FALSE(client.stack.close(p.client));
  ASSERT_TRUE(run_until_no_connections(world, {&client, &server}, seconds(61)));
  EXPECT_EQ(client.stack.counters().tcp.out_rsts + server.stack.counters().tcp.out_rsts, 0u);
}

}  // namespace
}  // namespace synack::testing
