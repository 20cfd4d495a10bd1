#include "wire/icmp.hpp"

#include <algorithm>
#include <cstring>

#include "wire/checksum.hpp"

namespace synack::wire {
namespace {

// Fills in the 8-byte header of a message whose body is already in place, and its checksum.
std::size_t finish_message(MutableBytes message, std::uint8_t type, std::uint8_t code,
                           std::uint32_t rest_of_header) {
  std::uint8_t* p = message.data();
  p[0] = type;
  p[1] = code;
  store_be16(p + 2, 0);
  store_be32(p + 4, rest_of_header);
  store_be16(p + 2, internet_checksum(message));
  return message.size();
}

std::size_t write_error(MutableBytes out, std::uint8_t type, std::uint8_t code,
                        std::uint32_t rest_of_header, Bytes original) {
  constexpr std::size_t kHeader = IcmpView::kHeaderLength;
  if (original.size() < Ipv4View::kMinHeaderLength || out.size() < kHeader) return 0;
  const std::size_t ihl_bytes = std::size_t{static_cast<std::uint8_t>(original[0] & 0x0f)} * 4;
  const std::size_t minimum =
      std::min(original.size(), std::max(ihl_bytes, Ipv4View::kMinHeaderLength) + 8);
  const std::size_t quote = std::min({original.size(), kIcmpMaxErrorQuote, out.size() - kHeader});
  if (quote < minimum) return 0;
  std::memmove(out.data() + kHeader, original.data(), quote);
  return finish_message(out.first(kHeader + quote), type, code, rest_of_header);
}

}  // namespace

Result<IcmpView, ParseError> IcmpView::parse(Bytes message) {
  if (message.size() < kHeaderLength) return Unexpected{ParseError::truncated};
  // A correct message sums to -0 (0xFFFF), so its checksum over itself is 0.
  if (internet_checksum(message) != 0) return Unexpected{ParseError::bad_checksum};
  return IcmpView(message);
}

bool IcmpView::is_error() const {
  switch (type()) {
    case kIcmpDestinationUnreachable:
    case kIcmpSourceQuench:
    case kIcmpRedirect:
    case kIcmpTimeExceeded:
    case kIcmpParameterProblem:
      return true;
    default:
      return false;
  }
}

std::size_t write_icmp_echo_request(MutableBytes out, std::uint16_t identifier,
                                    std::uint16_t sequence, Bytes data) {
  const std::size_t length = IcmpView::kHeaderLength + data.size();
  if (out.size() < length) return 0;
  if (!data.empty()) std::memmove(out.data() + IcmpView::kHeaderLength, data.data(), data.size());
  return finish_message(out.first(length), kIcmpEchoRequest, 0,
                        (std::uint32_t{identifier} << 16) | sequence);
}

std::size_t write_icmp_echo_reply(MutableBytes out, const IcmpView& request) {
  if (request.type() != kIcmpEchoRequest) return 0;
  // Read everything from the request before writing: `out` may be the request itself.
  const std::uint32_t rest_of_header = request.rest_of_header();
  const Bytes data = request.echo_data();
  const std::size_t length = IcmpView::kHeaderLength + data.size();
  if (out.size() < length) return 0;
  if (!data.empty()) std::memmove(out.data() + IcmpView::kHeaderLength, data.data(), data.size());
  return finish_message(out.first(length), kIcmpEchoReply, 0, rest_of_header);
}

std::size_t write_icmp_destination_unreachable(MutableBytes out, std::uint8_t code, Bytes original,
                                               std::uint16_t next_hop_mtu) {
  return write_error(out, kIcmpDestinationUnreachable, code, next_hop_mtu, original);
}

std::size_t write_icmp_time_exceeded(MutableBytes out, std::uint8_t code, Bytes original) {
  return write_error(out, kIcmpTimeExceeded, code, 0, original);
}

std::size_t write_icmp_parameter_problem(MutableBytes out, std::uint8_t pointer, Bytes original) {
  // The pointer is the first octet of the rest of the header.
  return write_error(out, kIcmpParameterProblem, 0, std::uint32_t{pointer} << 24, original);
}

}  // namespace synack::wire
