// Seq: a TCP sequence number, a 32-bit value compared modulo 2^32 (RFC 9293 §3.4).
//
// Sequence space is a circle, so there is no total order: only "a is before b" for two
// numbers less than 2^31 apart. The type therefore has == and !=, modular arithmetic, and
// named comparisons (before, after, before_eq, after_eq, in_window, between), and on purpose
// no operator< or <=>: a Seq cannot slip into a std::map or std::sort by accident
// (DESIGN.md principle 4).
//
//   if (before(snd_una, seg.ack) && before_eq(seg.ack, snd_nxt)) { /* acceptable ACK */ }
//   if (in_window(seg.seq, rcv_nxt, rcv_wnd)) { /* first octet is in the window */ }
//
// The half-space ambiguity: two numbers exactly 2^31 apart are each both "before" and
// "after" the other (the signed distance is INT32_MIN both ways, as with Linux's before() and
// after()). RFC 1982 leaves this comparison undefined; TCP never meets it, since windows are
// at most 2^30 (RFC 7323 §2.3).
#pragma once

#include <concepts>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <type_traits>

namespace synack::tcp {

// An integer usable as a sequence offset: any integral type but bool and the character types.
template <class T>
concept SeqOffset = std::integral<T> && !std::same_as<T, bool> && !std::same_as<T, char> &&
                    !std::same_as<T, wchar_t> && !std::same_as<T, char8_t> &&
                    !std::same_as<T, char16_t> && !std::same_as<T, char32_t>;

class Seq {
 public:
  constexpr Seq() = default;
  constexpr explicit Seq(std::uint32_t raw) : raw_(raw) {}

  constexpr std::uint32_t raw() const { return raw_; }

  // Offsets are reduced modulo 2^32, so a negative offset moves backwards: s + (-1) == s - 1,
  // and a + (b - a) == b for any a, b. bool and character types are not offsets.
  template <SeqOffset T>
  constexpr Seq& operator+=(T offset) {
    raw_ += static_cast<std::uint32_t>(offset);
    return *this;
  }
  template <SeqOffset T>
  constexpr Seq& operator-=(T offset) {
    raw_ -= static_cast<std::uint32_t>(offset);
    return *this;
  }
  template <SeqOffset T>
  friend constexpr Seq operator+(Seq s, T offset) {
    return s += offset;
  }
  template <SeqOffset T>
  friend constexpr Seq operator-(Seq s, T offset) {
    return s -= offset;
  }

  // The signed distance from b to a: how far a is ahead of b (negative when a is behind).
  // Exact when the numbers are less than 2^31 apart; INT32_MIN at exactly 2^31.
  friend constexpr std::int32_t operator-(Seq a, Seq b) {
    return static_cast<std::int32_t>(a.raw_ - b.raw_);  // modular since C++20
  }

  friend constexpr bool operator==(Seq, Seq) = default;

 private:
  std::uint32_t raw_ = 0;
};

// a < b modulo 2^32: a comes earlier in the sequence space.
constexpr bool before(Seq a, Seq b) {
  return (a - b) < 0;
}
// a > b modulo 2^32.
constexpr bool after(Seq a, Seq b) {
  return (b - a) < 0;
}
// a =< b modulo 2^32.
constexpr bool before_eq(Seq a, Seq b) {
  return (a - b) <= 0;
}
// a >= b modulo 2^32.
constexpr bool after_eq(Seq a, Seq b) {
  return (b - a) <= 0;
}

// How far seq lies past start, as an unsigned offset in [0, 2^32).
constexpr std::uint32_t offset_from(Seq start, Seq seq) {
  return seq.raw() - start.raw();
}

// start =< seq < start + length, the window test of RFC 9293 §3.4 and §3.10.7.4
// ("RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND"). Exact for every length up to 2^32 - 1, since it
// measures seq as an offset from start instead of comparing two halves of the circle.
// A zero length holds nothing: the RFC's special cases for zero windows belong to the caller.
constexpr bool in_window(Seq seq, Seq start, std::uint32_t length) {
  return offset_from(start, seq) < length;
}

// lo =< x =< hi, walking forward from lo (both ends included). Exact for any span hi - lo;
// for one open end, compose: before(snd_una, ack) && before_eq(ack, snd_nxt).
constexpr bool between(Seq lo, Seq x, Seq hi) {
  return offset_from(lo, x) <= offset_from(lo, hi);
}

// The later / earlier of two numbers less than 2^31 apart (e.g. snd_max = latest(snd_max, n)).
constexpr Seq latest(Seq a, Seq b) {
  return before(a, b) ? b : a;
}
constexpr Seq earliest(Seq a, Seq b) {
  return before(a, b) ? a : b;
}

inline std::string to_string(Seq s) {
  return std::to_string(s.raw());
}

// For gtest and traces; a template so this header needs only <iosfwd>.
template <class CharT, class Traits>
std::basic_ostream<CharT, Traits>& operator<<(std::basic_ostream<CharT, Traits>& os, Seq s) {
  return os << s.raw();
}

static_assert(sizeof(Seq) == 4);
static_assert(std::is_trivially_copyable_v<Seq>);
static_assert(std::equality_comparable<Seq>);
static_assert(!std::totally_ordered<Seq>, "Seq must not have operator<: modular order is partial");

}  // namespace synack::tcp
