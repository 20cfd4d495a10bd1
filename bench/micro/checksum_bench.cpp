// The Internet checksum runs over every byte of every packet: the word-at-a-time sum against
// RFC 1071's byte-pair loop, from an IPv4 header (20) to a maximal IPv4 datagram.
//   ./build/bench/synack_micro_bench --benchmark_filter=Checksum
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "wire/checksum.hpp"

namespace {

using synack::wire::Bytes;

std::vector<std::uint8_t> random_buffer(std::int64_t size) {
  std::vector<std::uint8_t> b(static_cast<std::size_t>(size));
  std::mt19937 rng(42);
  for (auto& x : b) x = static_cast<std::uint8_t>(rng());
  return b;
}

template <std::uint16_t (*Checksum)(Bytes)>
void run(benchmark::State& state) {
  const auto buffer = random_buffer(state.range(0));
  for (auto _ : state) {
    benchmark::DoNotOptimize(buffer.data());
    benchmark::DoNotOptimize(Checksum(buffer));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

void BM_ChecksumFast(benchmark::State& state) {
  run<synack::wire::internet_checksum>(state);
}
void BM_ChecksumReference(benchmark::State& state) {
  run<synack::wire::internet_checksum_reference>(state);
}

// A TCP segment's checksum as the stack computes it: pseudo-header, then the segment.
void BM_ChecksumTransport(benchmark::State& state) {
  const auto buffer = random_buffer(state.range(0));
  for (auto _ : state) {
    benchmark::DoNotOptimize(buffer.data());
    benchmark::DoNotOptimize(
        synack::wire::transport_checksum(0xc6120001, 0xc6120002, 6, Bytes(buffer)));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

// A segment's payload into its frame: copied and then summed, or summed as it is copied
// (ChecksumAccumulator::add_copying, what TCP output does).
void BM_CopyThenSum(benchmark::State& state) {
  const auto buffer = random_buffer(state.range(0));
  std::vector<std::uint8_t> frame(buffer.size());
  for (auto _ : state) {
    std::memcpy(frame.data(), buffer.data(), buffer.size());
    synack::wire::ChecksumAccumulator acc;
    acc.add(frame);
    benchmark::DoNotOptimize(acc.sum());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
void BM_SumWhileCopying(benchmark::State& state) {
  const auto buffer = random_buffer(state.range(0));
  std::vector<std::uint8_t> frame(buffer.size());
  for (auto _ : state) {
    synack::wire::ChecksumAccumulator acc;
    acc.add_copying(frame.data(), buffer);
    benchmark::DoNotOptimize(acc.sum());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_CopyThenSum)->Arg(1460)->Arg(65495);
BENCHMARK(BM_SumWhileCopying)->Arg(1460)->Arg(65495);

BENCHMARK(BM_ChecksumFast)->Arg(20)->Arg(64)->Arg(576)->Arg(1500)->Arg(9000)->Arg(65535);
BENCHMARK(BM_ChecksumReference)->Arg(20)->Arg(64)->Arg(576)->Arg(1500)->Arg(9000)->Arg(65535);
BENCHMARK(BM_ChecksumTransport)->Arg(64)->Arg(1500);

}  // namespace
