// IPv4 header parsing (wire/ipv4.hpp) and the Internet checksum (wire/checksum.hpp).
// Properties: a parsed view stays within its bytes and its header sums to zero; a header
// without options rebuilds byte for byte; the TTL decrement keeps the checksum right; the
// fast checksum, whole or in two pieces, agrees with the RFC 1071 reference loop.
#include <cstring>
#include <vector>

#include "fuzz_check.hpp"
#include "wire/checksum.hpp"
#include "wire/ipv4.hpp"

using namespace synack;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const wire::Bytes in(data, size);

  const std::uint16_t reference = wire::internet_checksum_reference(in);
  FUZZ_CHECK(wire::internet_checksum(in) == reference);
  const std::size_t cut = size == 0 ? 0 : data[0] % (size + 1);
  wire::ChecksumAccumulator acc;
  acc.add(in.first(cut));
  acc.add(in.subspan(cut));
  FUZZ_CHECK(acc.finish() == reference);

  if (auto quoted = wire::Ipv4View::parse_quoted(in)) {
    FUZZ_CHECK(quoted->header_length() >= 20 && quoted->header_length() <= size);
    FUZZ_CHECK(quoted->total_length() >= quoted->header_length());
  }

  auto ip = wire::Ipv4View::parse(in);
  if (!ip) return 0;
  FUZZ_CHECK(ip->version() == 4);
  FUZZ_CHECK(ip->header_length() >= 20 && ip->header_length() <= ip->total_length());
  FUZZ_CHECK(ip->total_length() <= size && ip->packet().size() == ip->total_length());
  FUZZ_CHECK(ip->payload().size() == ip->total_length() - ip->header_length());
  FUZZ_CHECK(wire::internet_checksum_reference(ip->header()) == 0);

  // TTL decrement (RFC 1624) keeps the header valid.
  std::vector<std::uint8_t> copy(ip->packet().begin(), ip->packet().end());
  if (wire::ipv4_decrement_ttl(copy)) {
    auto again = wire::Ipv4View::parse(copy);
    FUZZ_CHECK(again && again->ttl() == ip->ttl() - 1);
  } else {
    FUZZ_CHECK(ip->ttl() == 0);
  }

  // What the writer supports (no options; flags DF or nothing, offset 0) rebuilds exactly.
  const std::uint16_t flags_offset = wire::load_be16(&ip->packet()[6]);
  if (ip->ihl() == 5 && (flags_offset == 0 || flags_offset == 0x4000)) {
    const wire::Ipv4Header h = ip->to_header();
    std::uint8_t out[20];
    FUZZ_CHECK(wire::write_ipv4_header(out, h, ip->payload().size()) == 20);
    // The checksum may differ only as 0x0000 and 0xFFFF do (both are one's-complement zero).
    std::uint8_t original[20];
    std::memcpy(original, ip->header().data(), 20);
    std::memset(original + 10, 0, 2);
    std::uint8_t rebuilt[20];
    std::memcpy(rebuilt, out, 20);
    std::memset(rebuilt + 10, 0, 2);
    FUZZ_CHECK(std::memcmp(original, rebuilt, 20) == 0);
    FUZZ_CHECK(wire::internet_checksum_reference(wire::Bytes(out, 20)) == 0);
  }
  return 0;
}
