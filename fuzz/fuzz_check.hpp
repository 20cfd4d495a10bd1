// What the fuzz targets share: a check that aborts (so libFuzzer records the input as a
// crash) whatever the build type, and the RFC 1071 reference checksum under the IPv4
// pseudo-header, to hold the fast checksum code to.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "wire/bytes.hpp"
#include "wire/checksum.hpp"

// Not assert(): a property of the fuzz targets must hold in any build.
#define FUZZ_CHECK(cond)                                                                 \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                      \
    }                                                                                    \
  } while (0)

namespace synack::fuzz {

// The sum of pseudo-header and segment by the byte-at-a-time loop of RFC 1071 §4.1: 0 when
// the segment's checksum field is right.
inline std::uint16_t reference_transport_checksum(std::uint32_t src, std::uint32_t dst,
                                                  std::uint8_t protocol, wire::Bytes segment) {
  std::vector<std::uint8_t> all(12);
  wire::store_be32(&all[0], src);
  wire::store_be32(&all[4], dst);
  all[9] = protocol;
  wire::store_be16(&all[10], static_cast<std::uint16_t>(segment.size()));
  all.insert(all.end(), segment.begin(), segment.end());
  return wire::internet_checksum_reference(all);
}

// For LLVMFuzzerInitialize of the stack-level targets. libFuzzer 14's entropic schedule
// looks up every feature of every run in a plain list of the rare features (LLVM 18
// replaced it with a bitset): a cost that grows with coverage, 10% of stack_packets' time
// and two thirds of sim_api's (perf); off, sim_api ran twice as many inputs a second at
// equal coverage. The flag goes first on the command line, so `-entropic=1` still wins.
inline int entropic_off(int* argc, char*** argv) {
  static char flag[] = "-entropic=0";
  static std::vector<char*> args;
  args.assign(*argv, *argv + *argc);
  args.insert(args.begin() + 1, flag);
  *argc = static_cast<int>(args.size());
  args.push_back(nullptr);
  *argv = args.data();
  return 0;
}

}  // namespace synack::fuzz
