// Memory per connection (issue 9, scenario 5): synack stacks on the simulator, n
// connections between them, and the heap (glibc mallinfo2: uordblks + hblkhd) before and
// after. Everything the stacks allocate counts: control blocks, buffers, sockets, demux,
// timers and the slack of their tables.
#pragma once

#include <cstddef>

#include "bench/run.hpp"

namespace synack::bench {

// Bytes per endpoint of an idle established connection: n connections opened and accepted
// (from as many client stacks as the ports call for, to one server stack),
// nothing in flight, no delayed ACK pending; the heap's growth over both stacks / (2n).
Run idle_connection_bytes(std::size_t n);

// Bytes per TIME_WAIT entry: the client opens and actively closes n connections in waves
// (so at most a wave is established at once, as on a busy client), the server closes its
// ends; with all n of the client's in TIME_WAIT, the heap's growth over both stacks / n.
Run time_wait_bytes(std::size_t n);

}  // namespace synack::bench
