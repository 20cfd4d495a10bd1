// The TCP header (wire/tcp.hpp). Input: 8 bytes of source and destination address, then the
// segment. Properties: a parsed view stays within its bytes; the checksum test agrees with
// the RFC 1071 reference; the decoded header, written again, parses back to the same fields
// (options as far as the writer lays them out) with a checksum both agree is right.
#include <vector>

#include "fuzz_check.hpp"
#include "tcp_options_normal.hpp"
#include "wire/tcp.hpp"

using namespace synack;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 8) return 0;
  const std::uint32_t src = wire::load_be32(data);
  const std::uint32_t dst = wire::load_be32(data + 4);
  const wire::Bytes segment(data + 8, size - 8);

  if (segment.size() <= 0xffff) {
    const bool ok =
        fuzz::reference_transport_checksum(src, dst, wire::ip_protocol_tcp, segment) == 0;
    FUZZ_CHECK(wire::tcp_checksum_ok(src, dst, segment) == ok);
  }

  auto tcp = wire::TcpView::parse(segment);
  if (!tcp) return 0;
  FUZZ_CHECK(tcp->header_length() == std::size_t{tcp->data_offset()} * 4);
  FUZZ_CHECK(tcp->header_length() >= 20 && tcp->header_length() <= segment.size());
  FUZZ_CHECK(tcp->payload().size() == segment.size() - tcp->header_length());
  FUZZ_CHECK(wire::tcp_options_well_formed(tcp->options_bytes()));

  wire::TcpHeader h = tcp->to_header();
  const bool syn = h.flags.has(wire::TcpFlags::syn);
  h.options = fuzz::writable_options(h.options, syn);
  std::vector<std::uint8_t> out(60 + tcp->payload().size());
  const std::size_t n = wire::write_tcp(out, h, tcp->payload(), src, dst);
  if (tcp->payload().size() + wire::tcp_header_length(h) > 0xffff) {
    FUZZ_CHECK(n == 0);
    return 0;
  }
  FUZZ_CHECK(n == wire::tcp_header_length(h) + tcp->payload().size());
  const wire::Bytes written(out.data(), n);
  FUZZ_CHECK(wire::tcp_checksum_ok(src, dst, written));
  FUZZ_CHECK(fuzz::reference_transport_checksum(src, dst, wire::ip_protocol_tcp, written) == 0);
  auto again = wire::TcpView::parse(written);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(again->to_header() == h);
  FUZZ_CHECK(again->reserved_bits() == 0);
  const auto payload = again->payload();
  FUZZ_CHECK(
      std::equal(payload.begin(), payload.end(), tcp->payload().begin(), tcp->payload().end()));
  return 0;
}
