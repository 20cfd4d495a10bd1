#include "bench/catalog.hpp"

#include <functional>
#include <utility>

#include "bench/peers/kernel_connections.hpp"
#include "bench/peers/kernel_loopback_bulk.hpp"
#include "bench/peers/kernel_memory.hpp"
#include "bench/peers/kernel_process_pair.hpp"
#include "bench/peers/kernel_raw_tun.hpp"
#include "bench/peers/kernel_round_trip.hpp"
#include "bench/peers/kernel_veth_bulk.hpp"
#include "bench/peers/lwip_bulk.hpp"
#include "bench/scenarios/inproc.hpp"
#include "bench/scenarios/memory.hpp"
#include "bench/scenarios/shm_pair.hpp"
#include "bench/scenarios/tun_bulk.hpp"

namespace synack::bench {

namespace {

// Quick proves a scenario still runs (CI); Full is what BENCHMARKS.md records.
std::uint64_t sized(Effort e, std::uint64_t quick, std::uint64_t full) {
  return e == Effort::Quick ? quick : full;
}

constexpr std::uint64_t kMiB = 1 << 20;

Scenario scaling(std::size_t connections, const char* id, const char* title) {
  return {
      id,
      title,
      "ns/segment",
      false,
      [connections](Effort e) {
        return inproc_bulk_per_segment(
            sized(e, 4 * kMiB, 512 * kMiB),
            e == Effort::Quick ? std::min<std::size_t>(connections, 100) : connections);
      },
      "synack, 1 connection",
      [](Effort e) { return inproc_bulk_per_segment(sized(e, 4 * kMiB, 512 * kMiB), 1); },
      "flat within 20% of 1 connection (advantage ≥ 0.83×)",
  };
}

// synack over a TUN device against the kernel's cubic, in a namespace of its own, beside
// `peer` (the raw TUN ceiling, or the kernel to itself over veth).
Scenario over_tun(const char* id, const char* title, Direction d, bool offloads,
                  const char* peer_name, std::function<Run(Effort)> peer, const char* target) {
  return {id,
          title,
          "Gbit/s",
          true,
          [d, offloads](Effort e) {
            return synack_tun_bulk(d, offloads,
                                   sized(e, 16 * kMiB, offloads ? 4096 * kMiB : 1024 * kMiB));
          },
          peer_name,
          std::move(peer),
          target};
}

}  // namespace

std::vector<Scenario> catalog() {
  return {
      {"bulk-1460", "In-process bulk, MSS 1460, checksums", "Gbit/s", true,
       [](Effort e) { return inproc_bulk(sized(e, 16 * kMiB, 2048 * kMiB), 1460); },
       "lwIP 2.1.3 (Debian), netif loopback",
       [](Effort e) { return lwip_bulk(sized(e, 16 * kMiB, 1024 * kMiB)); },
       "≥ 25 Gbit/s, ≥ 3× lwIP"},
      {"bulk-64k", "In-process bulk, 64 KiB segments", "Gbit/s", true,
       [](Effort e) { return inproc_bulk(sized(e, 16 * kMiB, 4096 * kMiB), 65495); },
       "kernel loopback, cubic, one core",
       [](Effort e) { return kernel_loopback_bulk(sized(e, 16 * kMiB, 4096 * kMiB)); },
       "≥ 60 Gbit/s"},
      {"conn-rate", "Connections per second (connect, 64 B each way, close)", "conn/s", true,
       [](Effort e) { return inproc_connections(sized(e, 1000, 200000)); },
       // 50,000: under the kernel's 131,072 TIME_WAIT buckets, about 2 s at its rate.
       "kernel loopback, one core",
       [](Effort e) { return kernel_connections(sized(e, 1000, 50000)); }, "≥ 10× the kernel"},
      {"round-trip", "1-byte request/response round trip", "µs", false,
       [](Effort e) { return inproc_round_trip(sized(e, 1000, 1000000)); },
       "kernel loopback, TCP_NODELAY, one core",
       [](Effort e) { return kernel_round_trip(sized(e, 1000, 200000)); }, "≤ 1 µs"},
      over_tun(
          "tun-to-kernel-offload", "TUN, synack to the kernel, IFF_VNET_HDR offloads",
          Direction::ToKernel, true, "raw TUN ceiling (no stack)",
          [](Effort e) {
            return raw_tun_ceiling(Direction::ToKernel, true, sized(e, 16 * kMiB, 4096 * kMiB));
          },
          "≥ 30 Gbit/s"),
      over_tun(
          "tun-from-kernel-offload", "TUN, the kernel to synack, IFF_VNET_HDR offloads",
          Direction::FromKernel, true, "raw TUN ceiling (no stack)",
          [](Effort e) {
            return raw_tun_ceiling(Direction::FromKernel, true, sized(e, 16 * kMiB, 4096 * kMiB));
          },
          "≥ 30 Gbit/s"),
      over_tun(
          "tun-to-kernel", "TUN, synack to the kernel, no offloads", Direction::ToKernel, false,
          "raw TUN ceiling (no stack)",
          [](Effort e) {
            return raw_tun_ceiling(Direction::ToKernel, false, sized(e, 16 * kMiB, 1024 * kMiB));
          },
          "≥ 85% of the raw TUN ceiling (advantage ≥ 0.85×)"),
      over_tun(
          "tun-from-kernel", "TUN, the kernel to synack, no offloads", Direction::FromKernel, false,
          "raw TUN ceiling (no stack)",
          [](Effort e) {
            return raw_tun_ceiling(Direction::FromKernel, false, sized(e, 16 * kMiB, 1024 * kMiB));
          },
          "≥ 85% of the raw TUN ceiling (advantage ≥ 0.85×)"),
      over_tun(
          "tun-vs-veth-offload", "TUN with offloads (synack to the kernel), beside veth",
          Direction::ToKernel, true, "the kernel to itself over veth, offloads",
          [](Effort e) { return veth_bulk(true, sized(e, 16 * kMiB, 4096 * kMiB)); }, "—"),
      over_tun(
          "tun-vs-veth", "TUN without offloads (synack to the kernel), beside veth",
          Direction::ToKernel, false, "the kernel to itself over veth, no offloads",
          [](Effort e) { return veth_bulk(false, sized(e, 16 * kMiB, 1024 * kMiB)); }, "—"),
      // The kernel's count is capped by the descriptor limit (two a connection); both are
      // bytes per endpoint, so the sizes need not match.
      {"memory-idle", "Memory per idle established connection (per endpoint)", "B", false,
       [](Effort e) { return idle_connection_bytes(sized(e, 1000, 1000000)); },
       "kernel slab caches (TCP, sock_inode, dentry, filp)",
       [](Effort e) { return kernel_idle_connection_bytes(sized(e, 1000, 10000)); },
       "≤ 512 B; 1,000,000 in 2 GiB"},
      {"memory-time-wait", "Memory per TIME_WAIT entry", "B", false,
       [](Effort e) { return time_wait_bytes(sized(e, 1000, 1000000)); },
       "kernel slab cache tw_sock_TCP",
       [](Effort e) { return kernel_time_wait_bytes(sized(e, 1000, 10000)); }, "≤ 64 B"},
      // Issue 10: two processes, a CPU each, synack busy-polling its shared-memory link.
      {"shm-bulk", "Two processes over the shm link, bulk, 64 KiB frames", "Gbit/s", true,
       [](Effort e) { return shm_bulk(sized(e, 16 * kMiB, 4096 * kMiB), 65535); },
       "kernel loopback between two processes, cubic, a CPU each",
       [](Effort e) { return kernel_process_bulk(sized(e, 16 * kMiB, 4096 * kMiB)); },
       "≥ 2× the kernel"},
      {"shm-round-trip", "Two processes over the shm link, 1-byte round trip", "µs", false,
       [](Effort e) { return shm_round_trip(sized(e, 1000, 1000000)); },
       "kernel loopback between two processes, TCP_NODELAY, a CPU each",
       [](Effort e) { return kernel_process_round_trip(sized(e, 1000, 200000)); },
       "≤ ½ the kernel's (advantage ≥ 2×)"},
      scaling(100, "scale-100", "Bulk per-segment cost, 100 connections"),
      scaling(10000, "scale-10k", "Bulk per-segment cost, 10,000 connections"),
      scaling(100000, "scale-100k", "Bulk per-segment cost, 100,000 connections"),
  };
}

}  // namespace synack::bench
