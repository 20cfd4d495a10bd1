#include "wire/checksum.hpp"

#include <bit>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace synack::wire {
namespace {

// Adds with the end-around carry of one's-complement arithmetic.
inline std::uint64_t add_carry(std::uint64_t a, std::uint64_t b) {
  std::uint64_t s;
  const bool carry = __builtin_add_overflow(a, b, &s);
  return s + (carry ? 1 : 0);
}

inline std::uint16_t fold(std::uint64_t s) {
  s = (s & 0xffffffffu) + (s >> 32);
  s = (s & 0xffffffffu) + (s >> 32);
  s = (s & 0xffffu) + (s >> 16);
  s = (s & 0xffffu) + (s >> 16);
  return static_cast<std::uint16_t>(s);
}

inline std::uint64_t load64(const std::uint8_t* p) {
  std::uint64_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

// The last n < 8 bytes as the native 64-bit word they start, zero padded. Built from loads of
// 4, 2 and 1 bytes rather than a memcpy into a zeroed buffer: a variable memcpy is a call,
// and narrow stores followed by a wide load defeat store forwarding (a 20-byte IPv4 header
// took three times as long that way).
inline std::uint64_t load_tail(const std::uint8_t* p, std::size_t n) {
  std::uint64_t tail = 0;
  unsigned at = 0;  // byte offset of the next piece within the word
  const auto place = [&](std::uint64_t piece, unsigned size) {
    const unsigned shift =
        std::endian::native == std::endian::little ? 8 * at : 8 * (8 - at - size);
    tail |= piece << shift;
    at += size;
  };
  if (n & 4) {
    std::uint32_t w;
    std::memcpy(&w, p, sizeof w);
    place(w, 4);
    p += 4;
  }
  if (n & 2) {
    std::uint16_t w;
    std::memcpy(&w, p, sizeof w);
    place(w, 2);
    p += 2;
  }
  if (n & 1) place(*p, 1);
  return tail;
}

#if defined(__x86_64__)
// The bulk of a long buffer, 64 bytes a step, with AVX2: each 32-bit word is added into a
// 64-bit lane (no carry can leave a lane before 2^32 words), and since 2^32 ≡ 2^16 ≡ 1
// (mod 2^16 - 1), a sum of 32-bit words folds to the same one's-complement sum as one of
// 16-bit words (RFC 1071 §2C: any word size). Twice the scalar loop's bytes per cycle,
// whose carry chains bound it. With `to`, each block is also stored there: a copy and its
// sum in one pass over the data. Advances `p`, `to` and `n` past what it summed.
template <bool kCopy>
__attribute__((target("avx2"))) std::uint64_t sum_avx2(const std::uint8_t*& p, std::uint8_t*& to,
                                                       std::size_t& n) {
  const __m256i low_half = _mm256_set1_epi64x(0xffffffff);
  __m256i a = _mm256_setzero_si256(), b = a, c = a, d = a;
  while (n >= 128) {
    const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
    const __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 64));
    const __m256i z = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 96));
    if constexpr (kCopy) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(to), w);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(to + 32), x);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(to + 64), y);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(to + 96), z);
      to += 128;
    }
    a = _mm256_add_epi64(
        a, _mm256_add_epi64(_mm256_and_si256(w, low_half), _mm256_and_si256(x, low_half)));
    b = _mm256_add_epi64(b, _mm256_add_epi64(_mm256_srli_epi64(w, 32), _mm256_srli_epi64(x, 32)));
    c = _mm256_add_epi64(
        c, _mm256_add_epi64(_mm256_and_si256(y, low_half), _mm256_and_si256(z, low_half)));
    d = _mm256_add_epi64(d, _mm256_add_epi64(_mm256_srli_epi64(y, 32), _mm256_srli_epi64(z, 32)));
    p += 128;
    n -= 128;
  }
  while (n >= 64) {
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    const __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
    if constexpr (kCopy) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(to), x);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(to + 32), y);
      to += 64;
    }
    a = _mm256_add_epi64(a, _mm256_and_si256(x, low_half));
    b = _mm256_add_epi64(b, _mm256_srli_epi64(x, 32));
    c = _mm256_add_epi64(c, _mm256_and_si256(y, low_half));
    d = _mm256_add_epi64(d, _mm256_srli_epi64(y, 32));
    p += 64;
    n -= 64;
  }
  const __m256i lanes = _mm256_add_epi64(_mm256_add_epi64(a, b), _mm256_add_epi64(c, d));
  alignas(32) std::uint64_t lane[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lane), lanes);
  return add_carry(add_carry(lane[0], lane[1]), add_carry(lane[2], lane[3]));
}

bool has_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2");
  return yes;
}
#endif

