// TimerWheel cost per operation with 1k, 100k and 1M timers armed. Each operation should
// cost about the same at every size (O(1) arm/cancel/re-arm, expiry cost independent of how
// many timers wait); what grows with size is only the cache misses of touching a bigger pool.
//
//   build/bench/synack_micro_bench --benchmark_filter=TimerWheel
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "stack/timer_wheel.hpp"

namespace synack {
namespace {

// A small fast generator (xorshift64*), so that the benchmark measures the wheel.
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed | 1) {}
  std::uint64_t next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545F4914F6CDD1DULL;
  }
  std::uint64_t below(std::uint64_t n) { return next() % n; }

 private:
  std::uint64_t state_;
};

constexpr std::int64_t kSpreadUs = 1'000'000;  // armed timers are due within the next second

// A wheel holding `count` armed timers, due uniformly over the next kSpreadUs.
struct Loaded {
  TimerWheel wheel;
  std::vector<TimerId> ids;

  Loaded(std::size_t count, Random& rng) {
    wheel.reserve(count + 1024);
    ids.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      ids.push_back(wheel.create(i));
      wheel.arm(ids.back(),
                kEpoch + microseconds(1 + static_cast<std::int64_t>(rng.below(kSpreadUs))));
    }
  }
};

// Deadlines precomputed so that the generator stays out of the timed loop.
std::vector<Instant> deadlines(std::size_t count, Random& rng) {
  std::vector<Instant> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    out.push_back(kEpoch + microseconds(1 + static_cast<std::int64_t>(rng.below(kSpreadUs))));
  }
  return out;
}

// Arm then cancel one more timer: what a connection does when, say, a delayed ACK is
// scheduled and then piggybacked on data before it fires.
void BM_TimerWheel_ArmCancel(benchmark::State& state) {
  Random rng(1);
  Loaded loaded(static_cast<std::size_t>(state.range(0)), rng);
  std::vector<TimerId> probes;
  for (int i = 0; i < 1024; ++i) probes.push_back(loaded.wheel.create(0));
  const std::vector<Instant> when = deadlines(4096, rng);
  std::size_t i = 0;
  for (auto _ : state) {
    const TimerId id = probes[i & 1023];
    loaded.wheel.arm(id, when[i & 4095]);
    loaded.wheel.cancel(id);
    ++i;
  }
  benchmark::DoNotOptimize(loaded.wheel.armed_count());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TimerWheel_ArmCancel)->Arg(1'000)->Arg(100'000)->Arg(1'000'000);

// Move an armed timer to a new deadline, for a random timer among all armed ones: the
// retransmission timer restarted by an ACK on any of many connections.
void BM_TimerWheel_Rearm(benchmark::State& state) {
  Random rng(2);
  const auto count = static_cast<std::size_t>(state.range(0));
  Loaded loaded(count, rng);
  std::vector<std::uint32_t> which(65'536);
  for (auto& w : which) w = static_cast<std::uint32_t>(rng.below(count));
  const std::vector<Instant> when = deadlines(65'536, rng);
  std::size_t i = 0;
  for (auto _ : state) {
    loaded.wheel.arm(loaded.ids[which[i & 65'535]], when[i & 65'535]);
    ++i;
  }
  benchmark::DoNotOptimize(loaded.wheel.armed_count());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TimerWheel_Rearm)->Arg(1'000)->Arg(100'000)->Arg(1'000'000);

// Steady state: every expired timer is re-armed for 1 µs to 1 s later, so `count` timers stay
// armed, and time moves on in steps that expire about 128 of them each (count / 0.5 s mean
// lifetime x step). time_per_expiry covers the advance (slot search, cascades of the timer
// through up to 3 levels) and the re-arm in the callback.
void BM_TimerWheel_AdvanceExpire(benchmark::State& state) {
  Random rng(3);
  const auto count = static_cast<std::size_t>(state.range(0));
  Loaded loaded(count, rng);
  const Duration step =
      microseconds(std::max<std::int64_t>(1, kSpreadUs * 64 / static_cast<std::int64_t>(count)));
  Instant now = kEpoch;
  std::int64_t expired = 0;
  TimerWheel& wheel = loaded.wheel;
  for (auto _ : state) {
    now += step;
    wheel.advance(now, [&](TimerId id, std::uint64_t) {
      ++expired;
      wheel.arm(id, now + microseconds(1 + static_cast<std::int64_t>(rng.below(kSpreadUs))));
    });
  }
  if (wheel.armed_count() != count) state.SkipWithError("timers were lost");
  state.SetItemsProcessed(expired);
  state.counters["expiries_per_advance"] =
      static_cast<double>(expired) / static_cast<double>(state.iterations());
  // Seconds of CPU per expiry (printed with an SI prefix: "38n" is 38 ns).
  state.counters["time_per_expiry"] = benchmark::Counter(
      static_cast<double>(expired), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_TimerWheel_AdvanceExpire)->Arg(1'000)->Arg(100'000)->Arg(1'000'000);

}  // namespace
}  // namespace synack
