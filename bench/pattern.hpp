// The bytes every bulk scenario sends (synack's, the kernel's, lwIP's), so the receiving
// side can tell a wrong run from a fast one: the byte at stream offset k is k mod 251. The prime
// period never lines up with a chunk size, so a chunk lost, repeated or reordered shows as a
// mismatch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace synack::bench {

class Pattern {
 public:
  static constexpr std::size_t kPeriod = 251;

  // Chunks of up to `max_chunk` bytes can be sent from, or checked against, one pointer.
  explicit Pattern(std::size_t max_chunk) : bytes_(kPeriod + max_chunk) {
    for (std::size_t i = 0; i < bytes_.size(); ++i) {
      bytes_[i] = static_cast<std::uint8_t>(i % kPeriod);
    }
  }

  std::size_t max_chunk() const { return bytes_.size() - kPeriod; }

  // The pattern from stream offset `offset` on, max_chunk() bytes of it (sent without a copy).
  const std::uint8_t* at(std::uint64_t offset) const { return bytes_.data() + offset % kPeriod; }

  // Whether `n` (<= max_chunk()) received bytes are the pattern at `offset` (memcmp: cheap
  // beside the copy the kernel just did).
  bool matches(std::uint64_t offset, const std::uint8_t* data, std::size_t n) const {
    return std::memcmp(at(offset), data, n) == 0;
  }

 private:
  std::vector<std::uint8_t> bytes_;
};

}  // namespace synack::bench