// The one's-complement sum of `data` read as big-endian 16-bit words (an odd last byte is
// padded with zero), folded to 16 bits, added to `a` (what the vector loop summed of the
// words before `p`). The sum is byte-order independent (RFC 1071 §2B): we add native
// 64-bit words and swap once at the end. Four accumulators keep four add-with-carry chains
// in flight; one chain is bound by its carry to one add per two cycles.
std::uint16_t sum_words_from(std::uint64_t a, const std::uint8_t* p, std::size_t n) {
  std::uint64_t b = 0, c = 0, d = 0;
  while (n >= 64) {
    a = add_carry(a, load64(p));
    b = add_carry(b, load64(p + 8));
    c = add_carry(c, load64(p + 16));
    d = add_carry(d, load64(p + 24));
    a = add_carry(a, load64(p + 32));
    b = add_carry(b, load64(p + 40));
    c = add_carry(c, load64(p + 48));
    d = add_carry(d, load64(p + 56));
    p += 64;
    n -= 64;
  }
  if (n >= 32) {
    a = add_carry(a, load64(p));
    b = add_carry(b, load64(p + 8));
    c = add_carry(c, load64(p + 16));
    d = add_carry(d, load64(p + 24));
    p += 32;
    n -= 32;
  }
  if (n >= 16) {
    a = add_carry(a, load64(p));
    b = add_carry(b, load64(p + 8));
    p += 16;
    n -= 16;
  }
  if (n >= 8) {
    c = add_carry(c, load64(p));
    p += 8;
    n -= 8;
  }
  d = add_carry(d, load_tail(p, n));  // an odd last byte lands in the right half
  std::uint16_t folded = fold(add_carry(add_carry(a, b), add_carry(c, d)));
  if constexpr (std::endian::native == std::endian::little) {
    folded = static_cast<std::uint16_t>((folded << 8) | (folded >> 8));
  }
  return folded;
}

// A header is summed faster than the vector unit is set up; a segment's payload is not.
constexpr std::size_t kVectorFrom = 256;

std::uint16_t sum_words(const std::uint8_t* p, std::size_t n) {
  std::uint64_t a = 0;
#if defined(__x86_64__)
  if (n >= kVectorFrom && has_avx2()) {
    std::uint8_t* none = nullptr;
    a = sum_avx2<false>(p, none, n);
  }
#endif
  return sum_words_from(a, p, n);
}

// Copies n bytes from p to `to` and returns sum_words(p, n).
std::uint16_t copy_sum_words(std::uint8_t* to, const std::uint8_t* p, std::size_t n) {
  std::uint64_t a = 0;
#if defined(__x86_64__)
  if (n >= kVectorFrom && has_avx2()) a = sum_avx2<true>(p, to, n);
#endif
  std::memcpy(to, p, n);
  return sum_words_from(a, p, n);
}

}  // namespace

void ChecksumAccumulator::add(Bytes data) {
  const std::uint8_t* p = data.data();
  std::size_t n = data.size();
  if (n == 0) return;
  if (odd_) {  // the first byte completes the low half of a word begun earlier
    sum_ += p[0];
    ++p;
    --n;
    odd_ = false;
  }
  const std::uint16_t s = sum_words(p, n);
  sum_ += s;
  odd_ = (n % 2) != 0;
}

void ChecksumAccumulator::add_copying(std::uint8_t* to, Bytes data) {
  const std::uint8_t* p = data.data();
  std::size_t n = data.size();
  if (n == 0) return;
  if (odd_) {  // as in add()
    *to++ = p[0];
    sum_ += p[0];
    ++p;
    --n;
    odd_ = false;
  }
  sum_ += copy_sum_words(to, p, n);
  odd_ = (n % 2) != 0;
}

std::uint16_t ChecksumAccumulator::sum() const {
  return fold(sum_);
}

std::uint16_t internet_checksum(Bytes data) {
  return static_cast<std::uint16_t>(~sum_words(data.data(), data.size()));
}

std::uint16_t internet_checksum_reference(Bytes data) {
  std::uint32_t sum = 0;
  std::size_t i = 0;
  for (; i + 1 < data.size(); i += 2)
    sum += static_cast<std::uint32_t>((data[i] << 8) | data[i + 1]);
  if (i < data.size()) sum += static_cast<std::uint32_t>(data[i] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

void add_ipv4_pseudo_header(ChecksumAccumulator& acc, std::uint32_t src, std::uint32_t dst,
                            std::uint8_t protocol, std::uint16_t length) {
  acc.add_u32(src);
  acc.add_u32(dst);
  acc.add_u16(protocol);
  acc.add_u16(length);
}

std::uint16_t transport_checksum(std::uint32_t src, std::uint32_t dst, std::uint8_t protocol,
                                 Bytes segment) {
  ChecksumAccumulator acc;
  add_ipv4_pseudo_header(acc, src, dst, protocol, static_cast<std::uint16_t>(segment.size()));
  acc.add(segment);
  return acc.finish();
}

bool transport_checksum_ok(std::uint32_t src, std::uint32_t dst, std::uint8_t protocol,
                           Bytes segment) {
  ChecksumAccumulator acc;
  add_ipv4_pseudo_header(acc, src, dst, protocol, static_cast<std::uint16_t>(segment.size()));
  acc.add(segment);
  return acc.sum() == 0xffff;
}

std::uint16_t checksum_update16(std::uint16_t checksum, std::uint16_t old_field,
                                std::uint16_t new_field) {
  std::uint32_t s = static_cast<std::uint16_t>(~checksum);
  s += static_cast<std::uint16_t>(~old_field);
  s += new_field;
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<std::uint16_t>(~s);
}

std::uint16_t checksum_update32(std::uint16_t checksum, std::uint32_t old_field,
                                std::uint32_t new_field) {
  checksum = checksum_update16(checksum, static_cast<std::uint16_t>(old_field >> 16),
                               static_cast<std::uint16_t>(new_field >> 16));
  return checksum_update16(checksum, static_cast<std::uint16_t>(old_field),
                           static_cast<std::uint16_t>(new_field));
}

}  // namespace synack::wire
