// SYN cookies (RFC 4987 §3.6), laid out as Linux's (net/ipv4/syncookies.c): when a
// listener's half-open queue is full, the SYN,ACK's ISS itself carries what the listener
// would have stored, and nothing is stored. The peer's ACK returns it as SEG.ACK - 1.
//
//   cookie = H1(4-tuple) + IRS + (count << 24) + ((H2(4-tuple, count, mss_index) << 2
//            | mss_index) mod 2^24)
//
// H1 and H2 are SipHash-2-4 under a key derived from the stack's secret, so an off-path
// attacker can neither forge a cookie nor learn the secret behind ISNs from one. `count`
// is a coarse clock (kCookiePeriod ticks): a cookie is good for the tick it was made in
// and the next (Linux's MAX_SYNCOOKIE_AGE), 64 to 128 seconds. Only 22 bits stay for the
// hash, so an attacker who guesses hits one time in 2^22: ACKs are only checked while the
// listener has sent cookies recently (kCookieValidity). Unlike Linux's, whose index is
// added to the hash, H2 covers the index, so no bit of a cookie can change unnoticed.
//
// A cookie has no room for window scale and SACK-permitted; when the SYN offers
// timestamps they ride in the low kTsOptionBits bits of our TSval (Linux's
// cookie_init_timestamp), which the peer echoes in the final ACK's TSecr. Without
// timestamps the connection goes without window scaling and SACK, as on Linux.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "base/siphash.hpp"
#include "synack/endpoint.hpp"
#include "synack/time.hpp"
#include "tcp/seq.hpp"

namespace synack::tcp {

// The MSS values a cookie can say (Linux's msstab for IPv4): the peer's MSS is rounded
// down to one of them, so the index fits in 2 bits.
inline constexpr std::array<std::uint16_t, 4> kCookieMssTable{536, 1300, 1440, 1460};
inline constexpr Duration kCookiePeriod = seconds(64);
inline constexpr std::uint32_t kCookieMaxAge = 2;  // counters accepted: this one and the last
// How long after the last cookie sent an ACK to the listener is worth checking as one.
inline constexpr Duration kCookieValidity = kCookieMaxAge * kCookiePeriod;

// The key for cookies, derived from the stack's secret (kept apart from the ISN key).
SipKey syn_cookie_key(const SipKey& secret);
// The coarse clock that ages cookies.
std::uint32_t syn_cookie_counter(Instant now);
// The largest table entry not above the peer's MSS (the smallest when it is below all).
std::uint8_t syn_cookie_mss_index(std::uint16_t peer_mss);

// The ISS for a SYN from `tuple` (`tuple.local` is ours) with SEG.SEQ = irs.
Seq syn_cookie_encode(const SipKey& key, const FourTuple& tuple, Seq irs, std::uint32_t counter,
                      std::uint8_t mss_index);
// The MSS index `cookie` carries if it was made for `tuple` and `irs` within the last
// kCookieMaxAge counters before `counter_now`; nullopt otherwise.
std::optional<std::uint8_t> syn_cookie_check(const SipKey& key, const FourTuple& tuple, Seq irs,
                                             Seq cookie, std::uint32_t counter_now);

// What the SYN offered that the cookie's TSval keeps.
struct CookieOptions {
  std::optional<std::uint8_t> window_scale;  // the peer's shift
  bool sack_permitted = false;
  friend bool operator==(const CookieOptions&, const CookieOptions&) = default;
};

// Low bits of the TSval: 0-3 the peer's window scale (15: none), 4 SACK-permitted, 5 kept
// zero (Linux's ECN bit).
inline constexpr std::uint32_t kTsOptionBits = 6;
inline constexpr std::uint32_t kTsOptionMask = (1u << kTsOptionBits) - 1;
// `ts_now` (our timestamp clock) with the options in its low bits, never ahead of it, so
// the connection's later TSvals do not step back.
std::uint32_t syn_cookie_tsval(std::uint32_t ts_now, const CookieOptions& options);
// The options a returning TSecr carries. Four bits cannot say a shift past 14 but as 15,
// "none", so whatever the peer echoes decodes to options RFC 7323 allows.
CookieOptions syn_cookie_options(std::uint32_t tsecr);

}  // namespace synack::tcp
