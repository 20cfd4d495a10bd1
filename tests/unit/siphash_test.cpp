#include "base/siphash.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace synack {
namespace {

// The reference vectors of the SipHash paper (Appendix A / vectors.h): key 00 01 .. 0f,
// message 00 01 .. (n-1).
TEST(SipHash, MatchesTheReferenceVectors) {
  const SipKey key{0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};
  std::vector<std::uint8_t> msg;
  EXPECT_EQ(siphash24(key, msg), 0x726fdb47dd0e0e31ull);
  for (std::uint8_t i = 0; i < 15; ++i) msg.push_back(i);
  EXPECT_EQ(siphash24(key, msg), 0xa129ca6149be45e5ull);  // the paper's 15-byte example
  msg.resize(8);
  EXPECT_EQ(siphash24(key, msg), 0x93f5f5799a932462ull);
}

}  // namespace
}  // namespace synack
