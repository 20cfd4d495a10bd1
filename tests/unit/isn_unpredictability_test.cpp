// RFC 6528 ISNs and RFC 6056 ephemeral ports stay unpredictable to an off-path attacker
// (issue 8): two hosts with different secrets choose differently for the same connections,
// and one host's successive ISNs are not a line an observer could extend.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "support/capi_peer.hpp"

namespace synack::testing {
namespace {

struct Choice {
  std::uint32_t isn = 0;
  std::uint16_t port = 0;
};

// `count` active opens to the same remote port, 1 ms apart, each closed before the next: the
// ISN and ephemeral port of each SYN.
std::vector<Choice> choices(const std::string& flags, std::size_t count) {
  CapiPeer p(flags.c_str());
  synack_host* h = p.host();
  std::vector<Choice> out;
  for (std::size_t i = 0; i < count; ++i) {
    const int fd = synack_socket(h, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    EXPECT_GE(fd, 0);
    const sockaddr_in peer = ipv4_address(CapiPeer::kRemote, 80);
    EXPECT_EQ(synack_connect(h, fd, as_sockaddr(peer), sizeof peer), -1);
    const Seen syn = p.expect({.flags = wire::TcpFlags::syn});
    out.push_back({syn.header.seq, syn.header.src_port});
    EXPECT_EQ(synack_close(h, fd), 0);
    synack_usleep(h, 1000);
  }
  return out;
}

constexpr std::size_t kOpens = 64;

TEST(Unpredictability, AnotherSecretChoosesOtherIsnsAndPorts) {
  const auto a = choices("secret=0123456789abcdef0123456789abcdef", kOpens);
  const auto b = choices("secret=fedcba9876543210fedcba9876543210", kOpens);
  int same_isn = 0;
  int same_port = 0;
  for (std::size_t i = 0; i < kOpens; ++i) {
    if (a[i].isn == b[i].isn) ++same_isn;
    if (a[i].port == b[i].port) ++same_port;
  }
  EXPECT_EQ(same_isn, 0);
  // 28,232 ephemeral ports: a coincidence or two is chance, a pattern is not.
  EXPECT_LE(same_port, 2);
}

TEST(Unpredictability, TheSameSecretRepeatsExactly) {
  const auto a = choices("secret=0123456789abcdef0123456789abcdef", 8);
  const auto b = choices("secret=0123456789abcdef0123456789abcdef", 8);
  for (std::size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(a[i].isn, b[i].isn);
    EXPECT_EQ(a[i].port, b[i].port);
  }
}

// A linear ISN (a counter, or the clock alone) has constant steps between opens made at a
// constant pace; the keyed hash of each new 4-tuple makes every step different.
TEST(Unpredictability, SuccessiveIsnsAreNotLinear) {
  const auto c = choices("secret=0123456789abcdef0123456789abcdef", kOpens);
  std::set<std::uint32_t> isn_steps;
  for (std::size_t i = 1; i < kOpens; ++i) isn_steps.insert(c[i].isn - c[i - 1].isn);
  EXPECT_EQ(isn_steps.size(), kOpens - 1);
}

// RFC 6056 Algorithm 3 would give one destination consecutive ports, a sequence an
// observer extends by adding one. With Algorithm 4's counter advanced by a keyed random step
// of one to eight (Linux's), successive ports climb slowly, so they are reused late, but by
// steps that vary: every one of the eight appears in 63 opens.
TEST(Unpredictability, SuccessivePortsToOneDestinationAreNotLinear) {
  const auto c = choices("secret=0123456789abcdef0123456789abcdef", kOpens);
  std::set<int> port_steps;
  for (std::size_t i = 1; i < kOpens; ++i) {
    port_steps.insert(static_cast<int>(c[i].port) - static_cast<int>(c[i - 1].port));
  }
  EXPECT_EQ(port_steps, (std::set<int>{1, 2, 3, 4, 5, 6, 7, 8}));
}

}  // namespace
}  // namespace synack::testing
