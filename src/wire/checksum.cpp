#include "wire/checksum.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

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

// The one's-complement sum of `data` read as big-endian 16-bit words (an odd last byte is
// padded with zero), folded to 16 bits. The sum is byte-order independent (RFC 1071 §2B):
// we add native 64-bit words and swap once at the end. Four accumulators keep four
// add-with-carry chains in flight; one chain is bound by its carry to one add per two cycles.
std::uint16_t sum_words(const std::uint8_t* p, std::size_t n) {
  std::uint64_t a = 0, b = 0, c = 0, d = 0;
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

void copy_and_add(MutableBytes dst, Bytes src, ChecksumAccumulator& acc) {
  constexpr std::size_t kPiece = 2048;  // even, so only the last piece can be odd
  for (std::size_t at = 0; at < src.size(); at += kPiece) {
    const std::size_t n = std::min(kPiece, src.size() - at);
    std::memcpy(dst.data() + at, src.data() + at, n);
    acc.add(Bytes(dst.data() + at, n));
  }
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
