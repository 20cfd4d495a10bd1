// TimerWheel: exact firing at microsecond deadlines, in order, across levels, long idle jumps
// and callbacks that change the wheel, checked against a brute-force model.
#include "stack/timer_wheel.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <stdexcept>
#include <tuple>
#include <utility>
#include <vector>

namespace synack {
namespace {

constexpr Instant at_us(std::int64_t us) {
  return kEpoch + microseconds(us);
}
constexpr std::int64_t kHourUs = 3'600'000'000;
constexpr std::int64_t kDayUs = 24 * kHourUs;
constexpr std::int64_t kWheelSpanUs = std::int64_t{1} << TimerWheel::kWheelBits;

// What a callback saw: which timer (by tag) and the wheel's time when it fired.
struct Firing {
  std::uint64_t tag;
  Instant at;
  friend bool operator==(const Firing&, const Firing&) = default;
  friend std::ostream& operator<<(std::ostream& os, const Firing& f) {
    return os << "{tag " << f.tag << " at " << to_nanos(f.at) << "ns}";
  }
};

// Advances `wheel` to `now`, recording every firing.
std::vector<Firing> advance_and_record(TimerWheel& wheel, Instant now) {
  std::vector<Firing> fired;
  wheel.advance(now, [&](TimerId, std::uint64_t tag) { fired.push_back({tag, wheel.now()}); });
  return fired;
}

// The brute-force reference: a flat table of timers, scanned in full to find what is due.
// It states the wheel's contract directly: deadlines round up to the microsecond and are
// raised to the current time if overdue; one advance fires overdue timers first, then each
// later tick up to `now` in order, ties in arm order; a timer armed by a callback for a
// deadline at or before the tick being fired waits for the next advance.
class ModelWheel {
 public:
  using Id = std::size_t;

  Id create(std::uint64_t tag) {
    timers_.push_back({.tag = tag});
    return timers_.size() - 1;
  }
  void destroy(Id id) { timers_[id].armed = false; }
  void arm(Id id, Instant deadline) {
    Timer& t = timers_[id];
    t.armed = true;
    t.tick = std::max(ceil_us(deadline), now_);
    t.seq = ++seq_;
  }
  void cancel(Id id) { timers_[id].armed = false; }
  Instant now() const { return at_us(static_cast<std::int64_t>(now_)); }
  std::size_t armed_count() const {
    return static_cast<std::size_t>(
        std::count_if(timers_.begin(), timers_.end(), [](const Timer& t) { return t.armed; }));
  }
  std::optional<Instant> earliest_deadline() const {
    std::optional<std::uint64_t> best;
    for (const Timer& t : timers_) {
      if (t.armed && (!best || t.tick < *best)) best = t.tick;
    }
    if (!best) return std::nullopt;
    return at_us(static_cast<std::int64_t>(*best));
  }

  template <class F>
  void advance(Instant now, F&& on_expired) {
    const std::uint64_t target = std::max(floor_us(now), now_);
    const std::uint64_t overdue_until = now_;
    fire_batch([&](const Timer& t) { return t.tick <= overdue_until; }, on_expired);
    for (;;) {
      std::optional<std::uint64_t> next;
      for (const Timer& t : timers_) {
        if (t.armed && t.tick > now_ && (!next || t.tick < *next)) next = t.tick;
      }
      if (!next || *next > target) break;
      now_ = *next;
      const std::uint64_t tick = *next;
      fire_batch([&](const Timer& t) { return t.tick == tick; }, on_expired);
    }
    now_ = target;
  }

 private:
  struct Timer {
    std::uint64_t tag = 0;
    std::uint64_t tick = 0;
    std::uint64_t seq = 0;
    bool armed = false;
  };

  static std::uint64_t ceil_us(Instant t) {
    const std::int64_t ns = to_nanos(t);
    return ns <= 0 ? 0 : static_cast<std::uint64_t>((ns + 999) / 1000);
  }
  static std::uint64_t floor_us(Instant t) {
    const std::int64_t ns = to_nanos(t);
    return ns <= 0 ? 0 : static_cast<std::uint64_t>(ns / 1000);
  }

  // Fires the timers matching `due` as of now, in (tick, arm order), skipping any that a
  // callback cancels or re-arms meanwhile.
  template <class Pred, class F>
  void fire_batch(Pred due, F& on_expired) {
    std::vector<std::tuple<std::uint64_t, std::uint64_t, Id>> batch;
    for (Id id = 0; id < timers_.size(); ++id) {
      if (timers_[id].armed && due(timers_[id])) {
        batch.emplace_back(timers_[id].tick, timers_[id].seq, id);
      }
    }
    std::sort(batch.begin(), batch.end());
    for (const auto& [tick, seq, id] : batch) {
      Timer& t = timers_[id];
      if (!t.armed || t.seq != seq) continue;
      t.armed = false;
      on_expired(id, t.tag);
    }
  }

