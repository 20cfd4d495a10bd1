// TimerWheel: how the levels, bitmaps and intrusive lists work (see the header for what).
//
// Invariant between operations (now_ = the wheel's time in ticks):
//   - the overdue and firing lists hold timers due at or before now_;
//   - a timer at level l is due at tick T > now_, T agrees with now_ in every digit above l,
//     and T's digit at l is greater than now_'s. So each level's occupied slots all lie ahead
//     of now_ within the current block of the level above, no slot is ever "behind" the
//     current position, and every event at level l comes before every event at level l + 1:
//     the lowest occupied slot of the lowest occupied level is the next thing to happen;
//   - a timer in the overflow list is due at or after the next multiple of 2^42 ticks.
#include "stack/timer_wheel.hpp"

#include <algorithm>
#include <bit>
#include <limits>

namespace synack {
namespace {

constexpr std::uint64_t kNanosPerTick = 1000;
constexpr std::uint64_t kDigitMask = TimerWheel::kSlotsPerLevel - 1;
constexpr std::uint64_t kWheelSpan = std::uint64_t{1} << TimerWheel::kWheelBits;

static_assert(std::chrono::duration_cast<Duration>(TimerWheel::kResolution).count() ==
              kNanosPerTick);

// Ticks from origin_ to t, exact in unsigned arithmetic (t > origin).
std::uint64_t nanos_after(Instant origin, Instant t) {
  return static_cast<std::uint64_t>(to_nanos(t)) - static_cast<std::uint64_t>(to_nanos(origin));
}

}  // namespace

TimerWheel::TimerWheel(Instant origin) : origin_(origin) {}

void TimerWheel::reserve(std::size_t timers) {
  nodes_.reserve(timers);
}

TimerId TimerWheel::create(std::uint64_t tag) {
  std::uint32_t n = free_head_;
  if (n != kNil) {
    free_head_ = nodes_[n].next;
    --free_count_;
  } else {
    assert(nodes_.size() < kNil && "TimerWheel pool exhausted");
    n = static_cast<std::uint32_t>(nodes_.size());
    nodes_.emplace_back();
  }
  nodes_[n] = Node{.tick = now_, .tag = tag, .next = kNil, .prev = kNil, .where = kIdle};
  return TimerId{n};
}

void TimerWheel::destroy(TimerId id) {
  cancel(id);
  Node& x = node(id);
  x.where = kFree;
  x.next = free_head_;
  free_head_ = index_of(id);
  ++free_count_;
}

void TimerWheel::arm(TimerId id, Instant deadline) {
  const std::uint32_t n = index_of(id);
  Node& x = node(id);
  if (x.where < kIdle) {
    unlink(n);
  } else {
    ++armed_count_;
  }
  const std::uint64_t tick = tick_ceil(deadline);
  if (tick <= now_) {
    x.tick = now_;
    push_back(kOverdue, n);
  } else {
    x.tick = tick;
    place(n);
  }
}

void TimerWheel::cancel(TimerId id) {
  if (node(id).where < kIdle) {
    unlink(index_of(id));
    --armed_count_;
  }
}

std::optional<Instant> TimerWheel::next_deadline() const {
  if (lists_[kFiring].head != kNil || lists_[kOverdue].head != kNil) return at_tick(now_);
  if (occupied_levels_ != 0) return at_tick(slot_start(std::countr_zero(occupied_levels_)));
  if (lists_[kOverflow].head != kNil) return at_tick((now_ | (kWheelSpan - 1)) + 1);
  return std::nullopt;
}

// --- Instant <-> tick ----------------------------------------------------------------------

std::uint64_t TimerWheel::tick_ceil(Instant t) const {
  if (t <= origin_) return 0;
  const std::uint64_t ns = nanos_after(origin_, t);
  return ns / kNanosPerTick + (ns % kNanosPerTick != 0 ? 1 : 0);
}

std::uint64_t TimerWheel::tick_floor(Instant t) const {
  if (t <= origin_) return 0;
  return nanos_after(origin_, t) / kNanosPerTick;
}

Instant TimerWheel::at_tick(std::uint64_t tick) const {
  const auto origin = static_cast<std::uint64_t>(to_nanos(origin_));
  const std::uint64_t room = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) -
                             origin;  // nanoseconds representable after the origin
  if (tick > room / kNanosPerTick) return Instant::max();
  return from_nanos(static_cast<std::int64_t>(origin + tick * kNanosPerTick));
}

// --- intrusive lists -----------------------------------------------------------------------

void TimerWheel::push_back(Where list, std::uint32_t n) {
  Node& x = nodes_[n];
  List& l = lists_[list];
  x.where = list;
  x.next = kNil;
  x.prev = l.tail;
  if (l.tail != kNil) {
    nodes_[l.tail].next = n;  // the only other node touched: appending is one cache line
  } else {
    l.head = n;
    if (list < kSlots) {
      const int level = list / kSlotsPerLevel;
      occupancy_[static_cast<std::size_t>(level)] |= std::uint64_t{1} << (list & kDigitMask);
      occupied_levels_ |= 1u << level;
    }
  }
  l.tail = n;
}

