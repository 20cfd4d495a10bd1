// Why a packet failed to parse. Every malformed case has its own value so that the layer
// above can count drops by reason (DESIGN.md principle 8).
#pragma once

#include <string_view>
#include <system_error>

namespace synack::wire {

enum class ParseError {
  truncated = 1,      // buffer shorter than the fixed header
  bad_version,        // IPv4: version field is not 4
  bad_ihl,            // IPv4: IHL < 5 or header longer than the buffer/total length
  bad_total_length,   // IPv4: total length < header length or past the end of the buffer
  bad_checksum,       // header (IPv4) or pseudo-header (TCP/UDP/ICMP) checksum mismatch
  bad_data_offset,    // TCP: data offset < 5 or past the end of the segment
  bad_option_length,  // TCP: option length < 2 or running past the header
  bad_length,         // UDP: length field < 8 or past the end of the datagram
  fragment,           // IPv4: a fragment (MF set or offset != 0): needs reassembly first
};

std::string_view to_string(ParseError e);
const std::error_category& parse_error_category();
inline std::error_code make_error_code(ParseError e) {
  return {static_cast<int>(e), parse_error_category()};
}

}  // namespace synack::wire

template <>
struct std::is_error_code_enum<synack::wire::ParseError> : std::true_type {};
