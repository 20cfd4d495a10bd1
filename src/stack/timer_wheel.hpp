// TimerWheel: every TCP timer of a Stack (retransmission, delayed ACK, persist, keepalive,
// TIME_WAIT), up to millions of them, in one hierarchical timing wheel.
//
// Sans-I/O: the wheel never reads a clock and never calls anything by itself. The owner arms
// timers with absolute deadlines, asks next_deadline() when to come back, and calls
// advance(now, on_expired), which reports each expired timer as (TimerId, tag):
//
//   TimerId rto = wheel.create(tag_of(conn, TimerKind::Retransmit));
//   wheel.arm(rto, now + rto_duration);
//   ...
//   wheel.advance(now, [&](TimerId id, std::uint64_t tag) { on_timer(tag, now); });
//
// Resolution is one microsecond: a deadline is rounded up to the next whole microsecond
// (counted from the wheel's origin), and a timer never fires before its deadline. A deadline
// at or before the wheel's current time is overdue: it fires on the next advance.
//
// Structure. Time is counted in ticks of 1 µs since `origin`. Level l (0..6) has 64 slots,
// each 64^l ticks wide, and a 64-bit occupancy bitmap. A timer due at tick T, armed at wheel
// time `now`, goes to the level of the highest 6-bit digit in which T and now differ, in the
// slot named by T's digit at that level; so level 0 holds timers due within the current
// 64-tick block, level 1 those within the current 4096-tick block, and so on up to 2^42 µs
// (about 51 days). Timers further off wait in an overflow list, re-examined each time the
// wheel's time crosses a multiple of 2^42 µs. When time reaches the start of an occupied slot
// at level l >= 1, its timers move down ("cascade") to the level their remaining distance
// calls for; at level 0 a slot holds exactly one tick, and its timers fire.
//
// Timers live in a pool of nodes owned by the wheel, addressed by TimerId (an index); each
// slot is an intrusive doubly-linked list of node indices, with head and tail. Nothing is
// allocated per arm: only create() may grow the pool (reserve() preallocates it). Appending
// to a slot touches one other node (the tail), unlinking two (the neighbours).
//
// Complexity (L = 7 levels):
//   create                         amortised O(1) (O(1) after reserve, or reusing an id)
//   destroy, arm, cancel, armed,
//   deadline, tag, armed_count     O(1) worst case
//   next_deadline                  O(1): two countr_zero
//   advance                        O(1 + expired + cascaded), never proportional to the
//                                  elapsed ticks: empty stretches are skipped through the
//                                  bitmaps, and every slot visited fires or cascades at
//                                  least one timer. A timer is cascaded at most L - 1 times
//                                  over its life, plus once per 2^42 µs overflow boundary
//                                  it waits through.
//   memory                         32 bytes per timer plus about 4 KiB of list heads.
// In practice, with millions of timers the pool outgrows the caches and the cost is memory
// latency: a cascade walks a slot's list, one dependent cache miss per timer
// (bench/micro/timer_wheel_bench.cpp).
//
// Order: one advance reports timers in deadline order, ties in the order they were armed
// (a re-arm counts as a new arm). Overdue timers count as due at the wheel's time when they
// were armed.
#pragma once

#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "synack/time.hpp"

namespace synack {

// Names one timer in one TimerWheel; valid from create() until destroy(), then reusable.
enum class TimerId : std::uint32_t {};

constexpr std::uint32_t index_of(TimerId id) {
  return static_cast<std::uint32_t>(id);
}

class TimerWheel {
 public:
  static constexpr int kLevels = 7;
  static constexpr int kBitsPerLevel = 6;
  static constexpr int kSlotsPerLevel = 1 << kBitsPerLevel;              // 64
  static constexpr int kWheelBits = kLevels * kBitsPerLevel;             // 42
  static constexpr Duration kResolution = std::chrono::microseconds{1};  // one tick

  // Ticks are counted from `origin`; deadlines before it are overdue from the start.
  explicit TimerWheel(Instant origin = kEpoch);

  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;
  TimerWheel(TimerWheel&&) = default;
  TimerWheel& operator=(TimerWheel&&) = default;
  ~TimerWheel() = default;

  // Makes room for `timers` live timers, so that create() does not allocate until then.
  void reserve(std::size_t timers);

  // A new, unarmed timer carrying the owner's tag (e.g. connection index and timer kind).
  TimerId create(std::uint64_t tag);
  // Cancels the timer if armed and frees its id for reuse by a later create().
  void destroy(TimerId id);

  // Arms the timer for `deadline`, or moves it there if already armed (it then counts as
  // armed now, for the order of ties).
  void arm(TimerId id, Instant deadline);
  // Disarms the timer if armed; otherwise does nothing.
  void cancel(TimerId id);

  bool armed(TimerId id) const { return node(id).where < kIdle; }
  // The deadline the timer is (or was last) armed for, as the wheel sees it: rounded up to
  // the microsecond, and raised to the wheel's time if it was already overdue.
  Instant deadline(TimerId id) const { return at_tick(node(id).tick); }
  std::uint64_t tag(TimerId id) const { return node(id).tag; }
  void set_tag(TimerId id, std::uint64_t tag) { node(id).tag = tag; }

  std::size_t armed_count() const { return armed_count_; }
  // Timers created and not destroyed, armed or not.
  std::size_t timer_count() const { return nodes_.size() - free_count_; }
  // The wheel's time: the latest `now` given to advance, rounded down to the microsecond.
  Instant now() const { return at_tick(now_); }

