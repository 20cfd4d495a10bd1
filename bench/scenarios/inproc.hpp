// The in-process scenarios: two synack stacks in one thread on a MemoryLink (stack_pair).
#pragma once

#include <cstddef>
#include <cstdint>

#include "bench/run.hpp"

namespace synack::bench {

// Bulk transfer, client to server, `bytes` of payload in segments of `mss` bytes: Gbit/s
// of payload from the first write to the last byte read and checked.
Run inproc_bulk(std::uint64_t bytes, std::uint16_t mss);
// The same over `connections` connections at once, each carrying bytes / connections;
// the figure is nanoseconds of wall time per data segment (the per-packet cost).
Run inproc_bulk_per_segment(std::uint64_t bytes, std::size_t connections);
// Connections per second: connect, write 64 B, the server echoes them and closes, read
// 64 B, close; one at a time, `count` times.
Run inproc_connections(std::uint64_t count);
// Microseconds per 1-byte request and response (TCP_NODELAY), `iterations` times.
Run inproc_round_trip(std::uint64_t iterations);

}  // namespace synack::bench
