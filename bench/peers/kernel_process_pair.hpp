// Peers of the shared-memory scenarios (issue 10): the kernel's TCP over loopback between
// two processes, each pinned to a CPU of its own, as synack's two processes are over the
// shared-memory link. Blocking sockets: the kernel sleeps and wakes its readers as it
// always does.
#pragma once

#include <cstdint>

#include "bench/run.hpp"

namespace synack::bench {

// Gbit/s of payload: one process writes `bytes` of the Pattern (cubic), the other reads and
// checks every byte, from the sender's first write to the receiver's last byte.
Run kernel_process_bulk(std::uint64_t bytes);

// Microseconds per 1-byte request/response round trip, TCP_NODELAY (lower is better).
Run kernel_process_round_trip(std::uint64_t iterations);

}  // namespace synack::bench
