#include "base/siphash.hpp"

#include <bit>
#include <cstring>

namespace synack {
namespace {

struct State {
  std::uint64_t v0, v1, v2, v3;
  void round() {
    v0 += v1;
    v1 = std::rotl(v1, 13);
    v1 ^= v0;
    v0 = std::rotl(v0, 32);
    v2 += v3;
    v3 = std::rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = std::rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = std::rotl(v1, 17);
    v1 ^= v2;
    v2 = std::rotl(v2, 32);
  }
  void compress(std::uint64_t m) {
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
};

// Message words are little-endian by definition of the algorithm.
std::uint64_t load_le64(const std::uint8_t* p, std::size_t n) {
  std::uint64_t m = 0;
  for (std::size_t i = 0; i < n; ++i) m |= std::uint64_t{p[i]} << (8 * i);
  return m;
}

}  // namespace

std::uint64_t siphash24(const SipKey& key, std::span<const std::uint8_t> data) {
  State s{key.k0 ^ 0x736f6d6570736575ull, key.k1 ^ 0x646f72616e646f6dull,
          key.k0 ^ 0x6c7967656e657261ull, key.k1 ^ 0x7465646279746573ull};
  const std::size_t n = data.size();
  const std::uint8_t* p = data.data();
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) s.compress(load_le64(p + i, 8));
  s.compress(load_le64(p + i, n - i) | (std::uint64_t{n & 0xff} << 56));
  s.v2 ^= 0xff;
  for (int r = 0; r < 4; ++r) s.round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

}  // namespace synack
