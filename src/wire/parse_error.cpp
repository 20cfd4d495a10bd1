#include "wire/parse_error.hpp"

#include <string>

namespace synack::wire {

std::string_view to_string(ParseError e) {
  switch (e) {
    case ParseError::truncated:
      return "truncated";
    case ParseError::bad_version:
      return "bad_version";
    case ParseError::bad_ihl:
      return "bad_ihl";
    case ParseError::bad_total_length:
      return "bad_total_length";
    case ParseError::bad_checksum:
      return "bad_checksum";
    case ParseError::bad_data_offset:
      return "bad_data_offset";
    case ParseError::bad_option_length:
      return "bad_option_length";
    case ParseError::bad_length:
      return "bad_length";
    case ParseError::fragment:
      return "fragment";
  }
  return "unknown";
}

namespace {
class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "synack.wire"; }
  std::string message(int ev) const override {
    return std::string(to_string(static_cast<ParseError>(ev)));
  }
};
}  // namespace

const std::error_category& parse_error_category() {
  static const Category category;
  return category;
}

}  // namespace synack::wire
