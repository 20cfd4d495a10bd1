// The compact TIME_WAIT table: orphaned connections waiting out 2·MSL, each in 40 bytes
// instead of a whole tcp::Connection (its slab slot, demux entry and wheel timer).
//
// Layout. Entries with the same settings (MSL and the RFC 5961 §7 challenge-ACK budget, a
// "profile"; at most kMaxProfiles per stack) live in one power-of-two circular buffer, in
// the order they were appended. Every entry of a ring waits the same 2·MSL from the moment
// it was appended (or from a moment before it), so the ring is sorted by expiry and its
// front is its earliest: next_deadline() is the least of the fronts, never late, however
// the MSLs of the rings differ. A retransmitted FIN restarts the wait (RFC 9293): the entry
// moves to the back of its ring with the new expiry, leaving a dead slot that is popped when
// it reaches the front (or squeezed out when dead slots outnumber live ones). An entry whose
// expiry would come before the last one of its ring (a socket closed some time after its
// connection entered TIME_WAIT) is refused: the connection then keeps its own timer.
//
// Lookup is by 4-tuple through an open-addressing index of uint32 handles (ring and slot),
// keyed (stack/tuple_hash.hpp) so no peer can aim its tuples at one chain (base/flat_index.hpp,
// shared with the stack's demux). The stack has one local address, so an entry keeps the local
// port, the remote address and port. The local ports in use are counted per port in a 256 KiB array
// made with the first entry and freed with the last, so bind() and the ephemeral port search see
// them without a map node per port.
//
// A challenge ACK's budget (RFC 5961 §7) is kept beside the table, by 4-tuple, only for
// entries that have spent some of it: most never do.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "base/flat_index.hpp"
#include "base/siphash.hpp"
#include "synack/endpoint.hpp"
#include "synack/time.hpp"
#include "tcp/time_wait.hpp"

namespace synack {

class TimeWaitTable {
 public:
  using Handle = std::uint32_t;
  static constexpr std::size_t kMaxProfiles = 16;

  TimeWaitTable(const SipKey& key, Ipv4Address local) : key_(key), local_(local) {}

  // Takes over the wait of `tuple`; false when the table cannot keep it exactly (see above),
  // and the connection then stays.
  bool insert(const FourTuple& tuple, const tcp::TimeWaitState& s);
  std::optional<Handle> find(const FourTuple& tuple) const;
  bool contains(const FourTuple& tuple) const { return find(tuple).has_value(); }
  FourTuple tuple(Handle h) const;
  tcp::TimeWaitState state(Handle h) const;
  // Stores `s` back (TS.Recent, MAX.SND.WND, the challenge budget). With `restart` the wait
  // starts again at `now`: the entry moves to the back of its ring.
  void update(Handle h, const tcp::TimeWaitState& s, bool restart, Instant now);
  void erase(Handle h);

  // Removes every entry whose wait is over at `now`, earliest first, calling
  // on_expired(const FourTuple&) after each. Due as the stack's timer wheel would fire a
  // timer for the same deadline: at the first whole microsecond at or after it.
  template <class F>
  void expire(Instant now, F&& on_expired) {
    for (;;) {
      const std::optional<Handle> h = earliest();
      if (!h || !due(expiry_of(*h), now)) return;
      const FourTuple t = tuple(*h);
      erase(*h);
      on_expired(t);
    }
  }
  // When expire() next has work (rounded up to the microsecond), or nullopt when empty.
  std::optional<Instant> next_deadline() const;

  std::size_t size() const { return live_; }
  bool uses_port(std::uint16_t port) const { return !ports_.empty() && ports_[port] > 0; }
  // Every entry, in no particular order: f(const FourTuple&, const tcp::TimeWaitState&).
  template <class F>
  void for_each(F&& f) const {
    for (std::size_t r = 0; r < rings_.size(); ++r) {
      const Ring& ring = rings_[r];
      for (std::uint32_t i = 0; i < ring.used; ++i) {
        const Handle h = handle(r, (ring.head + i) & ring.mask());
        if (!(slot(h).flags & kDead)) f(tuple(h), state(h));
      }
    }
  }
  // Bytes held (for the memory figures).
  std::size_t memory_bytes() const;
  // The table agrees with itself: every live entry indexed once, rings sorted, counts right.
  // Aborts with a message otherwise.
  void check_invariants() const;