  std::vector<Timer> timers_;
  std::uint64_t now_ = 0;
  std::uint64_t seq_ = 0;
};

// Deadlines the way a TCP stack makes them: mostly a delay after now, spread log-uniformly
// from 1 µs to hours, some shared by many timers (ties), some not on a microsecond boundary,
// some overdue, a few beyond the wheel's 2^42 µs (the overflow list).
class DeadlineMaker {
 public:
  explicit DeadlineMaker(std::uint32_t seed) : rng_(seed) {}

  Instant after(Instant now) {
    const int kind = pick(0, 99);
    const auto tie = tie_points_[static_cast<std::size_t>(pick(0, 7))];
    if (kind < 5) return tie + (now - kEpoch);  // same delay as other arms at this time
    if (kind < 10) return tie;                  // the same absolute instant (maybe overdue)
    if (kind < 14) return now - microseconds(pick(0, 5000));  // overdue
    if (kind < 16) return now + microseconds(kWheelSpanUs + pick(0, 1'000'000) * 1000);
    const double log_us =
        std::uniform_real_distribution<double>(0.0, std::log(4.0 * kHourUs))(rng_);
    const auto delay_us = static_cast<std::int64_t>(std::exp(log_us));
    Instant d = now + microseconds(delay_us);
    if (kind < 30) d += nanoseconds(pick(1, 999));  // rounds up
    return d;
  }

  // How far the next advance goes: a few ticks, a little, a lot, or hours at once.
  Duration step() {
    const int kind = pick(0, 99);
    if (kind < 30) return microseconds(pick(0, 3));
    if (kind < 60) return microseconds(pick(1, 5000)) + nanoseconds(pick(0, 999));
    if (kind < 90) return milliseconds(pick(1, 2000));
    if (kind < 98) return seconds(pick(1, 3 * 3600));
    return seconds(pick(1, 120)) * 3600;
  }

  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

