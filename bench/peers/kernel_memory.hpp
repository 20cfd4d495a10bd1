// The kernel's memory per connection, the peer of bench/scenarios/memory.hpp: n loopback
// connections, and /proc/slabinfo (readable by root) before and after. Counted: the slab
// caches a TCP socket lives in, TCP (struct tcp_sock), sock_inode_cache (socket + inode),
// dentry and filp (its file), and tw_sock_TCP for TIME_WAIT: active objects times object
// size. Not counted: kmalloc caches (too noisy to attribute), page tables, epoll.
#pragma once

#include <cstddef>

#include "bench/run.hpp"

namespace synack::bench {

// Bytes per endpoint of n idle established loopback connections (client and server sockets
// both counted, divided by 2n). n is capped by RLIMIT_NOFILE (two descriptors a connection).
Run kernel_idle_connection_bytes(std::size_t n);
// Bytes per TIME_WAIT entry: n connections closed by the client first, the server closing
// in turn; the growth of tw_sock_TCP over n.
Run kernel_time_wait_bytes(std::size_t n);

}  // namespace synack::bench
