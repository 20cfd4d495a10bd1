// The simulator's randomness: one seeded generator per purpose, so that a run is a pure
// function of its seed and adding a host does not perturb the faults on another path.
#pragma once

#include <cstdint>
#include <random>

namespace synack::sim {

// SplitMix64 (Steele, Lea, Flood 2014): derives independent seeds from one seed.
constexpr std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}

  std::uint64_t next() { return engine_(); }
  // Uniform in [0, 1), from the top 53 bits: the same on every platform, unlike
  // std::uniform_real_distribution.
  double unit() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  bool chance(double p) { return p > 0 && unit() < p; }
  // Uniform in [0, n); n > 0.
  std::uint64_t below(std::uint64_t n) { return engine_() % n; }

 private:
  std::mt19937_64 engine_;  // fully specified by the standard, so reproducible everywhere
};

}  // namespace synack::sim
