// Peer of the in-process bulk scenarios: the kernel's TCP to itself over 127.0.0.1, cubic
// congestion control on both sockets, sender and receiver threads pinned to one core (as
// synack's in-process run uses one). Loopback's MTU is 64 KiB, so this is the kernel's
// figure for 64 KiB segments.
#pragma once

#include <cstdint>

#include "bench/run.hpp"

namespace synack::bench {

// Gbit/s of payload, both threads on one core.
Run kernel_loopback_bulk(std::uint64_t bytes);

// The same on two cores (sender and receiver each on its own), for reference: on this
// machine a cross-core wake-up costs about 50 µs, so it is not the fair comparison.
Run kernel_loopback_bulk_two_cores(std::uint64_t bytes);

}  // namespace synack::bench