void TimerWheel::unlink(std::uint32_t n) {
  Node& x = nodes_[n];
  const Where list = x.where;
  List& l = lists_[list];
  if (x.prev != kNil) {
    nodes_[x.prev].next = x.next;
  } else {
    l.head = x.next;
  }
  if (x.next != kNil) {
    nodes_[x.next].prev = x.prev;
  } else {
    l.tail = x.prev;
  }
  if (l.head == kNil && list < kSlots) {
    const int level = list / kSlotsPerLevel;
    std::uint64_t& bits = occupancy_[static_cast<std::size_t>(level)];
    bits &= ~(std::uint64_t{1} << (list & kDigitMask));
    if (bits == 0) occupied_levels_ &= ~(1u << level);
  }
  x.next = kNil;
  x.prev = kNil;
  x.where = kIdle;
}

std::uint32_t TimerWheel::pop_front(Where list) {
  const std::uint32_t n = lists_[list].head;
  unlink(n);
  return n;
}

void TimerWheel::place(std::uint32_t n) {
  const std::uint64_t tick = nodes_[n].tick;
  assert(tick >= now_);
  // The highest differing bit picks the level; T == now_ (only when cascading) is level 0.
  const auto top_bit = static_cast<int>(std::bit_width((tick ^ now_) | 1)) - 1;
  const int level = top_bit / kBitsPerLevel;
  if (level >= kLevels) {
    push_back(kOverflow, n);
    return;
  }
  const std::uint64_t digit = (tick >> (level * kBitsPerLevel)) & kDigitMask;
  push_back(static_cast<Where>(level * kSlotsPerLevel + static_cast<int>(digit)), n);
}

std::uint64_t TimerWheel::slot_start(int level) const {
  const auto digit =
      static_cast<std::uint64_t>(std::countr_zero(occupancy_[static_cast<std::size_t>(level)]));
  const int block_bits = (level + 1) * kBitsPerLevel;
  const std::uint64_t block = now_ & ~((std::uint64_t{1} << block_bits) - 1);
  return block | (digit << (level * kBitsPerLevel));
}

// --- advance -------------------------------------------------------------------------------

bool TimerWheel::nothing_due(Instant now) {
  // What begin_advance and next_expired find when nothing expires: no overdue or firing
  // timer, the current tick's slot empty, and the first event step() would take (the start
  // of the first occupied slot, or the next overflow boundary) beyond the target.
  if (lists_[kFiring].head != kNil || lists_[kOverdue].head != kNil) return false;
  if (lists_[now_ & kDigitMask].head != kNil) return false;
  const std::uint64_t target = std::max(tick_floor(now), now_);
  if (occupied_levels_ != 0) {
    if (slot_start(std::countr_zero(occupied_levels_)) <= target) return false;
  } else if (lists_[kOverflow].head != kNil) {
    if (((now_ | (kWheelSpan - 1)) + 1) <= target) return false;
  }
  now_ = target;
  return true;
}

void TimerWheel::begin_advance(Instant now) {
  target_ = std::max(tick_floor(now), now_);
  // Overdue timers go first, behind any left unreported by an exception.
  while (lists_[kOverdue].head != kNil) push_back(kFiring, pop_front(kOverdue));
}

void TimerWheel::end_advance() {
  advancing_ = false;
  // Empty unless on_expired threw while this tick's slot was being reported.
  const auto current = static_cast<Where>(now_ & kDigitMask);
  while (lists_[current].head != kNil) push_back(kFiring, pop_front(current));
}

bool TimerWheel::next_expired(TimerId& id) {
  for (;;) {
    Where list = kFiring;
    if (lists_[list].head == kNil) {
      list = static_cast<Where>(now_ & kDigitMask);  // level 0, the current tick
      if (lists_[list].head == kNil) {
        if (step()) continue;
        now_ = target_;
        return false;
      }
    }
    id = TimerId{pop_front(list)};
    --armed_count_;
    return true;
  }
}

bool TimerWheel::step() {
  for (;;) {
    std::uint64_t event = 0;
    Where list = kOverflow;
    if (occupied_levels_ != 0) {
      const int level = std::countr_zero(occupied_levels_);
      event = slot_start(level);
      list = static_cast<Where>(level * kSlotsPerLevel +
                                std::countr_zero(occupancy_[static_cast<std::size_t>(level)]));
    } else if (lists_[kOverflow].head != kNil) {
      event = (now_ | (kWheelSpan - 1)) + 1;
    } else {
      return false;
    }
    if (event > target_) return false;
    assert(event > now_);
    now_ = event;
    if (list < kSlotsPerLevel) return true;  // a level-0 slot: one tick's timers, due now
    cascade(list);
    if (lists_[now_ & kDigitMask].head != kNil) return true;  // some were due exactly now
  }
}

void TimerWheel::cascade(Where list) {
  if (list != kOverflow) {
    // Every timer of a slot starting at now_ lands on a lower level, never back here.
    while (lists_[list].head != kNil) place(pop_front(list));
    return;
  }
  // Overflow timers may return to the overflow list: detach it before re-placing them.
  std::uint32_t n = lists_[kOverflow].head;
  lists_[kOverflow] = List{};
  while (n != kNil) {
    const std::uint32_t next = nodes_[n].next;
    place(n);
    n = next;
  }
}

}  // namespace synack
