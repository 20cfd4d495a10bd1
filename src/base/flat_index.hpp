// FlatIndex: an open-addressing hash index of 32-bit handles, for tables whose entries live
// elsewhere (a slab, a ring) and carry their own key: 4 bytes a slot where a node-based map
// spends a 40-byte node and a bucket per entry.
//
// Linear probing at load <= 1/2 (an empty slot always ends a probe), deletion by backward
// shift (no tombstones). The owner hashes its keys (keyed, where peers choose them, so no
// one can aim keys at one cluster) and says which handle matches; the index stores neither
// keys nor hashes, so erasing and growing ask the owner for a member's hash (hash_of).
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace synack {

class FlatIndex {
 public:
  using Handle = std::uint32_t;
  static constexpr Handle kEmpty = ~Handle{0};
  static constexpr std::size_t npos = ~std::size_t{0};

  std::size_t size() const { return size_; }
  std::size_t memory_bytes() const { return slots_.capacity() * sizeof(Handle); }
  const std::vector<Handle>& slots() const { return slots_; }

  // Empties the index, sized for `members` at load <= 1/2 (at least 16 slots).
  void reset(std::size_t members) {
    std::size_t n = 16;
    while (n < 2 * members) n *= 2;
    slots_.assign(n, kEmpty);
    size_ = 0;
  }
  // Empties the index and gives its memory back.
  void release() {
    std::vector<Handle>().swap(slots_);
    size_ = 0;
  }
  // One more member would take the load over 1/2.
  bool full() const { return 2 * (size_ + 1) > slots_.size(); }

  // The slot of the member for which match(Handle) holds, probing from `hash`; npos if none.
  template <class Match>
  std::size_t find(std::size_t hash, Match&& match) const {
    if (size_ == 0) return npos;
    const std::size_t mask = slots_.size() - 1;
    // Bounded: the load is at most one half, so an empty slot always ends the probe.
    for (std::size_t i = hash & mask, n = 0; n < slots_.size(); i = (i + 1) & mask, ++n) {
      const Handle h = slots_[i];
      if (h == kEmpty) return npos;
      if (match(h)) return i;
    }
    return npos;
  }
  Handle at(std::size_t slot) const { return slots_[slot]; }
  // Makes `slot` name another member with the same key.
  void replace(std::size_t slot, Handle h) { slots_[slot] = h; }

  // Adds `h` (not a member) whose key hashes to `hash`; the index must not be full().
  void insert(Handle h, std::size_t hash) {
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = hash & mask;
    while (slots_[i] != kEmpty) i = (i + 1) & mask;  // the load <= 1/2 leaves a free slot
    slots_[i] = h;
    ++size_;
  }
  // As insert, growing first (twice the slots, every member re-placed) when full.
  template <class HashOf>
  void insert_growing(Handle h, std::size_t hash, HashOf&& hash_of) {
    if (full()) {
      std::vector<Handle> old;
      old.swap(slots_);
      const std::size_t members = size_;
      reset(members + 1);
      for (Handle m : old) {
        if (m != kEmpty) insert(m, hash_of(m));
      }
    }
    insert(h, hash);
  }

  // Removes the member at `slot` (from find()).
  template <class HashOf>
  void erase(std::size_t slot, HashOf&& hash_of) {
    // Backward-shift deletion (Knuth 6.4 Algorithm R): later members of the cluster that
    // could sit in the hole move into it, so a probe never stops short of them.
    const std::size_t mask = slots_.size() - 1;
    std::size_t hole = slot;
    for (std::size_t j = (slot + 1) & mask; slots_[j] != kEmpty; j = (j + 1) & mask) {
      const std::size_t home = hash_of(slots_[j]) & mask;
      // Stays if its home lies cyclically in (hole, j].
      const bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
      if (stays) continue;
      slots_[hole] = slots_[j];
      hole = j;
    }
    slots_[hole] = kEmpty;
    --size_;
  }

 private:
  std::vector<Handle> slots_;  // power-of-two size, kEmpty where free
  std::size_t size_ = 0;
};

}  // namespace synack