  // When to call advance next, or nullopt when no timer is armed.
  //
  // Exact (the earliest deadline) when that timer is overdue or due within the current
  // 64 µs block. Otherwise it may be earlier than the earliest deadline, never later: it is
  // the start of the first occupied slot, where advance() must cascade that slot's timers
  // one level down. Hence calling advance(*next_deadline()) repeatedly reaches the earliest
  // deadline in at most L = 7 calls (one per level) for any timer within 2^42 µs of the
  // wheel's time; a timer in the overflow list adds one call per 2^42 µs boundary between
  // the wheel's time and its deadline.
  std::optional<Instant> next_deadline() const;

  // Moves the wheel's time to `now` (never backwards: an earlier `now` counts as the wheel's
  // time) and calls on_expired(TimerId, std::uint64_t tag) for every armed timer whose
  // deadline is <= now, in deadline order, ties in arm order. Each timer is disarmed just
  // before its call, so the callback may re-arm, cancel, create or destroy any timer,
  // including this one. While a timer fires, now() is its deadline; a timer armed from a
  // callback for a deadline after that and <= `now` fires within this same advance, one armed
  // for that deadline or earlier is overdue and fires on the next advance (so a callback that
  // always re-arms in the past cannot loop forever). advance must not be called from inside
  // a callback. If on_expired throws, the timers not yet reported stay expired and are
  // reported by the next advance.
  template <class F>
  void advance(Instant now, F&& on_expired) {
    assert(!advancing_ && "advance() called from inside an on_expired callback");
    if (nothing_due(now)) return;  // most polls: no walk, no guard
    AdvanceGuard guard{*this};
    begin_advance(now);
    TimerId id{};
    while (next_expired(id)) on_expired(id, node(id).tag);
  }

 private:
  // Where a node is: a slot list (level * 64 + digit), one of the special lists, or no list.
  using Where = std::uint16_t;
  static constexpr Where kSlots = kLevels * kSlotsPerLevel;  // 448 slot lists
  static constexpr Where kOverflow = kSlots;                 // beyond the wheel's 2^42 µs
  static constexpr Where kOverdue = kSlots + 1;              // due at or before now_
  static constexpr Where kFiring = kSlots + 2;               // expired, being reported
  static constexpr Where kLists = kSlots + 3;
  static constexpr Where kIdle = kLists;      // created, not armed (every list id is < kIdle)
  static constexpr Where kFree = kLists + 1;  // destroyed, on the free list
  static constexpr std::uint32_t kNil = 0xFFFFFFFF;

  struct Node {
    std::uint64_t tick = 0;  // deadline in ticks since origin_
    std::uint64_t tag = 0;
    std::uint32_t next = kNil;  // in its list, or in the free list
    std::uint32_t prev = kNil;
    Where where = kIdle;
  };
  static_assert(sizeof(Node) == 32);

  // A doubly-linked list of nodes, by index; kNil-terminated both ways.
  struct List {
    std::uint32_t head = kNil;
    std::uint32_t tail = kNil;
  };

  struct AdvanceGuard {
    TimerWheel& wheel;
    explicit AdvanceGuard(TimerWheel& w) : wheel(w) { wheel.advancing_ = true; }
    ~AdvanceGuard() { wheel.end_advance(); }
    AdvanceGuard(const AdvanceGuard&) = delete;
    AdvanceGuard& operator=(const AdvanceGuard&) = delete;
  };

  Node& node(TimerId id) {
    assert(index_of(id) < nodes_.size() && nodes_[index_of(id)].where != kFree);
    return nodes_[index_of(id)];
  }
  const Node& node(TimerId id) const {
    assert(index_of(id) < nodes_.size() && nodes_[index_of(id)].where != kFree);
    return nodes_[index_of(id)];
  }

  // Instant <-> tick, relative to origin_ (saturating; before the origin is tick 0).
  std::uint64_t tick_ceil(Instant t) const;
  std::uint64_t tick_floor(Instant t) const;
  Instant at_tick(std::uint64_t tick) const;

  // Intrusive lists.
  void push_back(Where list, std::uint32_t n);
  void unlink(std::uint32_t n);
  std::uint32_t pop_front(Where list);
  // Puts an armed node in the slot its tick calls for, relative to now_ (tick >= now_).
  void place(std::uint32_t n);
  // The tick at which the lowest occupied slot of `level` starts.
  std::uint64_t slot_start(int level) const;

  // advance(now) when it would report nothing: moves the wheel's time to `now` as the full
  // walk would and returns true; returns false, changing nothing, when a timer may be due.
  bool nothing_due(Instant now);
  void begin_advance(Instant now);
  // Clears advancing_; after an exception from on_expired, keeps the unreported expired
  // timers for the next advance.
  void end_advance();
  // The next expired timer of the current advance, disarmed; false when there is none left
  // (the wheel's time is then the target of the advance).
  bool next_expired(TimerId& id);
  // Moves now_ to the next event <= target_ (cascading on the way); true if it is a tick with
  // timers to fire, false if there is none before target_.
  bool step();
  void cascade(Where list);

  std::vector<Node> nodes_;
  std::array<List, kLists> lists_{};
  std::array<std::uint64_t, kLevels> occupancy_{};  // bit d of level l: slot l*64+d non-empty
  std::uint32_t occupied_levels_ = 0;               // bit l: occupancy_[l] != 0
  std::uint32_t free_head_ = kNil;
  std::size_t free_count_ = 0;
  std::size_t armed_count_ = 0;
  Instant origin_;
  std::uint64_t now_ = 0;     // ticks since origin_; every timer due <= now_ has fired or is
                              // in the overdue/firing lists
  std::uint64_t target_ = 0;  // of the advance in progress
  bool advancing_ = false;
};

}  // namespace synack
