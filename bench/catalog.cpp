#include "bench/catalog.hpp"

#include <functional>
#include <utility>

#include "bench/peers/kernel_connections.hpp"
#include "bench/peers/kernel_loopback_bulk.hpp"
#include "bench/peers/kernel_memory.hpp"
#include "bench/peers/kernel_raw_tun.hpp"
#include "bench/peers/kernel_round_trip.hpp"
#include "bench/peers/kernel_veth_bulk.hpp"
#include "bench/peers/lwip_bulk.hpp"
#include "bench/scenarios/inproc.hpp"
#include "bench/scenarios/memory.hpp"

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

// Over TUN against the kernel (issue 9, scenario 2): synack's side is not written yet, so
// only the peer runs and the table shows synack's column as skipped.
Run tun_not_yet(Effort) {
  return Run::skip("synack over TUN: not yet measured");
}

Scenario over_tun(const char* id, const char* title, const char* peer_name,
                  std::function<Run(Effort)> peer, const char* target) {
  return {id, title, "Gbit/s", true, tun_not_yet, peer_name, std::move(peer), target};
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
          "tun-to-kernel-vnet", "Over TUN to the kernel, IFF_VNET_HDR offloads",
          "raw TUN ceiling (no stack)",
          [](Effort e) {
            return raw_tun_ceiling(Direction::ToKernel, true, sized(e, 16 * kMiB, 4096 * kMiB));
          },
          "≥ 30 Gbit/s"),
      over_tun(
          "tun-from-kernel-vnet", "Over TUN from the kernel, IFF_VNET_HDR offloads",
          "raw TUN ceiling (no stack)",
          [](Effort e) {
            return raw_tun_ceiling(Direction::FromKernel, true, sized(e, 16 * kMiB, 4096 * kMiB));
          },
          "≥ 30 Gbit/s"),
      over_tun(
          "tun-to-kernel", "Over TUN to the kernel, no offloads", "raw TUN ceiling (no stack)",
          [](Effort e) {
            return raw_tun_ceiling(Direction::ToKernel, false, sized(e, 16 * kMiB, 1024 * kMiB));
          },
          "≥ 85% of the raw TUN ceiling (advantage ≥ 0.85×)"),
      over_tun(
          "tun-from-kernel", "Over TUN from the kernel, no offloads", "raw TUN ceiling (no stack)",
          [](Effort e) {
            return raw_tun_ceiling(Direction::FromKernel, false, sized(e, 16 * kMiB, 1024 * kMiB));
          },
          "≥ 85% of the raw TUN ceiling (advantage ≥ 0.85×)"),
      over_tun(
          "tun-vs-veth-offloads", "Over TUN with offloads, beside the kernel over veth",
          "kernel over veth, offloads, cubic",
          [](Effort e) { return veth_bulk(true, sized(e, 16 * kMiB, 4096 * kMiB)); }, ""),
      over_tun(
          "tun-vs-veth", "Over TUN without offloads, beside the kernel over veth",
          "kernel over veth, no offloads, cubic",
          [](Effort e) { return veth_bulk(false, sized(e, 16 * kMiB, 1024 * kMiB)); }, ""),
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
      scaling(100, "scale-100", "Bulk per-segment cost, 100 connections"),
      scaling(10000, "scale-10k", "Bulk per-segment cost, 10,000 connections"),
      scaling(100000, "scale-100k", "Bulk per-segment cost, 100,000 connections"),
  };
}

}  // namespace synack::bench
