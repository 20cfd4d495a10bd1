// The shared-memory scenarios of issue 10: two processes, each with its own synack Stack,
// joined by link::shm::ShmLink, each pinned to a CPU of its own and busy-polling (the link
// with busy_poll, the stack polled in a loop: no process ever sleeps, so no cross-core
// wake-up is paid). Peers: bench/peers/kernel_process_pair.hpp, the kernel's loopback
// between two processes with the same pinning.
#pragma once

#include <cstdint>

#include "bench/run.hpp"

namespace synack::bench {

// Gbit/s of payload, one process writing `bytes` of the Pattern to the other, which checks
// every byte; frames of up to `mtu` bytes.
Run shm_bulk(std::uint64_t bytes, std::uint32_t mtu);

// Microseconds per 1-byte request/response round trip (TCP_NODELAY).
Run shm_round_trip(std::uint64_t iterations);

}  // namespace synack::bench
