#include "bench/peers/kernel_affinity.hpp"

#include <sched.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

namespace synack::bench {

std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(static_cast<std::size_t>(cpu), &set)) cpus.push_back(cpu);
  }
  return cpus;
}

std::optional<std::string> pin_this_thread(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<std::size_t>(cpu), &set);
  // pid 0 is the calling thread (sched_setaffinity works on thread ids).
  if (::sched_setaffinity(0, sizeof set, &set) != 0) {
    return "sched_setaffinity to CPU " + std::to_string(cpu) + ": " + std::strerror(errno);
  }
  return std::nullopt;
}

std::optional<CorePair> cores_for(bool one_core) {
  const auto cpus = allowed_cpus();
  if (cpus.empty() || (!one_core && cpus.size() < 2)) return std::nullopt;
  return one_core ? CorePair{cpus[0], cpus[0]} : CorePair{cpus[0], cpus[1]};
}

}  // namespace synack::bench
