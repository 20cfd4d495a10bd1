// The SYN cookie itself (RFC 4987 §3.6, Linux's layout): what a cookie encodes comes back
// from it for the same 4-tuple and IRS within two counters, and from nothing else.
#include "tcp/syn_cookie.hpp"

#include <gtest/gtest.h>

namespace synack::tcp {
namespace {

const SipKey kKey = syn_cookie_key(SipKey{0x0123456789abcdefull, 0xfedcba9876543210ull});
const FourTuple kTuple{{Ipv4Address(198, 18, 0, 2), 80}, {Ipv4Address(198, 18, 0, 1), 40000}};
constexpr Seq kIrs(1000);

TEST(SynCookieCodec, EveryMssIndexRoundTripsAtEveryCounterAcrossTheWrap) {
  for (const std::uint32_t counter : {0u, 1u, 255u, 256u, 0x00ffffffu, 0xffffffffu}) {
    for (std::uint8_t index = 0; index < kCookieMssTable.size(); ++index) {
      for (const Seq irs : {Seq(0), kIrs, Seq(0xffffffffu)}) {
        const Seq cookie = syn_cookie_encode(kKey, kTuple, irs, counter, index);
        EXPECT_EQ(syn_cookie_check(kKey, kTuple, irs, cookie, counter), index)
            << "counter " << counter << " index " << int{index};
        // Good for the counter after too (64 to 128 s), ...
        EXPECT_EQ(syn_cookie_check(kKey, kTuple, irs, cookie, counter + 1), index);
        // ... and no longer after that, nor before it was made.
        EXPECT_EQ(syn_cookie_check(kKey, kTuple, irs, cookie, counter + 2), std::nullopt);
        EXPECT_EQ(syn_cookie_check(kKey, kTuple, irs, cookie, counter + 255), std::nullopt);
        EXPECT_EQ(syn_cookie_check(kKey, kTuple, irs, cookie, counter - 1), std::nullopt);
      }
    }
  }
}

TEST(SynCookieCodec, TheCounterTicksEvery64Seconds) {
  EXPECT_EQ(syn_cookie_counter(kEpoch), 0u);
  EXPECT_EQ(syn_cookie_counter(kEpoch + seconds(64) - nanoseconds(1)), 0u);
  EXPECT_EQ(syn_cookie_counter(kEpoch + seconds(64)), 1u);
  EXPECT_EQ(syn_cookie_counter(kEpoch + seconds(640)), 10u);
}

TEST(SynCookieCodec, ACookieMadeForAnotherTupleOrIrsOrKeyIsRejected) {
  const Seq cookie = syn_cookie_encode(kKey, kTuple, kIrs, 7, 3);
  ASSERT_EQ(syn_cookie_check(kKey, kTuple, kIrs, cookie, 7), 3);
  FourTuple other = kTuple;
  other.remote.port = 40001;
  EXPECT_EQ(syn_cookie_check(kKey, other, kIrs, cookie, 7), std::nullopt);
  other = kTuple;
  other.remote.address = Ipv4Address(198, 18, 0, 3);
  EXPECT_EQ(syn_cookie_check(kKey, other, kIrs, cookie, 7), std::nullopt);
  other = kTuple;
  other.local.port = 81;
  EXPECT_EQ(syn_cookie_check(kKey, other, kIrs, cookie, 7), std::nullopt);
  other = kTuple;
  other.local.address = Ipv4Address(198, 18, 0, 4);
  EXPECT_EQ(syn_cookie_check(kKey, other, kIrs, cookie, 7), std::nullopt);
  EXPECT_EQ(syn_cookie_check(kKey, kTuple, kIrs + 1, cookie, 7), std::nullopt);
  const SipKey other_key = syn_cookie_key(SipKey{1, 2});
  EXPECT_EQ(syn_cookie_check(other_key, kTuple, kIrs, cookie, 7), std::nullopt);
}

TEST(SynCookieCodec, EverySingleBitFlippedIsRejected) {
  for (std::uint8_t index = 0; index < kCookieMssTable.size(); ++index) {
    const Seq cookie = syn_cookie_encode(kKey, kTuple, kIrs, 42, index);
    for (int bit = 0; bit < 32; ++bit) {
      const Seq tampered(cookie.raw() ^ (1u << bit));
      EXPECT_EQ(syn_cookie_check(kKey, kTuple, kIrs, tampered, 42), std::nullopt)
          << "bit " << bit << " index " << int{index};
      EXPECT_EQ(syn_cookie_check(kKey, kTuple, kIrs, tampered, 43), std::nullopt);
    }
  }
}

TEST(SynCookieCodec, GuessedCookiesAlmostNeverPass) {
  // 24 bits hold the hash and a 2-bit index: a guess passes one time in 2^22 per counter
  // accepted, so 2^20 guesses expect a half. Allow a few.
  int passed = 0;
  for (std::uint32_t guess = 0; guess < (1u << 20); ++guess) {
    if (syn_cookie_check(kKey, kTuple, kIrs, Seq(guess * 4099u), 42)) ++passed;
  }
  EXPECT_LE(passed, 4);
}

TEST(SynCookieCodec, TheKeyIsDerivedAndNotTheSecret) {
  const SipKey secret{0x0123456789abcdefull, 0xfedcba9876543210ull};
  const SipKey k = syn_cookie_key(secret);
  EXPECT_NE(k.k0, secret.k0);
  EXPECT_NE(k.k1, secret.k1);
  EXPECT_NE(k.k0, k.k1);
  const SipKey again = syn_cookie_key(secret);
  EXPECT_EQ(again.k0, k.k0);
  EXPECT_EQ(again.k1, k.k1);
}

TEST(SynCookieCodec, TheMssIsRoundedDownToTheTable) {
  EXPECT_EQ(syn_cookie_mss_index(1460), 3);
  EXPECT_EQ(syn_cookie_mss_index(9000), 3);
  EXPECT_EQ(syn_cookie_mss_index(1459), 2);
  EXPECT_EQ(syn_cookie_mss_index(1440), 2);
  EXPECT_EQ(syn_cookie_mss_index(1300), 1);
  EXPECT_EQ(syn_cookie_mss_index(1299), 0);
  EXPECT_EQ(syn_cookie_mss_index(536), 0);
  EXPECT_EQ(syn_cookie_mss_index(100), 0);  // as Linux: never below the table
}

TEST(SynCookieCodec, OptionsRideInTheLowSixBitsOfTheTsvalNeverAheadOfTheClock) {
  const CookieOptions ws7_sack{.window_scale = 7, .sack_permitted = true};
  // 1000 = 0b1111101000: low six bits 0b101000 (40), replaced by 7 | 16 = 23: below it.
  EXPECT_EQ(syn_cookie_tsval(1000, ws7_sack), 1000u - 40 + 23);
  // 1024 has low bits 0: the options (23) would put it ahead, so a tick of 64 back.
  EXPECT_EQ(syn_cookie_tsval(1024, ws7_sack), 1024u - 64 + 23);
  EXPECT_EQ(syn_cookie_tsval(1024 + 23, ws7_sack), 1024u + 23);
  // Across the wrap of the timestamp clock.
  EXPECT_EQ(syn_cookie_tsval(3, ws7_sack), 0xffffffc0u + 23);
  const CookieOptions none{};
  EXPECT_EQ(syn_cookie_tsval(1024 + 20, none), 1024u + 15);  // 15: no window scale
  EXPECT_EQ(syn_cookie_tsval(1024 + 14, none), 1024u - 64 + 15);

  for (const CookieOptions o :
       {none, ws7_sack, CookieOptions{.window_scale = 0}, CookieOptions{.sack_permitted = true},
        CookieOptions{.window_scale = 14, .sack_permitted = true}}) {
    for (const std::uint32_t now : {0u, 1000u, 123456789u, 0xffffffffu}) {
      const std::uint32_t ts = syn_cookie_tsval(now, o);
      EXPECT_EQ(syn_cookie_options(ts), o) << now;
      EXPECT_LE(now - ts, kTsOptionMask + 1) << "at most one tick behind the clock";
    }
  }
}

TEST(SynCookieCodec, TheTsecrBitsDecodeAsTheyWereLaidOut) {
  // Bits 0-3 the shift (15: none), bit 4 SACK-permitted; bit 5 and above are the clock's.
  EXPECT_EQ(syn_cookie_options(0x40 | 14), (CookieOptions{.window_scale = 14}));
  EXPECT_EQ(syn_cookie_options(0x40 | 15), CookieOptions{});
  EXPECT_EQ(syn_cookie_options(0x20 | 15), CookieOptions{});
  EXPECT_EQ(syn_cookie_options(0x10 | 3),
            (CookieOptions{.window_scale = 3, .sack_permitted = true}));
  EXPECT_EQ(syn_cookie_options(0x10 | 15), (CookieOptions{.sack_permitted = true}));
}

}  // namespace
}  // namespace synack::tcp
