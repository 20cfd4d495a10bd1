#include "wire/udp.hpp"

#include "wire/checksum.hpp"

namespace synack::wire {

Result<UdpView, ParseError> UdpView::parse(Bytes datagram) {
  if (datagram.size() < kHeaderLength) return Unexpected{ParseError::truncated};
  const std::size_t length = load_be16(&datagram[4]);
  if (length < kHeaderLength || length > datagram.size()) return Unexpected{ParseError::bad_length};
  return UdpView(datagram.first(length));
}

bool udp_checksum_ok(const UdpView& udp, Ipv4Address src, Ipv4Address dst) {
  if (udp.checksum() == 0) return true;
  return transport_checksum_ok(src.to_u32(), dst.to_u32(), kUdp, udp.datagram());
}

std::size_t write_udp_header(MutableBytes datagram, const UdpHeader& header, Ipv4Address src,
                             Ipv4Address dst) {
  if (datagram.size() < UdpView::kHeaderLength || datagram.size() > 0xffff) return 0;
  std::uint8_t* p = datagram.data();
  store_be16(p + 0, header.src_port);
  store_be16(p + 2, header.dst_port);
  store_be16(p + 4, static_cast<std::uint16_t>(datagram.size()));
  store_be16(p + 6, 0);
  const std::uint16_t checksum = transport_checksum(src.to_u32(), dst.to_u32(), kUdp, datagram);
  store_be16(p + 6, checksum == 0 ? 0xffff : checksum);
  return UdpView::kHeaderLength;
}

}  // namespace synack::wire
