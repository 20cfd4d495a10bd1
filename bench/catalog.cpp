#include "bench/catalog.hpp"

#include "bench/scenarios/inproc.hpp"

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
