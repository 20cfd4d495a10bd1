// Seq: modular sequence-number arithmetic and comparison (RFC 9293 §3.4), right across the wrap.
#include "tcp/seq.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <sstream>
#include <type_traits>

namespace synack::tcp {
namespace {

constexpr std::uint32_t kMax = 0xFFFFFFFF;
constexpr std::uint32_t kHalf = 0x80000000;  // 2^31

// Compile-time guarantees: the type forbids what modular order cannot support.
template <class T>
concept HasLess = requires(T a, T b) {
  a < b;
};
template <class T>
concept HasSpaceship = requires(T a, T b) {
  a <=> b;
};
template <class T, class U>
concept Addable = requires(T a, U b) {
  a + b;
};

static_assert(!HasLess<Seq>);
static_assert(!HasSpaceship<Seq>);
static_assert(!std::totally_ordered<Seq>);
static_assert(!Addable<Seq, Seq>, "adding two sequence numbers means nothing");
static_assert(!Addable<Seq, bool>);
static_assert(!Addable<Seq, char>);
static_assert(Addable<Seq, std::uint32_t>);
static_assert(Addable<Seq, std::size_t>);
static_assert(Addable<Seq, int>);
static_assert(!std::is_convertible_v<std::uint32_t, Seq>, "construction is explicit");
static_assert(std::is_same_v<decltype(Seq{} - Seq{}), std::int32_t>);

// Usable in constant expressions.
static_assert(Seq{kMax} + 1u == Seq{0});
static_assert(before(Seq{kMax}, Seq{0}));

TEST(Seq, DefaultIsZeroAndRawRoundTrips) {
  EXPECT_EQ(Seq{}.raw(), 0u);
  EXPECT_EQ(Seq{12345}.raw(), 12345u);
  EXPECT_EQ(Seq{kMax}.raw(), kMax);
}

TEST(Seq, AdditionWrapsModulo2To32) {
  EXPECT_EQ(Seq{kMax} + 1u, Seq{0});
  EXPECT_EQ(Seq{kMax} + std::size_t{2}, Seq{1});
  EXPECT_EQ(Seq{0xFFFFFFF0} + 0x20u, Seq{0x10});
  EXPECT_EQ(Seq{5} + (std::uint64_t{1} << 32), Seq{5}) << "an offset of 2^32 is a full turn";
  Seq s{kMax - 1};
  s += 3u;
  EXPECT_EQ(s, Seq{1});
}

TEST(Seq, SubtractingAnOffsetWrapsBackwards) {
  EXPECT_EQ(Seq{0} - 1u, Seq{kMax});
  EXPECT_EQ(Seq{0x10} - 0x20u, Seq{0xFFFFFFF0});
  Seq s{2};
  s -= std::size_t{5};
  EXPECT_EQ(s, Seq{kMax - 2});
}

TEST(Seq, NegativeOffsetsMoveBackwards) {
  EXPECT_EQ(Seq{0} + (-1), Seq{kMax});
  EXPECT_EQ(Seq{kMax} - (-1), Seq{0});
}

TEST(Seq, DistanceIsSignedAndExactAcrossTheWrap) {
  EXPECT_EQ(Seq{0x10} - Seq{0xFFFFFFF0}, 0x20);
  EXPECT_EQ(Seq{0xFFFFFFF0} - Seq{0x10}, -0x20);
  EXPECT_EQ(Seq{0} - Seq{kMax}, 1);
  EXPECT_EQ(Seq{kMax} - Seq{0}, -1);
  EXPECT_EQ(Seq{7} - Seq{7}, 0);
  // The largest distances that are still unambiguous.
  EXPECT_EQ(Seq{kHalf - 1} - Seq{0}, std::numeric_limits<std::int32_t>::max());
  EXPECT_EQ(Seq{0} - Seq{kHalf - 1}, -std::numeric_limits<std::int32_t>::max());
}

TEST(Seq, AddingTheDistanceGetsBackToTheOtherNumber) {
  const std::uint32_t samples[] = {0, 1, 0x10, 0x7FFFFFFF, kHalf, 0xFFFFFFF0, kMax};
  for (std::uint32_t a : samples) {
    for (std::uint32_t b : samples) {
      EXPECT_EQ(Seq{a} + (Seq{b} - Seq{a}), Seq{b}) << a << " -> " << b;
    }
  }
}

TEST(Seq, BeforeAndAfterAcrossTheWrap) {
  EXPECT_TRUE(before(Seq{0xFFFFFFF0}, Seq{0x10}));
  EXPECT_FALSE(after(Seq{0xFFFFFFF0}, Seq{0x10}));
  EXPECT_TRUE(after(Seq{0x10}, Seq{0xFFFFFFF0}));
  EXPECT_FALSE(before(Seq{0x10}, Seq{0xFFFFFFF0}));
  EXPECT_TRUE(before(Seq{kMax}, Seq{0}));
  EXPECT_TRUE(after(Seq{0}, Seq{kMax}));
}

TEST(Seq, OrdinaryOrderAwayFromTheWrap) {
  EXPECT_TRUE(before(Seq{100}, Seq{200}));
  EXPECT_TRUE(after(Seq{200}, Seq{100}));
  EXPECT_FALSE(before(Seq{200}, Seq{100}));
}

TEST(Seq, StrictComparisonsAreIrreflexiveAndTheNonStrictOnesReflexive) {
  for (std::uint32_t v : {0u, 1u, kHalf, kMax}) {
    const Seq s{v};
    EXPECT_FALSE(before(s, s));
    EXPECT_FALSE(after(s, s));
    EXPECT_TRUE(before_eq(s, s));
    EXPECT_TRUE(after_eq(s, s));
  }
}

TEST(Seq, NonStrictComparisonsAcrossTheWrap) {
  EXPECT_TRUE(before_eq(Seq{0xFFFFFFF0}, Seq{0x10}));
  EXPECT_FALSE(before_eq(Seq{0x10}, Seq{0xFFFFFFF0}));
  EXPECT_TRUE(after_eq(Seq{0x10}, Seq{0xFFFFFFF0}));
  EXPECT_FALSE(after_eq(Seq{0xFFFFFFF0}, Seq{0x10}));
}

// Exactly 2^31 apart, neither number is "really" first. The signed distance is INT32_MIN in
// both directions, so each is before (and after) the other; RFC 1982 §3.2 calls this case
// undefined.
// TCP never compares numbers this far apart (windows are at most 2^30, RFC 7323 §2.3).
TEST(Seq, HalfSpaceApartEachIsBeforeTheOther) {
  const Seq a{0};
  const Seq b{kHalf};
  EXPECT_EQ(a - b, std::numeric_limits<std::int32_t>::min());
  EXPECT_EQ(b - a, std::numeric_limits<std::int32_t>::min());
  EXPECT_TRUE(before(a, b));
  EXPECT_TRUE(before(b, a));
  EXPECT_TRUE(after(a, b));
  EXPECT_TRUE(after(b, a));
  EXPECT_TRUE(before_eq(a, b) && after_eq(a, b)) << "both hold, although a != b";
  // Just inside the half space, order is well defined and antisymmetric again.
  EXPECT_TRUE(before(a, b - 1u));
  EXPECT_FALSE(before(b - 1u, a));
  EXPECT_TRUE(after(a, b + 1u));
  EXPECT_FALSE(after(b + 1u, a));
  // The same holds anywhere on the circle, e.g. straddling the wrap.
  EXPECT_TRUE(before(Seq{0xC0000000}, Seq{0x40000000}));
  EXPECT_TRUE(before(Seq{0x40000000}, Seq{0xC0000000}));
}

TEST(Seq, InWindowIsHalfOpenAndWraps) {
  const Seq start{0xFFFFFFF0};
  EXPECT_TRUE(in_window(start, start, 0x20));
  EXPECT_TRUE(in_window(Seq{kMax}, start, 0x20));
  EXPECT_TRUE(in_window(Seq{0}, start, 0x20));
  EXPECT_TRUE(in_window(Seq{0x0F}, start, 0x20));
  EXPECT_FALSE(in_window(Seq{0x10}, start, 0x20)) << "start + length is outside";
  EXPECT_FALSE(in_window(start - 1u, start, 0x20));
}

TEST(Seq, InWindowOfZeroLengthHoldsNothing) {
  EXPECT_FALSE(in_window(Seq{5}, Seq{5}, 0));
  EXPECT_FALSE(in_window(Seq{0}, Seq{kMax}, 0));
}

TEST(Seq, InWindowIsExactForWindowsLargerThanHalfTheSpace) {
  const Seq start{100};
  EXPECT_TRUE(in_window(start + kHalf + 5u, start, kMax));
  EXPECT_FALSE(in_window(start - 1u, start, kMax));
  EXPECT_TRUE(in_window(start - 2u, start, kMax));
}

TEST(Seq, BetweenIncludesBothEndsAndWraps) {
  const Seq lo{0xFFFFFFFE};
  const Seq hi{3};
  EXPECT_TRUE(between(lo, lo, hi));
  EXPECT_TRUE(between(lo, Seq{kMax}, hi));
  EXPECT_TRUE(between(lo, Seq{0}, hi));
  EXPECT_TRUE(between(lo, hi, hi));
  EXPECT_FALSE(between(lo, hi + 1u, hi));
  EXPECT_FALSE(between(lo, lo - 1u, hi));
  EXPECT_TRUE(between(Seq{9}, Seq{9}, Seq{9}));
  EXPECT_FALSE(between(Seq{9}, Seq{10}, Seq{9}));
}

// The RFC 9293 §3.10.7.4 fifth step, written with the named comparisons: an ACK is acceptable
// when SND.UNA < SEG.ACK =< SND.NXT, here with the send sequence space straddling the wrap.
TEST(Seq, AcceptableAckTestReadsLikeTheRfcAcrossTheWrap) {
  const Seq snd_una{0xFFFFFF00};
  const Seq snd_nxt = snd_una + 0x200u;  // 0x100 after the wrap
  auto acceptable = [&](Seq ack) { return before(snd_una, ack) && before_eq(ack, snd_nxt); };
  EXPECT_FALSE(acceptable(snd_una)) << "a duplicate ACK acknowledges nothing new";
  EXPECT_TRUE(acceptable(snd_una + 1u));
  EXPECT_TRUE(acceptable(Seq{0}));
  EXPECT_TRUE(acceptable(snd_nxt));
  EXPECT_FALSE(acceptable(snd_nxt + 1u)) << "acknowledges something not yet sent";
}

TEST(Seq, LatestAndEarliestAcrossTheWrap) {
  EXPECT_EQ(latest(Seq{0xFFFFFFF0}, Seq{0x10}), Seq{0x10});
  EXPECT_EQ(latest(Seq{0x10}, Seq{0xFFFFFFF0}), Seq{0x10});
  EXPECT_EQ(earliest(Seq{0xFFFFFFF0}, Seq{0x10}), Seq{0xFFFFFFF0});
  EXPECT_EQ(earliest(Seq{0x10}, Seq{0xFFFFFFF0}), Seq{0xFFFFFFF0});
}

TEST(Seq, EqualityIsOnTheRawValue) {
  EXPECT_EQ(Seq{42}, Seq{42});
  EXPECT_NE(Seq{42}, Seq{43});
  EXPECT_NE(Seq{0}, Seq{kHalf});
}

TEST(Seq, PrintsAsItsRawValue) {
  std::ostringstream os;
  os << Seq{kMax};
  EXPECT_EQ(os.str(), "4294967295");
  EXPECT_EQ(to_string(Seq{7}), "7");
  EXPECT_EQ(::testing::PrintToString(Seq{123}), "123");
}

TEST(Seq, UsableAsAMapValueButNotAsAnOrderedKey) {
  // Keys need operator<, which Seq does not have (see static_asserts above); values are fine.
  std::map<int, Seq> by_id{{1, Seq{10}}};
  EXPECT_EQ(by_id.at(1), Seq{10});
}

}  // namespace
}  // namespace synack::tcp
