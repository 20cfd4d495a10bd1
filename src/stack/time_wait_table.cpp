// The compact TIME_WAIT table: rings per profile, the 4-tuple index, the port counts.
#include "stack/time_wait_table.hpp"

#include "stack/tuple_hash.hpp"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstdlib>

namespace synack {

namespace {
constexpr std::size_t kPorts = 65536;
constexpr std::uint32_t kMinRing = 16;
[[noreturn]] void broken(const char* what) {
  std::fprintf(stderr, "synack: TIME_WAIT table invariant violated: %s\n", what);
  std::abort();
}
}  // namespace

std::int64_t TimeWaitTable::ceil_us(Instant t) {
  const std::int64_t ns = to_nanos(t);
  return ns / 1000 + (ns % 1000 > 0 ? 1 : 0);
}

bool TimeWaitTable::due(std::int64_t expiry_us, Instant now) {
  // The timer wheel's rule (timer_wheel.hpp): a deadline counts from its microsecond
  // rounded up, `now` from its microsecond rounded down.
  return expiry_us <= to_nanos(now) / 1000;
}

bool TimeWaitTable::set_expiry(std::size_t r, Entry& e, std::int64_t expiry_us) {
  Ring& ring = rings_[r];
  if (ring.used == 0) ring.base_us = expiry_us;
  if (expiry_us < ring.base_us) return false;
  if (expiry_us - ring.base_us > std::int64_t{0xffffffff}) {
    // Move the base up to the front's expiry, the ring's least (dead slots lie behind it
    // and expire no earlier).
    const std::uint32_t delta = ring.slots[ring.head].expiry;
    for (std::uint32_t i = 0; i < ring.used; ++i)
      ring.slots[(ring.head + i) & ring.mask()].expiry -= delta;
    ring.base_us += delta;
    if (expiry_us - ring.base_us > std::int64_t{0xffffffff}) return false;
  }
  e.expiry = static_cast<std::uint32_t>(expiry_us - ring.base_us);
  return true;
}

FourTuple TimeWaitTable::tuple_of(const Entry& e) const {
  return FourTuple{{local_, e.local_port}, {Ipv4Address(e.remote_address), e.remote_port}};
}

FourTuple TimeWaitTable::tuple(Handle h) const {
  return tuple_of(slot(h));
}

std::size_t TimeWaitTable::hash(const FourTuple& t) const {
  return tuple_hash(key_, t);
}

std::optional<TimeWaitTable::Handle> TimeWaitTable::find(const FourTuple& t) const {
  if (live_ == 0 || t.local.address != local_) return std::nullopt;
  const std::size_t i = index_.find(hash(t), [&](Handle h) {
    const Entry& e = slot(h);
    return e.local_port == t.local.port && e.remote_port == t.remote.port &&
           e.remote_address == t.remote.address.to_u32();
  });
  if (i == FlatIndex::npos) return std::nullopt;
  return index_.at(i);
}

std::size_t TimeWaitTable::index_slot_of(Handle h) const {
  const std::size_t i = index_.find(hash(tuple(h)), [h](Handle x) { return x == h; });
  if (i == FlatIndex::npos) broken("an entry missing from the index");
  return i;
}

void TimeWaitTable::index_insert(Handle h) {
  index_.insert(h, hash(tuple(h)));
}

void TimeWaitTable::index_erase(std::size_t i) {
  index_.erase(i, [this](Handle h) { return hash(tuple(h)); });
}

void TimeWaitTable::rebuild_index() {
  index_.reset(live_ + 1);
  for (std::size_t r = 0; r < rings_.size(); ++r) {
    const Ring& ring = rings_[r];
    for (std::uint32_t i = 0; i < ring.used; ++i) {
      const Handle h = handle(r, (ring.head + i) & ring.mask());
      if (!(slot(h).flags & kDead)) index_insert(h);
    }
  }
}

TimeWaitTable::Handle TimeWaitTable::append(std::size_t r, const Entry& e) {
  Ring& ring = rings_[r];
  if (ring.used == ring.slots.size()) {
    if (ring.dead * 2 >= ring.used && ring.dead > 0) {
      compact(r);
    } else {
      // Grow: the ring unrolled into a buffer twice its size, front first.
      std::vector<Entry> grown(std::max<std::size_t>(kMinRing, ring.slots.size() * 2));
      for (std::uint32_t i = 0; i < ring.used; ++i) {
        grown[i] = ring.slots[(ring.head + i) & ring.mask()];
      }
      ring.slots = std::move(grown);
      ring.head = 0;
      rebuild_index();
    }
  }
  const std::uint32_t pos = (ring.head + ring.used) & ring.mask();
  ring.slots[pos] = e;
  ++ring.used;
  ring.last_expiry = ring.base_us + e.expiry;
  return handle(r, pos);
}

void TimeWaitTable::compact(std::size_t r) {
  Ring& ring = rings_[r];
  std::vector<Entry> kept(ring.slots.size());
  std::uint32_t n = 0;
  for (std::uint32_t i = 0; i < ring.used; ++i) {
    const Entry& e = ring.slots[(ring.head + i) & ring.mask()];
    if (!(e.flags & kDead)) kept[n++] = e;
  }
  ring.slots = std::move(kept);
  ring.head = 0;
  ring.used = n;
  ring.dead = 0;
  rebuild_index();
}

void TimeWaitTable::pop_dead_fronts(Ring& ring) {
  while (ring.used > 0 && (ring.slots[ring.head].flags & kDead)) {
    ring.slots[ring.head] = Entry{};
    ring.head = (ring.head + 1) & ring.mask();
    --ring.used;
    --ring.dead;
  }
  if (ring.used == 0) {
    ring.head = 0;
    // An empty ring gives its memory back once it has been large.
    if (ring.slots.size() > kMinRing) std::vector<Entry>(kMinRing).swap(ring.slots);
  }
}

void TimeWaitTable::count_port(std::uint16_t port, int delta) {
  if (ports_.empty()) ports_.assign(kPorts, 0);
  ports_[port] = static_cast<std::uint32_t>(static_cast<std::int64_t>(ports_[port]) + delta);
  if (live_ == 0) std::vector<std::uint32_t>().swap(ports_);
}

bool TimeWaitTable::insert(const FourTuple& t, const tcp::TimeWaitState& s) {
  if (t.local.address != local_ || contains(t)) return false;
  // MAX.SND.WND: exactly as 16 bits, shifted or not.
  std::uint16_t max_wnd = 0;
  bool scaled = false;
  if (s.max_snd_wnd <= 0xffff) {
    max_wnd = static_cast<std::uint16_t>(s.max_snd_wnd);
  } else if ((s.max_snd_wnd >> s.snd_wscale) <= 0xffff &&
             (s.max_snd_wnd >> s.snd_wscale) << s.snd_wscale == s.max_snd_wnd) {
    max_wnd = static_cast<std::uint16_t>(s.max_snd_wnd >> s.snd_wscale);
    scaled = true;
  } else {
    return false;
  }
  const Profile p{s.msl, s.challenge_ack_limit, s.challenge_ack_window};
  auto it =
      std::find_if(rings_.begin(), rings_.end(), [&](const Ring& r) { return r.profile == p; });
  if (it == rings_.end()) {
    if (rings_.size() >= kMaxProfiles) return false;
    rings_.push_back(Ring{p, std::vector<Entry>(kMinRing)});
    it = rings_.end() - 1;
  }
  const auto r = static_cast<std::size_t>(it - rings_.begin());
  // Kept in expiry order, or not at all.
  const std::int64_t expiry_us = ceil_us(s.expiry);
  if (it->used > 0 && expiry_us < it->last_expiry) return false;
  // 2·MSL must fit the 32-bit offsets with room to spare.
  if (2 * s.msl >= microseconds(std::int64_t{1} << 31)) return false;
  if (it->used >= (1u << kSlotBits) - 1) return false;
  Entry e;
  e.remote_address = t.remote.address.to_u32();
  e.local_port = t.local.port;
  e.remote_port = t.remote.port;
  e.snd_nxt = s.snd_nxt.raw();
  e.rcv_nxt = s.rcv_nxt.raw();
  e.snd_wl1 = s.snd_wl1.raw();
  e.ts_recent = s.ts_recent;
  e.ts_offset = s.ts_offset;
  e.window = s.window;
  e.max_snd_wnd = max_wnd;
  e.scales = static_cast<std::uint8_t>((s.rcv_wscale & 0xf) | (s.snd_wscale << 4));
  e.flags = static_cast<std::uint8_t>((s.ts_ok ? kTimestamps : 0) | (s.sack_ok ? kSack : 0) |
                                      (scaled ? kMaxWndScaled : 0));
  if (s.challenge_acks_in_window > 0) {
    e.flags |= kChallenged;
    challenges_[t] = Challenge{s.challenge_window_start, s.challenge_acks_in_window};
  }
  if (!set_expiry(r, e, expiry_us)) return false;
  if (index_.full()) {
    ++live_;  // sizes the index for the new entry too
    rebuild_index();
    --live_;
  }
  const Handle h = append(r, e);
  ++live_;
  index_insert(h);
  count_port(t.local.port, +1);
  return true;
}

tcp::TimeWaitState TimeWaitTable::state(Handle h) const {
  const Entry& e = slot(h);
  const Profile& p = rings_[ring_of(h)].profile;
  tcp::TimeWaitState s;
  s.snd_nxt = tcp::Seq(e.snd_nxt);
  s.rcv_nxt = tcp::Seq(e.rcv_nxt);
  s.window = e.window;
  s.rcv_wscale = e.scales & 0xf;
  s.snd_wscale = static_cast<std::uint8_t>(e.scales >> 4);
  s.max_snd_wnd = std::uint32_t{e.max_snd_wnd} << ((e.flags & kMaxWndScaled) ? s.snd_wscale : 0);
  s.snd_wl1 = tcp::Seq(e.snd_wl1);
  s.ts_ok = (e.flags & kTimestamps) != 0;
  s.sack_ok = (e.flags & kSack) != 0;
  s.ts_recent = e.ts_recent;
  s.ts_offset = e.ts_offset;
  s.expiry = from_nanos(expiry_of(h) * 1000);
  if (e.flags & kChallenged) {
    const Challenge& c = challenges_.at(tuple_of(e));
    s.challenge_window_start = c.window_start;
    s.challenge_acks_in_window = c.acks_in_window;
  }
  s.msl = p.msl;
  s.challenge_ack_limit = p.challenge_ack_limit;
  s.challenge_ack_window = p.challenge_ack_window;
  return s;
}

void TimeWaitTable::update(Handle h, const tcp::TimeWaitState& s, bool restart, Instant now) {
  Entry& e = slot(h);
  const FourTuple t = tuple_of(e);
  e.ts_recent = s.ts_recent;
  e.snd_wl1 = s.snd_wl1.raw();
  // A raised MAX.SND.WND is a window the peer sent, shifted by its scale.
  const std::uint32_t held = std::uint32_t{e.max_snd_wnd}
                             << ((e.flags & kMaxWndScaled) ? (e.scales >> 4) : 0);
  if (s.max_snd_wnd != held) {
    e.max_snd_wnd = static_cast<std::uint16_t>(s.max_snd_wnd >> s.snd_wscale);
    e.flags |= kMaxWndScaled;
  }
  if (s.challenge_acks_in_window > 0) {
    e.flags |= kChallenged;
    challenges_[t] = Challenge{s.challenge_window_start, s.challenge_acks_in_window};
  }
  if (!restart) return;
  const std::int64_t expiry_us = ceil_us(now + 2 * rings_[ring_of(h)].profile.msl);
  Ring& ring = rings_[ring_of(h)];
  if (pos_of(h) == ((ring.head + ring.used - 1) & ring.mask())) {
    // The back already: its expiry is still the ring's latest.
    if (set_expiry(ring_of(h), e, expiry_us)) ring.last_expiry = expiry_us;
    return;
  }
  Entry moved = e;
  // Out of its place in the order: a dead slot here, the entry at the back.
  index_erase(index_slot_of(h));
  e.flags |= kDead;
  ++ring.dead;
  const std::size_t r = ring_of(h);
  pop_dead_fronts(rings_[r]);
  // The ring may have emptied (and its base with it): the new expiry sets it again.
  if (!set_expiry(r, moved, expiry_us)) broken("a restarted expiry out of range");
  const Handle moved_to = append(r, moved);
  index_insert(moved_to);
}

void TimeWaitTable::erase(Handle h) {
  Entry& e = slot(h);
  const FourTuple t = tuple_of(e);
  index_erase(index_slot_of(h));
  if (e.flags & kChallenged) challenges_.erase(t);
  e.flags = kDead;
  Ring& ring = rings_[ring_of(h)];
  ++ring.dead;
  pop_dead_fronts(ring);
  --live_;
  count_port(t.local.port, -1);
  if (live_ == 0) {
    rings_.clear();
    index_.release();
  }
}

std::optional<TimeWaitTable::Handle> TimeWaitTable::earliest() const {
  std::optional<Handle> best;
  for (std::size_t r = 0; r < rings_.size(); ++r) {
    const Ring& ring = rings_[r];
    if (ring.used == 0) continue;
    const Handle h = handle(r, ring.head);  // a live front (pop_dead_fronts)
    if (!best || expiry_of(h) < expiry_of(*best)) best = h;
  }
  return best;
}

std::optional<Instant> TimeWaitTable::next_deadline() const {
  const auto h = earliest();
  if (!h) return std::nullopt;
  return from_nanos(expiry_of(*h) * 1000);
}

std::size_t TimeWaitTable::memory_bytes() const {
  std::size_t bytes = index_.memory_bytes() + ports_.capacity() * sizeof(std::uint32_t);
  for (const Ring& r : rings_) bytes += r.slots.capacity() * sizeof(Entry);
  return bytes + challenges_.size() * (sizeof(FourTuple) + sizeof(Challenge));
}

void TimeWaitTable::check_invariants() const {
  std::size_t live = 0, indexed = 0;
  for (std::size_t r = 0; r < rings_.size(); ++r) {
    const Ring& ring = rings_[r];
    if (ring.used > ring.slots.size()) broken("a ring holds more than its size");
    if (ring.used > 0 && (ring.slots[ring.head].flags & kDead)) broken("a dead front");
    std::uint32_t dead = 0;
    std::optional<std::int64_t> last;
    for (std::uint32_t i = 0; i < ring.used; ++i) {
      const Handle h = handle(r, (ring.head + i) & ring.mask());
      const Entry& e = slot(h);
      if (e.flags & kDead) {
        ++dead;
        continue;
      }
      ++live;
      if (last && expiry_of(h) < *last) broken("a ring out of expiry order");
      last = expiry_of(h);
      if (find(tuple_of(e)) != h) broken("an entry not found by its 4-tuple");
      if (ports_.empty() || ports_[e.local_port] == 0) broken("a port not counted");
    }
    if (dead != ring.dead) broken("a ring's dead count");
  }
  for (Handle h : index_.slots()) indexed += h != FlatIndex::kEmpty;
  if (live != live_ || indexed != live_) broken("the live count");
}

}  // namespace synack
