// Peer of the latency scenario: the kernel's one-core loopback ping-pong. One TCP
// connection over 127.0.0.1 with TCP_NODELAY on both ends, client and server threads
// pinned to one core; the client writes one byte, the server answers with the next byte
// value, the client checks it. The figure is the mean round trip in microseconds.
#pragma once

#include <cstdint>

#include "bench/run.hpp"

namespace synack::bench {

// Microseconds per round trip (lower is better); `iterations` at most 10,000,000.
Run kernel_round_trip(std::uint64_t iterations);

}  // namespace synack::bench
