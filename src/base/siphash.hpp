// SipHash-2-4 (Aumasson & Bernstein, 2012): a fast keyed hash that an attacker who does
// not know the key cannot predict. Used where RFC 6528 (ISNs) and RFC 6056 (ephemeral
// ports) ask for "a cryptographic hash of the 4-tuple and a secret".
#pragma once

#include <cstdint>
#include <span>

namespace synack {

struct SipKey {
  std::uint64_t k0 = 0;
  std::uint64_t k1 = 0;
};

std::uint64_t siphash24(const SipKey& key, std::span<const std::uint8_t> data);

}  // namespace synack
