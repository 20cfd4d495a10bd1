// Bulk TCP over a TUN device against the kernel's TCP (cubic), one direction at a time,
// with or without IFF_VNET_HDR offloads (TSO and checksum offload both ways).
//
// The run makes its own network namespace and TUN device (198.18.0.1/24 the kernel's,
// 198.18.0.2 synack's; names carry the PID; the namespace is deleted whatever happens).
// The kernel's end is a socket in the namespace served by a thread of this process
// (blocking reads or writes: it is the kernel's TCP that is measured). synack runs to
// completion on the calling thread, busy-polling the stack and the TUN descriptor: no
// frame is handed between threads. The bytes are a pattern checked on arrival; a wrong
// byte fails the run. The figure is Gbit/s of payload, from the connection's
// establishment to the last byte checked.
#pragma once

#include <cstdint>

#include "bench/run.hpp"

namespace synack::bench {

Run synack_tun_bulk(Direction d, bool offloads, std::uint64_t bytes);

}  // namespace synack::bench
