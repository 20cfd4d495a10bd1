// Peer of the TUN scenarios: the kernel's TCP to itself over a veth pair between two
// network namespaces this function makes and deletes ("synack-bench-<pid>-a"/"-b", devices
// "sbv<pid>a"/"sbv<pid>b", 198.18.0.1/30 and 198.18.0.2/30), MTU 1500, cubic on both
// sockets. With offloads (the veth default) TSO/GSO super-packets cross the pair whole;
// without, tx checksumming, TSO, GSO and GRO are off on both ends (as `ethtool -K`).
// Sender (in a) and receiver (in b) threads are not pinned: the kernel places them, as it
// places the kernel peer of synack's TUN scenarios. Needs root.
#pragma once

#include <cstdint>

#include "bench/run.hpp"

namespace synack::bench {

// Gbit/s of TCP payload from a to b.
Run veth_bulk(bool offloads, std::uint64_t bytes);

}  // namespace synack::bench
