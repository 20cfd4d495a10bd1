// The keyed hash of a 4-tuple that the stack's flat indexes (demux, the compact TIME_WAIT
// table) probe from, keyed so no peer can choose tuples that pile into one cluster.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/siphash.hpp"  // SipKey
#include "synack/endpoint.hpp"

namespace synack {

// The stack has one local address: only the ports and the remote address are hashed (a
// lookup compares the whole tuple). Every segment pays for this hash, so it is not SipHash
// (which cost the round trip 3% of its instructions) but, as Linux's established hash
// (jhash under a boot-time secret), a fast mix under the stack's secret: the splitmix64
// finalizer with both key words folded in, so a peer that does not know them cannot tell
// which tuples share a cluster.
inline std::size_t tuple_hash(const SipKey& key, const FourTuple& t) {
  std::uint64_t x = (std::uint64_t{t.remote.address.to_u32()} << 32) |
                    (std::uint64_t{t.local.port} << 16) | t.remote.port;
  x ^= key.k0;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x ^= key.k1;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return static_cast<std::size_t>(x ^ (x >> 31));
}

}  // namespace synack