 private:
  std::mt19937 rng_;
  std::vector<Instant> tie_points_{at_us(1),    at_us(64),      at_us(4096), at_us(200'000),
                                   at_us(1000), at_us(262'144), at_us(5),    at_us(kHourUs)};
};

// Drives a wheel (the real one or the model) through a seeded random history: arms, re-arms,
// cancels, destroys and advances, and callbacks that re-arm, cancel, destroy and create.
// Returns every firing. Both wheels see the same decisions as long as they fire the same
// timers in the same order; a divergence shows up as a different history.
template <class Wheel>
std::vector<Firing> run_history(Wheel& wheel, std::uint32_t seed, int timers, int rounds,
                                bool with_callback_actions) {
  using Id = decltype(wheel.create(0));
  DeadlineMaker make(seed);
  std::vector<Id> ids;
  for (int k = 0; k < timers; ++k) ids.push_back(wheel.create(static_cast<std::uint64_t>(k)));
  auto any_key = [&] { return static_cast<std::size_t>(make.pick(0, timers - 1)); };

  std::vector<Firing> fired;
  Instant now = kEpoch;
  for (int round = 0; round < rounds; ++round) {
    const int arms = make.pick(0, timers / 4);
    for (int i = 0; i < arms; ++i) wheel.arm(ids[any_key()], make.after(wheel.now()));
    for (int i = make.pick(0, 3); i > 0; --i) wheel.cancel(ids[any_key()]);
    if (make.pick(0, 9) == 0) {
      const std::size_t k = any_key();
      wheel.destroy(ids[k]);
      ids[k] = wheel.create(k);
    }
    now += make.step();
    wheel.advance(now, [&](auto id, std::uint64_t tag) {
      fired.push_back({tag, wheel.now()});
      if (!with_callback_actions) return;
      const int action = make.pick(0, 99);
      if (action < 30) {
        wheel.arm(id, make.after(wheel.now()));
      } else if (action < 40) {
        wheel.cancel(ids[any_key()]);
      } else if (action < 50) {
        wheel.arm(ids[any_key()], make.after(wheel.now()));
      } else if (action < 55) {
        const std::size_t k = any_key();
        wheel.destroy(ids[k]);
        ids[k] = wheel.create(k);
        wheel.arm(ids[k], make.after(wheel.now()));
      }
    });
  }
  return fired;
}

// --- basic firing ------------------------------------------------------------------------

TEST(TimerWheel, StartsEmpty) {
  TimerWheel wheel;
  EXPECT_EQ(wheel.armed_count(), 0u);
  EXPECT_EQ(wheel.timer_count(), 0u);
  EXPECT_EQ(wheel.next_deadline(), std::nullopt);
  EXPECT_EQ(wheel.now(), kEpoch);
  EXPECT_TRUE(advance_and_record(wheel, at_us(kDayUs)).empty());
  EXPECT_EQ(wheel.now(), at_us(kDayUs));
}

TEST(TimerWheel, FiresExactlyAtItsDeadlineNeverBefore) {
  TimerWheel wheel;
  const TimerId id = wheel.create(7);
  wheel.arm(id, at_us(10));
  EXPECT_TRUE(wheel.armed(id));
  EXPECT_EQ(wheel.deadline(id), at_us(10));
  EXPECT_EQ(wheel.tag(id), 7u);
  EXPECT_EQ(wheel.armed_count(), 1u);
  EXPECT_TRUE(advance_and_record(wheel, at_us(10) - nanoseconds(1)).empty());
  EXPECT_EQ(advance_and_record(wheel, at_us(10)), (std::vector<Firing>{{7, at_us(10)}}));
  EXPECT_FALSE(wheel.armed(id));
  EXPECT_EQ(wheel.armed_count(), 0u);
  EXPECT_TRUE(advance_and_record(wheel, at_us(1000)).empty()) << "fires once";
}

TEST(TimerWheel, ReportsTheIdAndTagOfTheExpiredTimer) {
  TimerWheel wheel;
  const TimerId a = wheel.create(100);
  const TimerId b = wheel.create(200);
  wheel.arm(b, at_us(5));
  std::vector<std::pair<TimerId, std::uint64_t>> seen;
  wheel.advance(at_us(5), [&](TimerId id, std::uint64_t tag) { seen.emplace_back(id, tag); });
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].first, b);
  EXPECT_EQ(seen[0].second, 200u);
  EXPECT_FALSE(wheel.armed(a));
}

TEST(TimerWheel, DeadlineRoundsUpToTheNextMicrosecond) {
  TimerWheel wheel;
  const TimerId id = wheel.create(1);
  wheel.arm(id, at_us(10) + nanoseconds(1));
  EXPECT_EQ(wheel.deadline(id), at_us(11));
  EXPECT_EQ(wheel.next_deadline(), at_us(11));
  EXPECT_TRUE(advance_and_record(wheel, at_us(10) + nanoseconds(999)).empty())
      << "never before the deadline";
  EXPECT_EQ(advance_and_record(wheel, at_us(11)), (std::vector<Firing>{{1, at_us(11)}}));
}

TEST(TimerWheel, SubMicrosecondNowRoundsDown) {
  TimerWheel wheel;
  wheel.arm(wheel.create(1), at_us(3));
  EXPECT_TRUE(advance_and_record(wheel, at_us(2) + nanoseconds(999)).empty());
  EXPECT_EQ(wheel.now(), at_us(2));
  EXPECT_EQ(advance_and_record(wheel, at_us(3) + nanoseconds(500)).size(), 1u);
}

TEST(TimerWheel, FiresInDeadlineOrderWithinOneAdvance) {
  TimerWheel wheel;
  const std::int64_t deadlines[] = {5'000'000, 3, 64, 63, 4096, 70, 1, 262'144, 4095};
  for (std::size_t i = 0; i < std::size(deadlines); ++i) {
    wheel.arm(wheel.create(i), at_us(deadlines[i]));
  }
  const auto fired = advance_and_record(wheel, at_us(10'000'000));
  const std::vector<Firing> expected{{6, at_us(1)},    {1, at_us(3)},       {3, at_us(63)},
                                     {2, at_us(64)},   {5, at_us(70)},      {8, at_us(4095)},
                                     {4, at_us(4096)}, {7, at_us(262'144)}, {0, at_us(5'000'000)}};
  EXPECT_EQ(fired, expected);
}

TEST(TimerWheel, TiesFireInArmOrderEvenWhenArmedFromDifferentLevels) {
  TimerWheel wheel;
  const TimerId far = wheel.create(1);
  wheel.arm(far, at_us(10'000));  // armed at 0: a level-2 slot
  advance_and_record(wheel, at_us(9'990));
  const TimerId near = wheel.create(2);
  wheel.arm(near, at_us(10'000));  // armed at 9990: level 0 (far has cascaded down by now)
  const TimerId nearer = wheel.create(3);
  wheel.arm(nearer, at_us(10'000));
  EXPECT_EQ(advance_and_record(wheel, at_us(10'000)),
            (std::vector<Firing>{{1, at_us(10'000)}, {2, at_us(10'000)}, {3, at_us(10'000)}}));
}

TEST(TimerWheel, ReArmingCountsAsANewArmForTies) {
  TimerWheel wheel;
  const TimerId a = wheel.create(1);
  const TimerId b = wheel.create(2);
  wheel.arm(a, at_us(500));
  wheel.arm(b, at_us(500));
  wheel.arm(a, at_us(500));
  EXPECT_EQ(advance_and_record(wheel, at_us(500)),
            (std::vector<Firing>{{2, at_us(500)}, {1, at_us(500)}}));
}

// --- against the brute-force model ------------------------------------------------------

TEST(TimerWheel, RandomDeadlinesFireExactlyAsTheBruteForceModelSays) {
  for (std::uint32_t seed = 1; seed <= 8; ++seed) {
    TimerWheel wheel;
    ModelWheel model;
    const auto got = run_history(wheel, seed, 400, 300, false);
    const auto want = run_history(model, seed, 400, 300, false);
    ASSERT_GT(want.size(), 1000u) << "the history should fire plenty of timers";
    ASSERT_EQ(got.size(), want.size()) << "seed " << seed;
    for (std::size_t i = 0; i < want.size(); ++i) {
      ASSERT_EQ(got[i], want[i]) << "seed " << seed << ", firing #" << i;
    }
    EXPECT_EQ(wheel.armed_count(), model.armed_count());
  }
}

TEST(TimerWheel, CallbacksThatReArmCancelDestroyAndCreateMatchTheModel) {
  for (std::uint32_t seed = 100; seed < 108; ++seed) {
    TimerWheel wheel;
    ModelWheel model;
    const auto got = run_history(wheel, seed, 300, 300, true);
    const auto want = run_history(model, seed, 300, 300, true);
    ASSERT_GT(want.size(), 1000u);
    ASSERT_EQ(got.size(), want.size()) << "seed " << seed;
    for (std::size_t i = 0; i < want.size(); ++i) {
      ASSERT_EQ(got[i], want[i]) << "seed " << seed << ", firing #" << i;
    }
    EXPECT_EQ(wheel.armed_count(), model.armed_count());
  }
}

TEST(TimerWheel, ManyTimersSpreadFromMicrosecondsToHoursInOneAdvance) {
  std::mt19937 rng(42);
  TimerWheel wheel;
  ModelWheel model;
  for (std::uint64_t k = 0; k < 10'000; ++k) {
    const double log_us =
        std::uniform_real_distribution<double>(0.0, std::log(10.0 * kHourUs))(rng);
    Instant d = at_us(static_cast<std::int64_t>(std::exp(log_us)));
    if (k % 7 == 0) d = at_us(static_cast<std::int64_t>(k % 50) * 1000);  // many ties
    wheel.arm(wheel.create(k), d);
    model.arm(model.create(k), d);
  }
  std::vector<Firing> want;
  model.advance(at_us(11 * kHourUs), [&](auto, std::uint64_t tag) {
    want.push_back({tag, model.now()});
  });
  const auto got = advance_and_record(wheel, at_us(11 * kHourUs));
  ASSERT_EQ(want.size(), 10'000u);
  EXPECT_EQ(got, want);
}

// --- cancel and re-arm -------------------------------------------------------------------

TEST(TimerWheel, CancelledTimerDoesNotFire) {
  TimerWheel wheel;
  const TimerId a = wheel.create(1);
  const TimerId b = wheel.create(2);
  wheel.arm(a, at_us(100));
  wheel.arm(b, at_us(100'000));
  wheel.cancel(a);
  wheel.cancel(b);
  wheel.cancel(b);  // cancelling an unarmed timer is a no-op
  EXPECT_FALSE(wheel.armed(a));
  EXPECT_EQ(wheel.armed_count(), 0u);
  EXPECT_EQ(wheel.next_deadline(), std::nullopt);
  EXPECT_TRUE(advance_and_record(wheel, at_us(kHourUs)).empty());
}

TEST(TimerWheel, ReArmEarlierFiresAtTheNewDeadlineOnly) {
  TimerWheel wheel;
  const TimerId id = wheel.create(1);
  wheel.arm(id, at_us(kHourUs));
  wheel.arm(id, at_us(50));
  EXPECT_EQ(wheel.armed_count(), 1u);
  EXPECT_EQ(wheel.next_deadline(), at_us(50));
  EXPECT_EQ(advance_and_record(wheel, at_us(2 * kHourUs)), (std::vector<Firing>{{1, at_us(50)}}));
}

TEST(TimerWheel, ReArmLaterFiresAtTheNewDeadlineOnly) {
  TimerWheel wheel;
  const TimerId id = wheel.create(1);
  wheel.arm(id, at_us(50));
  advance_and_record(wheel, at_us(40));
  wheel.arm(id, at_us(200'000));  // like an RTO restarted by an ACK
  EXPECT_TRUE(advance_and_record(wheel, at_us(199'999)).empty());
  EXPECT_EQ(advance_and_record(wheel, at_us(300'000)), (std::vector<Firing>{{1, at_us(200'000)}}));
}

TEST(TimerWheel, ReArmFromInsideTheCallbackFiresAgainInTheSameAdvance) {
  TimerWheel wheel;
  const TimerId tick = wheel.create(1);
  wheel.arm(tick, at_us(100));
  std::vector<Instant> times;
  wheel.advance(at_us(1000), [&](TimerId id, std::uint64_t) {
    times.push_back(wheel.now());
    EXPECT_FALSE(wheel.armed(id)) << "disarmed before the call";
    wheel.arm(id, wheel.now() + microseconds(100));
  });
  const std::vector<Instant> expected{at_us(100), at_us(200), at_us(300), at_us(400), at_us(500),
                                      at_us(600), at_us(700), at_us(800), at_us(900), at_us(1000)};
  EXPECT_EQ(times, expected);
  EXPECT_TRUE(wheel.armed(tick));
  EXPECT_EQ(wheel.deadline(tick), at_us(1100));
}

TEST(TimerWheel, CallbackMayCancelOrReArmATimerDueAtTheSameTick) {
  TimerWheel wheel;
  const TimerId a = wheel.create(1);
  const TimerId b = wheel.create(2);
  const TimerId c = wheel.create(3);
  for (TimerId id : {a, b, c}) wheel.arm(id, at_us(77));
  std::vector<std::uint64_t> tags;
  wheel.advance(at_us(1000), [&](TimerId id, std::uint64_t tag) {
    tags.push_back(tag);
    if (id == a) {
      wheel.cancel(b);
      wheel.arm(c, at_us(500));
    }
  });
  EXPECT_EQ(tags, (std::vector<std::uint64_t>{1, 3}));
  EXPECT_EQ(wheel.now(), at_us(1000));
}

TEST(TimerWheel, DestroyFromInsideTheCallback) {
  TimerWheel wheel;
  const TimerId a = wheel.create(1);
  const TimerId b = wheel.create(2);
  const TimerId c = wheel.create(3);
  wheel.arm(a, at_us(10));
  wheel.arm(b, at_us(10));
  wheel.arm(c, at_us(20));
  std::vector<std::uint64_t> tags;
  wheel.advance(at_us(100), [&](TimerId id, std::uint64_t tag) {
    tags.push_back(tag);
    if (id == a) {
      wheel.destroy(b);  // another timer, due at this very tick
      wheel.destroy(a);  // and itself
    }
  });
  EXPECT_EQ(tags, (std::vector<std::uint64_t>{1, 3}));
  EXPECT_EQ(wheel.timer_count(), 1u);
  EXPECT_EQ(wheel.armed_count(), 0u);
}

TEST(TimerWheel, CallbackMayCreateTimersThatFireInTheSameAdvance) {
  TimerWheel wheel;
  wheel.arm(wheel.create(1), at_us(10));
  std::vector<Firing> fired;
  wheel.advance(at_us(100), [&](TimerId, std::uint64_t tag) {
    fired.push_back({tag, wheel.now()});
    if (tag < 5) wheel.arm(wheel.create(tag + 1), wheel.now() + microseconds(10));
  });
  EXPECT_EQ(fired,
            (std::vector<Firing>{
                {1, at_us(10)}, {2, at_us(20)}, {3, at_us(30)}, {4, at_us(40)}, {5, at_us(50)}}));
}

// --- overdue deadlines -------------------------------------------------------------------

TEST(TimerWheel, DeadlineInThePastFiresOnTheNextAdvance) {
  TimerWheel wheel;
  advance_and_record(wheel, at_us(1000));
  const TimerId late = wheel.create(1);
  wheel.arm(late, at_us(400));
  EXPECT_EQ(wheel.deadline(late), at_us(1000)) << "overdue counts as due now";
  EXPECT_EQ(wheel.next_deadline(), at_us(1000));
  EXPECT_EQ(advance_and_record(wheel, at_us(1000)), (std::vector<Firing>{{1, at_us(1000)}}))
      << "even an advance that does not move time fires it";
}

TEST(TimerWheel, DeadlineExactlyNowIsOverdue) {
  TimerWheel wheel;
  advance_and_record(wheel, at_us(1000));
  wheel.arm(wheel.create(1), at_us(1000));
  EXPECT_EQ(advance_and_record(wheel, at_us(1000)).size(), 1u);
}

TEST(TimerWheel, OverdueTimersFireFirstInArmOrder) {
  TimerWheel wheel;
  advance_and_record(wheel, at_us(1000));
  wheel.arm(wheel.create(1), at_us(1001));
  wheel.arm(wheel.create(2), at_us(900));
  wheel.arm(wheel.create(3), at_us(5));
  EXPECT_EQ(advance_and_record(wheel, at_us(2000)),
            (std::vector<Firing>{{2, at_us(1000)}, {3, at_us(1000)}, {1, at_us(1001)}}));
}

TEST(TimerWheel, ReArmInThePastFromACallbackWaitsForTheNextAdvance) {
  TimerWheel wheel;
  const TimerId id = wheel.create(1);
  wheel.arm(id, at_us(10));
  int calls = 0;
  auto again = [&](TimerId t, std::uint64_t) {
    ++calls;
    wheel.arm(t, wheel.now());  // always overdue: must not loop forever
  };
  wheel.advance(at_us(100), again);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(wheel.deadline(id), at_us(10));
  wheel.advance(at_us(100), again);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(wheel.deadline(id), at_us(100));
}

TEST(TimerWheel, TimeNeverMovesBackwards) {
  TimerWheel wheel;
  advance_and_record(wheel, at_us(5000));
  const TimerId id = wheel.create(1);
  wheel.arm(id, at_us(5001));
  EXPECT_TRUE(advance_and_record(wheel, at_us(10)).empty());
  EXPECT_EQ(wheel.now(), at_us(5000));
  EXPECT_EQ(advance_and_record(wheel, at_us(5001)).size(), 1u);
}

// --- long idle jumps ---------------------------------------------------------------------

TEST(TimerWheel, TimerThreeDaysAwayFiresExactlyInOneJump) {
  TimerWheel wheel;
  const Instant deadline = at_us(3 * kDayUs + 12'345);
  wheel.arm(wheel.create(1), deadline);
  EXPECT_TRUE(advance_and_record(wheel, deadline - microseconds(1)).empty());
  EXPECT_EQ(advance_and_record(wheel, deadline), (std::vector<Firing>{{1, deadline}}));
}

TEST(TimerWheel, TimerThreeDaysAwayFiresExactlyOneJumpPastIt) {
  TimerWheel wheel;
  const Instant deadline = at_us(3 * kDayUs + 1);
  wheel.arm(wheel.create(1), deadline);
  EXPECT_EQ(advance_and_record(wheel, at_us(30 * kDayUs)), (std::vector<Firing>{{1, deadline}}));
}

TEST(TimerWheel, TimerThreeDaysAwayFiresExactlyWhenTimeMovesInSteps) {
  TimerWheel wheel;
  const Instant deadline = at_us(3 * kDayUs + 777);
  wheel.arm(wheel.create(1), deadline);
  std::vector<Firing> fired;
  for (Instant now = kEpoch; now < at_us(4 * kDayUs); now += seconds(61)) {
    for (const Firing& f : advance_and_record(wheel, now)) fired.push_back(f);
  }
  EXPECT_EQ(fired, (std::vector<Firing>{{1, deadline}}));
}

TEST(TimerWheel, TimersBeyondTheWheelWaitInOverflowAndFireExactly) {
  TimerWheel wheel;
  const Instant in_60_days = at_us(60 * kDayUs + 3);  // > 2^42 µs, about 51 days
  const Instant in_400_days = at_us(400 * kDayUs + 5);
  const Instant just_past_boundary = at_us(kWheelSpanUs + 1);
  wheel.arm(wheel.create(1), in_400_days);
  wheel.arm(wheel.create(2), in_60_days);
  wheel.arm(wheel.create(3), just_past_boundary);
  std::vector<Firing> fired;
  for (Instant now = kEpoch; now <= at_us(500 * kDayUs); now += seconds(7 * 3600 + 13)) {
    for (const Firing& f : advance_and_record(wheel, now)) fired.push_back(f);
  }
  EXPECT_EQ(fired,
            (std::vector<Firing>{{3, just_past_boundary}, {2, in_60_days}, {1, in_400_days}}));
}

TEST(TimerWheel, LongJumpWithMillionsOfEmptyTicksIsCheap) {
  // An hour is 3.6e9 ticks; stepping through them would take seconds. Skipping through the
  // bitmaps, a thousand hour-long jumps over a few timers finish at once.
  TimerWheel wheel;
  for (std::uint64_t k = 0; k < 4; ++k) {
    wheel.arm(wheel.create(k), at_us(static_cast<std::int64_t>(k + 1) * 250 * kHourUs));
  }
  std::size_t fired = 0;
  for (std::int64_t h = 1; h <= 1000; ++h)
    fired += advance_and_record(wheel, at_us(h * kHourUs)).size();
  EXPECT_EQ(fired, 4u);
}

// --- next_deadline -----------------------------------------------------------------------

TEST(TimerWheel, NextDeadlineIsExactWithinTheCurrentBlock) {
  TimerWheel wheel;
  advance_and_record(wheel, at_us(640));
  wheel.arm(wheel.create(1), at_us(700));
  wheel.arm(wheel.create(2), at_us(650));
  EXPECT_EQ(wheel.next_deadline(), at_us(650));
}

TEST(TimerWheel, NextDeadlineIsNeverLaterThanTheEarliestAndReachesItInBoundedCalls) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 2000; ++trial) {
    TimerWheel wheel;
    const auto start = std::uniform_int_distribution<std::int64_t>(0, 1LL << 45)(rng);
    advance_and_record(wheel, at_us(start));
    const int count = std::uniform_int_distribution<int>(1, 20)(rng);
    Instant earliest = Instant::max();
    for (int i = 0; i < count; ++i) {
      const double log_us = std::uniform_real_distribution<double>(0.0, std::log(1e14))(rng);
      const Instant d = at_us(start) + microseconds(static_cast<std::int64_t>(std::exp(log_us)));
      const TimerId id = wheel.create(static_cast<std::uint64_t>(i));
      wheel.arm(id, d);
      earliest = std::min(earliest, wheel.deadline(id));
    }
    // One call per level, plus one per 2^42 µs boundary the earliest deadline lies beyond.
    const std::int64_t earliest_us = to_nanos(earliest) / 1000;
    const std::int64_t boundaries = earliest_us / kWheelSpanUs - start / kWheelSpanUs;
    const std::int64_t bound = TimerWheel::kLevels + boundaries;
    std::int64_t calls = 0;
    std::vector<Firing> fired;
    while (fired.empty()) {
      const std::optional<Instant> next = wheel.next_deadline();
      ASSERT_TRUE(next.has_value());
      ASSERT_LE(*next, earliest) << "trial " << trial;
      ASSERT_GE(*next, wheel.now());
      fired = advance_and_record(wheel, *next);
      ASSERT_LE(++calls, bound) << "trial " << trial;
    }
    EXPECT_EQ(fired.front().at, earliest);
  }
}

TEST(TimerWheel, NextDeadlineTracksTheModelThroughARandomHistory) {
  TimerWheel wheel;
  ModelWheel model;
  DeadlineMaker make(99);
  std::vector<TimerId> ids;
  std::vector<ModelWheel::Id> model_ids;
  for (std::uint64_t k = 0; k < 200; ++k) {
    ids.push_back(wheel.create(k));
    model_ids.push_back(model.create(k));
  }
  Instant now = kEpoch;
  for (int round = 0; round < 2000; ++round) {
    for (int i = make.pick(0, 5); i > 0; --i) {
      const auto k = static_cast<std::size_t>(make.pick(0, 199));
      const Instant d = make.after(wheel.now());
      wheel.arm(ids[k], d);
      model.arm(model_ids[k], d);
    }
    const std::optional<Instant> earliest = model.earliest_deadline();
    const std::optional<Instant> next = wheel.next_deadline();
    ASSERT_EQ(next.has_value(), earliest.has_value());
    if (next) {
      ASSERT_LE(*next, *earliest);
    }
    ASSERT_EQ(wheel.armed_count(), model.armed_count());
    now += make.step();
    wheel.advance(now, [](TimerId, std::uint64_t) {});
    model.advance(now, [](ModelWheel::Id, std::uint64_t) {});
  }
}

// --- ids, pool, scale --------------------------------------------------------------------

TEST(TimerWheel, IdIsReusedAfterDestroyAndStartsFresh) {
  TimerWheel wheel;
  const TimerId a = wheel.create(1);
  wheel.arm(a, at_us(100));
  wheel.destroy(a);
  EXPECT_EQ(wheel.armed_count(), 0u);
  EXPECT_EQ(wheel.timer_count(), 0u);
  const TimerId b = wheel.create(2);
  EXPECT_EQ(b, a) << "the pool reuses the freed node";
  EXPECT_FALSE(wheel.armed(b));
  EXPECT_EQ(wheel.tag(b), 2u);
  EXPECT_TRUE(advance_and_record(wheel, at_us(1000)).empty()) << "the old arm is gone";
  wheel.set_tag(b, 3);
  wheel.arm(b, at_us(2000));
  EXPECT_EQ(advance_and_record(wheel, at_us(2000)), (std::vector<Firing>{{3, at_us(2000)}}));
}

TEST(TimerWheel, OriginShiftsTheTickGrid) {
  const Instant origin = from_nanos(-5'000'000'123);  // the driver's epoch may be anywhere
  TimerWheel wheel(origin);
  EXPECT_EQ(wheel.now(), origin);
  const TimerId early = wheel.create(1);
  wheel.arm(early, origin - seconds(1));
  EXPECT_EQ(wheel.deadline(early), origin) << "before the origin is overdue";
  const TimerId later = wheel.create(2);
  wheel.arm(later, origin + nanoseconds(1500));
  EXPECT_EQ(wheel.deadline(later), origin + microseconds(2)) << "ticks count from the origin";
  EXPECT_EQ(advance_and_record(wheel, kEpoch),
            (std::vector<Firing>{{1, origin}, {2, origin + microseconds(2)}}));
}

TEST(TimerWheel, FarDeadlinesSaturateInsteadOfOverflowing) {
  TimerWheel wheel(from_nanos(-1'000'000'000));
  const TimerId id = wheel.create(1);
  wheel.arm(id, Instant::max());
  EXPECT_TRUE(wheel.armed(id));
  EXPECT_EQ(wheel.deadline(id), Instant::max());
  EXPECT_TRUE(advance_and_record(wheel, at_us(kDayUs)).empty());
}

TEST(TimerWheel, ExceptionFromACallbackLeavesTheRestForTheNextAdvance) {
  TimerWheel wheel;
  for (std::uint64_t k = 1; k <= 3; ++k) wheel.arm(wheel.create(k), at_us(10));
  wheel.arm(wheel.create(4), at_us(20));
  std::vector<std::uint64_t> tags;
  EXPECT_THROW(wheel.advance(at_us(100),
                             [&](TimerId, std::uint64_t tag) {
                               tags.push_back(tag);
                               if (tag == 1) throw std::runtime_error("owner failed");
                             }),
               std::runtime_error);
  EXPECT_EQ(wheel.armed_count(), 3u);
  EXPECT_EQ(wheel.next_deadline(), at_us(10));
  wheel.advance(at_us(100), [&](TimerId, std::uint64_t tag) { tags.push_back(tag); });
  EXPECT_EQ(tags, (std::vector<std::uint64_t>{1, 2, 3, 4}));
}

TEST(TimerWheel, AMillionTimersArmedAndCancelled) {
  constexpr std::size_t kTimers = 1'000'000;
  TimerWheel wheel;
  wheel.reserve(kTimers);
  std::mt19937_64 rng(5);
  std::vector<TimerId> ids;
  ids.reserve(kTimers);
  for (std::size_t i = 0; i < kTimers; ++i) {
    ids.push_back(wheel.create(i));
    wheel.arm(ids.back(), at_us(static_cast<std::int64_t>(rng() % (2 * kHourUs)) + 1));
  }
  EXPECT_EQ(wheel.armed_count(), kTimers);
  std::shuffle(ids.begin(), ids.end(), rng);
  for (TimerId id : ids) wheel.cancel(id);
  EXPECT_EQ(wheel.armed_count(), 0u);
  EXPECT_EQ(wheel.next_deadline(), std::nullopt);
  EXPECT_TRUE(advance_and_record(wheel, at_us(3 * kHourUs)).empty());
  EXPECT_EQ(wheel.timer_count(), kTimers);
}

TEST(TimerWheel, AMillionTimersAllFireInOrder) {
  constexpr std::size_t kTimers = 1'000'000;
  TimerWheel wheel;
  std::mt19937_64 rng(6);
  for (std::size_t i = 0; i < kTimers; ++i) {
    wheel.arm(wheel.create(i), at_us(static_cast<std::int64_t>(rng() % (2 * kHourUs)) + 1));
  }
  std::size_t fired = 0;
  Instant last = kEpoch;
  bool ordered = true;
  wheel.advance(at_us(2 * kHourUs), [&](TimerId id, std::uint64_t) {
    ordered = ordered && wheel.deadline(id) >= last && wheel.deadline(id) == wheel.now();
    last = wheel.deadline(id);
    ++fired;
  });
  EXPECT_EQ(fired, kTimers);
  EXPECT_TRUE(ordered);
  EXPECT_EQ(wheel.armed_count(), 0u);
}

}  // namespace
}  // namespace synack
