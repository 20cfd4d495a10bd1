#include "bench/catalog.hpp"

#include "bench/scenarios/inproc.hpp"
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

// synack over a TUN device against the kernel's cubic, in a namespace of its own.
Scenario tun_bulk(const char* id, const char* title, Direction d, bool offloads,
                  const char* target) {
  return {id,
          title,
          "Gbit/s",
          true,
          [d, offloads](Effort e) {
            return synack_tun_bulk(d, offloads,
                                   sized(e, 16 * kMiB, offloads ? 4096 * kMiB : 1024 * kMiB));
          },
          "",
          {},
          target};
}

}  // namespace

std::vector<Scenario> catalog() {
  return {
      {"bulk-1460",
       "In-process bulk, MSS 1460, checksums",
       "Gbit/s",
       true,
       [](Effort e) { return inproc_bulk(sized(e, 16 * kMiB, 2048 * kMiB), 1460); },
       "",
       {},
       "≥ 25 Gbit/s, ≥ 3× lwIP"},
      {"bulk-64k",
       "In-process bulk, 64 KiB segments",
       "Gbit/s",
       true,
       [](Effort e) { return inproc_bulk(sized(e, 16 * kMiB, 4096 * kMiB), 65495); },
       "",
       {},
       "≥ 60 Gbit/s"},
      tun_bulk("tun-to-kernel-offload", "TUN, synack to the kernel (cubic), IFF_VNET_HDR offloads",
               Direction::ToKernel, true, "≥ 30 Gbit/s"),
      tun_bulk("tun-from-kernel-offload",
               "TUN, the kernel (cubic) to synack, IFF_VNET_HDR offloads", Direction::FromKernel,
               true, "≥ 30 Gbit/s"),
      tun_bulk("tun-to-kernel", "TUN, synack to the kernel (cubic), no offloads",
               Direction::ToKernel, false, "≥ 85% of the raw TUN ceiling (about 6 Gbit/s)"),
      tun_bulk("tun-from-kernel", "TUN, the kernel (cubic) to synack, no offloads",
               Direction::FromKernel, false, "≥ 85% of the raw TUN ceiling (about 6 Gbit/s)"),
      {"conn-rate",
       "Connections per second (connect, 64 B each way, close)",
       "conn/s",
       true,
       [](Effort e) { return inproc_connections(sized(e, 1000, 200000)); },
       "",
       {},
       "≥ 10× the kernel"},
      {"round-trip",
       "1-byte request/response round trip",
       "µs",
       false,
       [](Effort e) { return inproc_round_trip(sized(e, 1000, 1000000)); },
       "",
       {},
       "≤ 1 µs"},
      scaling(100, "scale-100", "Bulk per-segment cost, 100 connections"),
      scaling(10000, "scale-10k", "Bulk per-segment cost, 10,000 connections"),
      scaling(100000, "scale-100k", "Bulk per-segment cost, 100,000 connections"),
  };
}

}  // namespace synack::bench
