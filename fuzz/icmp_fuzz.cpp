// ICMP (wire/icmp.hpp). Input: the message. Properties: parse accepts exactly the messages
// the RFC 1071 reference sums to zero; an echo request's reply parses with the same
// identifier, sequence and data; an error quoting the input parses, quotes its start, and
// its quoted IPv4 header (when the lenient parse takes it) lies within the quote.
#include <algorithm>
#include <vector>

#include "fuzz_check.hpp"
#include "wire/icmp.hpp"

using namespace synack;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const wire::Bytes message(data, size);
  auto icmp = wire::IcmpView::parse(message);
  FUZZ_CHECK(icmp.has_value() == (size >= 8 && wire::internet_checksum_reference(message) == 0));

  std::vector<std::uint8_t> out(size + 8 + wire::kIcmpMaxErrorQuote);
  if (icmp) {
    if (auto quoted = icmp->quoted_ipv4()) {
      FUZZ_CHECK(quoted->header_length() <= icmp->quoted().size());
    }
    const std::size_t n = wire::write_icmp_echo_reply(out, *icmp);
    FUZZ_CHECK((n != 0) == (icmp->type() == wire::kIcmpEchoRequest));
    if (n != 0) {
      auto reply = wire::IcmpView::parse(wire::Bytes(out.data(), n));
      FUZZ_CHECK(reply && reply->type() == wire::kIcmpEchoReply && reply->code() == 0);
      FUZZ_CHECK(reply->identifier() == icmp->identifier());
      FUZZ_CHECK(reply->sequence() == icmp->sequence());
      FUZZ_CHECK(std::ranges::equal(reply->echo_data(), icmp->echo_data()));
    }
  }

  // The input as an offending datagram: the error quotes its start, or nothing if too short.
  const std::size_t n =
      wire::write_icmp_destination_unreachable(out, wire::kIcmpPortUnreachable, message, 0);
  if (size < 20) FUZZ_CHECK(n == 0);
  if (n != 0) {
    auto error = wire::IcmpView::parse(wire::Bytes(out.data(), n));
    FUZZ_CHECK(error && error->is_error());
    FUZZ_CHECK(error->quoted().size() == std::min(size, wire::kIcmpMaxErrorQuote));
    FUZZ_CHECK(std::equal(error->quoted().begin(), error->quoted().end(), message.begin()));
  }

  // An echo request carrying the input parses back to it.
  const std::size_t e = wire::write_icmp_echo_request(out, 0x1234, 0x5678, message);
  FUZZ_CHECK(e == size + 8);
  auto echo = wire::IcmpView::parse(wire::Bytes(out.data(), e));
  FUZZ_CHECK(echo && echo->type() == wire::kIcmpEchoRequest);
  FUZZ_CHECK(echo->identifier() == 0x1234 && echo->sequence() == 0x5678);
  FUZZ_CHECK(std::ranges::equal(echo->echo_data(), message));
  return 0;
}
