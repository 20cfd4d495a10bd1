// Helpers for scenario tests: the classic client/server steps on a simulated World,
// each running virtual time until the step is done (or failing the test).
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "sim/world.hpp"

namespace synack::testing {

inline constexpr Ipv4Address kClientAddr{198, 18, 0, 1};
inline constexpr Ipv4Address kServerAddr{198, 18, 0, 2};

struct Pair {
  SocketId client = -1;
  SocketId server = -1;  // the accepted socket
  SocketId listener = -1;
};

// socket/bind/listen on the server, socket/connect on the client, until accept() returns.
Pair open_pair(sim::World& world, sim::Host& client, sim::Host& server, std::uint16_t port = 80,
               Duration limit = seconds(10));

// Writes all of `data`, running the world while the send buffer is full.
void write_all(sim::World& world, sim::Host& host, SocketId s, const std::string& data,
               Duration limit = seconds(60));

// Reads until `n` bytes arrived (or EOF / error), running the world as needed.
std::string read_n(sim::World& world, sim::Host& host, SocketId s, std::size_t n,
                   Duration limit = seconds(60));

// Reads until end of stream; returns everything read.
std::string read_to_eof(sim::World& world, sim::Host& host, SocketId s,
                        Duration limit = seconds(60));

// Writes all of `data` on the writer's socket while reading it on the reader's, as two
// applications would; returns what the reader got (`data.size()` bytes, or less if the
// limit ran out or the stream ended). For transfers larger than the buffers.
std::string transfer(sim::World& world, sim::Host& writer, SocketId ws, sim::Host& reader,
                     SocketId rs, const std::string& data, Duration limit = seconds(60));

// Byte-exact comparison that names the first differing offset instead of printing
// megabytes: EXPECT_TRUE(same_bytes(got, want)).
::testing::AssertionResult same_bytes(const std::string& got, const std::string& want);

// `size` bytes in a pattern that shows where they came from if they are misplaced.
std::string pattern(std::size_t size, std::uint32_t seed = 0);

// Runs until the host holds no connections at all (TIME_WAIT included).
bool run_until_no_connections(sim::World& world, std::initializer_list<sim::Host*> hosts,
                              Duration limit);

}  // namespace synack::testing
