// UDP (wire/udp.hpp). Input: 8 bytes of source and destination address, then the datagram.
// Properties: a parsed view stays within its length; the checksum test agrees with the
// RFC 1071 reference (0 meaning none); a datagram rebuilt from the parsed ports and payload
// parses back to them with a nonzero checksum both agree is right.
#include <algorithm>
#include <vector>

#include "fuzz_check.hpp"
#include "wire/udp.hpp"

using namespace synack;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 8) return 0;
  const wire::Ipv4Address src = wire::Ipv4Address::load(data);
  const wire::Ipv4Address dst = wire::Ipv4Address::load(data + 4);
  const wire::Bytes datagram(data + 8, size - 8);

  auto udp = wire::UdpView::parse(datagram);
  if (!udp) return 0;
  FUZZ_CHECK(udp->length() >= 8 && udp->length() <= datagram.size());
  FUZZ_CHECK(udp->datagram().size() == udp->length());
  FUZZ_CHECK(udp->payload().size() == udp->length() - 8u);
  const bool reference_ok =
      udp->checksum() == 0 || fuzz::reference_transport_checksum(src.to_u32(), dst.to_u32(),
                                                                 wire::kUdp, udp->datagram()) == 0;
  FUZZ_CHECK(wire::udp_checksum_ok(*udp, src, dst) == reference_ok);

  std::vector<std::uint8_t> out(udp->datagram().begin(), udp->datagram().end());
  FUZZ_CHECK(wire::write_udp_header(out, {.src_port = udp->src_port(), .dst_port = udp->dst_port()},
                                    src, dst) == 8);
  auto again = wire::UdpView::parse(out);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(again->src_port() == udp->src_port() && again->dst_port() == udp->dst_port());
  FUZZ_CHECK(again->length() == udp->length() && again->checksum() != 0);
  FUZZ_CHECK(wire::udp_checksum_ok(*again, src, dst));
  FUZZ_CHECK(fuzz::reference_transport_checksum(src.to_u32(), dst.to_u32(), wire::kUdp, out) == 0);
  FUZZ_CHECK(std::equal(again->payload().begin(), again->payload().end(), udp->payload().begin(),
                        udp->payload().end()));
  return 0;
}
