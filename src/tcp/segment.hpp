// A TCP segment as the state machine sees it: decoded header fields and a payload view.
// Inbound segments come from wire::TcpView; outbound ones are described here and turned
// into bytes by the stack, which copies the payload straight from the send buffer.
#pragma once

#include <cstdint>
#include <string_view>

#include "tcp/seq.hpp"
#include "wire/bytes.hpp"
#include "wire/tcp.hpp"

namespace synack::tcp {

using wire::TcpFlags;

struct Segment {
  Seq seq;
  Seq ack;
  TcpFlags flags;
  std::uint16_t window = 0;  // as on the wire, not yet scaled
  wire::TcpOptions options;
  wire::Bytes payload;

  bool has(TcpFlags f) const { return flags.has(f); }
  // SEG.LEN of RFC 9293 §3.4: the payload plus one for each of SYN and FIN.
  std::uint32_t len() const {
    return static_cast<std::uint32_t>(payload.size()) + (has(TcpFlags::syn) ? 1u : 0u) +
           (has(TcpFlags::fin) ? 1u : 0u);
  }

  static Segment from(const wire::TcpView& view);
};

// What the connection wants sent: a header and, for data, where in the send buffer the
// payload starts and how long it is.
struct OutSegment {
  wire::TcpHeader header;
  std::size_t payload_offset = 0;  // bytes past the front of the send buffer
  std::size_t payload_length = 0;
  // The payload of one segment on the wire (the MSS less options) for data segments: a
  // payload longer than this is a TSO super-segment that the link cuts into pieces of
  // this size. 0 for segments without data.
  std::size_t segment_size = 0;
  std::string_view cause;  // why it is sent, for the trace ("retransmit: RTO")
  bool retransmission = false;

  // The segments it stands for on the wire: more than one for a TSO super-segment.
  std::size_t pieces() const {
    return segment_size > 0 && payload_length > segment_size
               ? (payload_length + segment_size - 1) / segment_size
               : 1;
  }
};

}  // namespace synack::tcp
