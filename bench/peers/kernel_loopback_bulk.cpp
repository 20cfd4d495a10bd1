#include "bench/peers/kernel_loopback_bulk.hpp"

#include "bench/peers/kernel_affinity.hpp"
#include "bench/peers/kernel_bulk.hpp"
#include "bench/peers/kernel_tcp.hpp"

namespace synack::bench {
namespace {

Run loopback_bulk(std::uint64_t bytes, bool one_core) {
  if (auto why = cubic_missing()) return Run::skip(*why);
  const auto cores = cores_for(one_core);
  if (!cores) return Run::skip("this process may run on fewer than two CPUs");
  BulkPlan plan;
  plan.receiver_cpu = cores->first;
  plan.sender_cpu = cores->second;
  plan.bytes = bytes;
  return tcp_bulk(plan);
}

}  // namespace

Run kernel_loopback_bulk(std::uint64_t bytes) {
  return loopback_bulk(bytes, true);
}

Run kernel_loopback_bulk_two_cores(std::uint64_t bytes) {
  return loopback_bulk(bytes, false);
}

}  // namespace synack::bench
