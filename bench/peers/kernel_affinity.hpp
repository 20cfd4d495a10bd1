// Which cores the kernel peers run on. The figures are for "one core": the two
// threads of a peer (sender and receiver, client and server) pinned to the same CPU, so
// the kernel pays for its context switches the way an in-process synack run pays for
// nothing (synack's in-process scenarios run on one thread).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace synack::bench {

// The CPUs this process may run on (its affinity mask), lowest first.
std::vector<int> allowed_cpus();

// Pins the calling thread to `cpu`; an error message when the kernel refuses.
std::optional<std::string> pin_this_thread(int cpu);

// The CPUs for a peer's two threads: both on the lowest allowed CPU (one_core), or on the
// two lowest allowed CPUs; nullopt when the process is allowed fewer.
struct CorePair {
  int first = 0, second = 0;
};
std::optional<CorePair> cores_for(bool one_core);

}  // namespace synack::bench
