// Bulk transfers for scenario tests: each side writes a deterministic byte stream as fast as
// the stack takes it and checks every byte it reads against the stream the other side wrote.
#pragma once

#include <cstdint>

#include "sim/world.hpp"
#include "support/flow.hpp"

namespace synack::testing {

// The byte at `offset` of stream number `stream`: cheap, and a shifted or repeated range
// never matches by accident.
std::uint8_t stream_byte(std::uint32_t stream, std::uint64_t offset);

struct BulkResult {
  bool done = false;             // everything was delivered and verified, then EOF
  std::uint64_t a_to_b = 0;      // bytes b verified
  std::uint64_t b_to_a = 0;      // bytes a verified
  std::uint64_t mismatches = 0;  // bytes that differed from the stream
  Duration elapsed{};            // virtual time from the first write to the last EOF
  bool stalled = false;          // the simulation stopped making progress
};

// Sends `a_bytes` from a to b and `b_bytes` from b to a at the same time over an open pair,
// then closes both ways and waits for EOF on both sides. Stops after `limit` of virtual time.
BulkResult bulk_exchange(sim::World& world, sim::Host& a, SocketId sa, sim::Host& b, SocketId sb,
                         std::uint64_t a_bytes, std::uint64_t b_bytes, Duration limit);

}  // namespace synack::testing
