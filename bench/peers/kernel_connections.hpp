// Peer of the connections-per-second scenario: the kernel over loopback, client and
// server threads pinned to one core. Each connection: connect, write 64 B, read the 64 B
// the server echoes, close; the server reads to the client's FIN and closes too (so the
// client holds the TIME_WAIT, as it would against any server).
//
// TIME_WAIT keeps each client port busy for 60 s after its close, and connect() walks the
// busy ports to find a free one (more slowly the fuller the range). So the connections are
// spread round-robin over one listening port per 8,000 of them on 127.0.0.1: each
// destination port has its own set of (client port, server port) pairs, and no port walk
// meets more than 8,000 busy ports. Past the kernel's tcp_max_tw_buckets (131,072 here)
// it keeps no more TIME_WAIT entries at all (and logs "time wait bucket table overflow").
#pragma once

#include <cstdint>

#include "bench/run.hpp"

namespace synack::bench {

// Connections per second; `count` at most 2,000,000.
Run kernel_connections(std::uint64_t count);

}  // namespace synack::bench