 private:
  // 40 bytes. The expiry is kept as the timer wheel sees a deadline, in whole microseconds
  // rounded up (due() and next_deadline() need no more), counted from its ring's base: every
  // entry of a ring expires within 2·MSL of now, so 32 bits hold it (MSLs of 35 minutes and
  // more are refused), and the base moves up when an offset would outgrow them.
  struct Entry {
    std::uint32_t expiry = 0;  // microseconds after the ring's base
    std::uint32_t remote_address = 0;
    std::uint16_t local_port = 0, remote_port = 0;
    std::uint32_t snd_nxt = 0, rcv_nxt = 0, snd_wl1 = 0;
    std::uint32_t ts_recent = 0, ts_offset = 0;
    std::uint16_t window = 0;
    // MAX.SND.WND is the SYN's window (< 2^16) or a window shifted by the peer's scale:
    // kept as 16 bits and whether the shift applies.
    std::uint16_t max_snd_wnd = 0;
    std::uint8_t scales = 0;  // RCV.Wind.Shift | SND.Wind.Shift << 4
    std::uint8_t flags = 0;
  };
  static_assert(sizeof(Entry) == 40);
  static constexpr std::uint8_t kDead = 1, kTimestamps = 2, kSack = 4, kMaxWndScaled = 8,
                                kChallenged = 16;

  struct Profile {
    Duration msl{};
    std::uint32_t challenge_ack_limit = 0;
    Duration challenge_ack_window{};
    friend bool operator==(const Profile&, const Profile&) = default;
  };
  struct Ring {
    Profile profile;
    std::vector<Entry> slots;  // power-of-two size
    std::uint32_t head = 0;    // the front
    std::uint32_t used = 0;    // slots from the front in use, live or dead
    std::uint32_t dead = 0;
    std::int64_t base_us = 0;      // what expiry offsets count from
    std::int64_t last_expiry = 0;  // of the entry appended last (µs): appends never go below
    std::uint32_t mask() const { return static_cast<std::uint32_t>(slots.size()) - 1; }
  };
  struct Challenge {
    Instant window_start{};
    std::uint32_t acks_in_window = 0;
  };

  static constexpr std::uint32_t kSlotBits = 28;
  static constexpr Handle kEmpty = ~Handle{0};
  static Handle handle(std::size_t ring, std::uint32_t pos) {
    return static_cast<Handle>(ring << kSlotBits) | pos;
  }
  static std::size_t ring_of(Handle h) { return h >> kSlotBits; }
  static std::uint32_t pos_of(Handle h) { return h & ((1u << kSlotBits) - 1); }
  // The microsecond of an entry's expiry, and an instant's (rounded up, as the wheel does).
  std::int64_t expiry_of(Handle h) const { return rings_[ring_of(h)].base_us + slot(h).expiry; }
  static std::int64_t ceil_us(Instant t);
  static bool due(std::int64_t expiry_us, Instant now);
  // Sets e.expiry to `expiry_us` in ring r, moving the ring's base up if the offset would
  // outgrow 32 bits; false if it cannot be held.
  bool set_expiry(std::size_t r, Entry& e, std::int64_t expiry_us);
  const Entry& slot(Handle h) const { return rings_[ring_of(h)].slots[pos_of(h)]; }
  Entry& slot(Handle h) { return rings_[ring_of(h)].slots[pos_of(h)]; }
  FourTuple tuple_of(const Entry& e) const;
  std::optional<Handle> earliest() const;

  std::size_t hash(const FourTuple& t) const;
  // The index slot holding `h` (which must be indexed).
  std::size_t index_slot_of(Handle h) const;
  void index_insert(Handle h);
  void index_erase(std::size_t i);
  void rebuild_index();
  // Appends to ring `r`, growing it; returns the new entry's handle.
  Handle append(std::size_t r, const Entry& e);
  void pop_dead_fronts(Ring& ring);
  // Squeezes the dead slots out of ring `r` and re-indexes.
  void compact(std::size_t r);
  void count_port(std::uint16_t port, int delta);

  SipKey key_;
  Ipv4Address local_;
  std::vector<Ring> rings_;
  FlatIndex index_;
  std::size_t live_ = 0;
  std::vector<std::uint32_t> ports_;  // per local port: entries using it; empty when none
  std::unordered_map<FourTuple, Challenge> challenges_;
};

}  // namespace synack
