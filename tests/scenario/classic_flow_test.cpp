// The classic flow of every network-programming course, stack against stack on the
// simulator: listen, connect, request, response, and the close in each order.
#include <gtest/gtest.h>

#include "stack/counters.hpp"
#include "support/flow.hpp"

namespace synack::testing {
namespace {

using tcp::State;

const std::string kRequest = "GET / HTTP/1.1\r\n\r\n";

struct ClassicFlow : ::testing::Test {
  sim::World world{42, sim::ChannelParams{.delay = milliseconds(5)}};
  sim::Host& client = world.add_host(kClientAddr);
  sim::Host& server = world.add_host(kServerAddr);
};

TEST_F(ClassicFlow, RequestResponseThenTheClientClosesFirst) {
  const Pair p = open_pair(world, client, server);
  // The handshake took one round trip for connect() and one and a half for accept().
  EXPECT_EQ(world.now(), kEpoch + milliseconds(15));
  EXPECT_EQ(client.stack.tcp_state(p.client), State::Established);
  EXPECT_EQ(server.stack.tcp_state(p.server), State::Established);

  write_all(world, client, p.client, kRequest);
  EXPECT_EQ(read_n(world, server, p.server, kRequest.size()), kRequest);
  const std::string response(1448, 'r');
  write_all(world, server, p.server, response);
  EXPECT_EQ(read_n(world, client, p.client, response.size()), response);

  ASSERT_FALSE(client.stack.close(p.client));
  EXPECT_EQ(read_to_eof(world, server, p.server), "");
  EXPECT_EQ(server.stack.tcp_state(p.server), State::CloseWait);
  ASSERT_FALSE(server.stack.close(p.server));
  ASSERT_TRUE(
      world.run_until([&] { return server.stack.connection_count() == 0; }, seconds(1)).done);
  EXPECT_EQ(client.stack.counters().tcp.in_state[static_cast<int>(State::TimeWait)], 1u);
  const Instant time_wait_start = world.now();
  ASSERT_TRUE(run_until_no_connections(world, {&client}, seconds(61)));
  EXPECT_GE(world.now() - time_wait_start, seconds(60) - milliseconds(10));
  EXPECT_LE(world.now() - time_wait_start, seconds(60));
}

TEST_F(ClassicFlow, TheServerClosesFirstAndTakesTheTimeWait) {
  const Pair p = open_pair(world, client, server);
  write_all(world, server, p.server, "bye");
  ASSERT_FALSE(server.stack.close(p.server));
  EXPECT_EQ(read_to_eof(world, client, p.client), "bye");
  EXPECT_EQ(client.stack.tcp_state(p.client), State::CloseWait);
  ASSERT_FALSE(client.stack.close(p.client));
  ASSERT_TRUE(
      world.run_until([&] { return client.stack.connection_count() == 0; }, seconds(1)).done);
  EXPECT_EQ(server.stack.counters().tcp.in_state[static_cast<int>(State::TimeWait)], 1u);
  ASSERT_TRUE(run_until_no_connections(world, {&client, &server}, seconds(61)));
}

TEST_F(ClassicFlow, SimultaneousCloseGoesThroughClosingOnBothSides) {
  const Pair p = open_pair(world, client, server);
  ASSERT_FALSE(client.stack.shutdown(p.client, Shutdown::write));
  ASSERT_FALSE(server.stack.shutdown(p.server, Shutdown::write));
  world.run_for(milliseconds(1));
  EXPECT_EQ(client.stack.tcp_state(p.client), State::FinWait1);
  EXPECT_EQ(server.stack.tcp_state(p.server), State::FinWait1);
  world.run_for(milliseconds(5));  // each FIN arrives before the ACK of the other's
  EXPECT_EQ(client.stack.tcp_state(p.client), State::Closing);
  EXPECT_EQ(server.stack.tcp_state(p.server), State::Closing);
  world.run_for(milliseconds(5));
  EXPECT_EQ(client.stack.tcp_state(p.client), State::TimeWait);
  EXPECT_EQ(server.stack.tcp_state(p.server), State::TimeWait);
  client.stack.close(p.client);
  server.stack.close(p.server);
  ASSERT_TRUE(run_until_no_connections(world, {&client, &server}, seconds(61)));
}

TEST_F(ClassicFlow, HalfCloseLetsThePeerKeepSending) {
  const Pair p = open_pair(world, client, server);
  ASSERT_FALSE(client.stack.shutdown(p.client, Shutdown::write));
  EXPECT_EQ(read_to_eof(world, server, p.server), "");
  const std::string more(100000, 'm');
  write_all(world, server, p.server, more);
  EXPECT_EQ(read_n(world, client, p.client, more.size()), more);
  std::size_t n = 0;
  EXPECT_EQ(client.stack.write(p.client, std::span<const std::uint8_t>(), n),
            std::errc::broken_pipe);
  ASSERT_FALSE(server.stack.close(p.server));
  EXPECT_EQ(read_to_eof(world, client, p.client), "");
  client.stack.close(p.client);
  ASSERT_TRUE(run_until_no_connections(world, {&client, &server}, seconds(61)));
}

}  // namespace
}  // namespace synack::testing
