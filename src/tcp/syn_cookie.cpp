#include "tcp/syn_cookie.hpp"

#include <algorithm>

namespace synack::tcp {
namespace {

constexpr std::uint32_t kCookieBits = 24;  // below the counter: hash plus MSS index
constexpr std::uint32_t kCookieMask = (1u << kCookieBits) - 1;
constexpr std::uint32_t kIndexBits = 2;  // kCookieMssTable's four entries
constexpr std::uint32_t kIndexMask = (1u << kIndexBits) - 1;
static_assert(kCookieMssTable.size() == 1u << kIndexBits);
constexpr std::uint32_t kNoWindowScale = 0xf;
constexpr std::uint32_t kTsSack = 1u << 4;

void store16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}

void store32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}

// SipHash of the 4-tuple, a counter and a byte: which hash it is (Linux's c = 0, 1), and
// for the second the MSS index too.
std::uint32_t cookie_hash(const SipKey& key, const FourTuple& t, std::uint32_t counter,
                          std::uint8_t which) {
  std::array<std::uint8_t, 17> buf{};
  t.local.address.store(buf.data());
  t.remote.address.store(buf.data() + 4);
  store16(buf.data() + 8, t.local.port);
  store16(buf.data() + 10, t.remote.port);
  store32(buf.data() + 12, counter);
  buf[16] = which;
  return static_cast<std::uint32_t>(siphash24(key, buf));
}

// The low 24 bits: the MSS index in the lowest two, above it 22 bits of a hash that covers
// the index. Linux adds the index to the hash instead, which leaves it unauthenticated
// (cookie + 1 is another valid cookie, for the next MSS); here any change is caught.
std::uint32_t low_bits(const SipKey& key, const FourTuple& t, std::uint32_t counter,
                       std::uint32_t mss_index) {
  const std::uint32_t h2 = cookie_hash(key, t, counter, static_cast<std::uint8_t>(1 + mss_index));
  return ((h2 << kIndexBits) | mss_index) & kCookieMask;
}

}  // namespace

SipKey syn_cookie_key(const SipKey& secret) {
  // Two hashes of a label under the secret: a key of its own, so cookies, which an
  // attacker sees by the million, are never made with the key behind ISNs and ports.
  constexpr std::array<std::uint8_t, 10> label{'s', 'y', 'n', 'c', 'o', 'o', 'k', 'i', 'e', 0};
  std::array<std::uint8_t, 10> label1 = label;
  label1[9] = 1;
  return SipKey{siphash24(secret, label), siphash24(secret, label1)};
}

std::uint32_t syn_cookie_counter(Instant now) {
  return static_cast<std::uint32_t>(to_nanos(now) / kCookiePeriod.count());
}

std::uint8_t syn_cookie_mss_index(std::uint16_t peer_mss) {
  std::uint8_t i = kCookieMssTable.size() - 1;
  while (i > 0 && peer_mss < kCookieMssTable[i]) --i;
  return i;
}

Seq syn_cookie_encode(const SipKey& key, const FourTuple& tuple, Seq irs, std::uint32_t counter,
                      std::uint8_t mss_index) {
  const std::uint32_t h1 = cookie_hash(key, tuple, 0, 0);
  return Seq(h1 + irs.raw() + (counter << kCookieBits) + low_bits(key, tuple, counter, mss_index));
}

std::optional<std::uint8_t> syn_cookie_check(const SipKey& key, const FourTuple& tuple, Seq irs,
                                             Seq cookie, std::uint32_t counter_now) {
  const std::uint32_t v = cookie.raw() - cookie_hash(key, tuple, 0, 0) - irs.raw();
  // The counter's low 8 bits: how many periods ago the cookie was made.
  const std::uint32_t age = (counter_now - (v >> kCookieBits)) & (~0u >> kCookieBits);
  if (age >= kCookieMaxAge) return std::nullopt;
  const std::uint32_t counter = counter_now - age;
  const std::uint32_t index = v & kIndexMask;
  if ((v & kCookieMask) != low_bits(key, tuple, counter, index)) return std::nullopt;
  return static_cast<std::uint8_t>(index);
}

std::uint32_t syn_cookie_tsval(std::uint32_t ts_now, const CookieOptions& options) {
  std::uint32_t bits =
      options.window_scale ? std::min<std::uint32_t>(*options.window_scale, 14) : kNoWindowScale;
  if (options.sack_permitted) bits |= kTsSack;
  std::uint32_t ts = (ts_now & ~kTsOptionMask) | bits;
  // Never ahead of the clock (modulo 2^32, as timestamps compare): a later TSval below
  // this one would look like an old duplicate to the peer's PAWS.
  if (static_cast<std::int32_t>(ts - ts_now) > 0) ts -= kTsOptionMask + 1;
  return ts;
}

CookieOptions syn_cookie_options(std::uint32_t tsecr) {
  CookieOptions o;
  const std::uint32_t shift = tsecr & kNoWindowScale;
  if (shift != kNoWindowScale) o.window_scale = static_cast<std::uint8_t>(shift);
  o.sack_permitted = (tsecr & kTsSack) != 0;
  return o;
}

}  // namespace synack::tcp
