#include <charconv>

#include "synack/endpoint.hpp"

namespace synack {

std::optional<Endpoint> Endpoint::parse(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto address = Ipv4Address::parse(text.substr(0, colon));
  if (!address) return std::nullopt;
  unsigned port = 0;
  const auto digits = text.substr(colon + 1);
  auto [next, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (ec != std::errc{} || next != digits.data() + digits.size() || port > 65535 ||
      digits.empty()) {
    return std::nullopt;
  }
  return Endpoint{*address, static_cast<std::uint16_t>(port)};
}

std::string Endpoint::to_string() const {
  return address.to_string() + ":" + std::to_string(port);
}

}  // namespace synack
