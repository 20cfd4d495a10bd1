// What a ladder diagram shows, worked out once from a Recording for both renderers (text
// and SVG): the columns (one per host endpoint, address:port), the arrows (one per packet
// sent, with its label and fate: arrived, dropped by the link, dropped by the receiver)
// and the notes beside each column (socket calls, states entered, timers, drops), all as
// steps in the order they happened.
//
// Sequence numbers are relative to each side's ISN, as Wireshark shows them (the first
// sequence number seen in a direction when its SYN was not seen); windows are scaled once
// both SYNs agreed on window scaling. Timestamps, present on every segment once agreed,
// are labelled in the SYNs only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "trace/recording.hpp"

namespace synack::trace {

struct LadderOptions {
  bool absolute_seq = false;  // raw sequence numbers instead of relative ones
};

struct LadderColumn {
  Endpoint endpoint;
  std::string host_name;  // "client", or "" for an unnamed host
  // "client 198.18.0.1:49152", or the endpoint alone.
  std::string heading() const;
};

struct LadderArrow {
  std::size_t from = 0;  // columns
  std::size_t to = 0;
  Instant sent{};
  std::optional<Instant> arrived;  // when it reached the receiving stack
  std::string link_drop;           // the network dropped it: "loss", "queue full", ...
  std::string stack_drop;          // the receiver dropped it: "tcp: no socket on port"
  std::vector<std::string> label;  // "SYN+ACK", "seq=0", "ack=1", "win=65535", "<mss 1460>"
  std::string cause;               // a cause worth showing ("retransmit: RTO"), or ""
  bool retransmission = false;
  bool duplicate_arrived = false;  // the network delivered it twice
};

struct LadderNote {
  enum class Kind : std::uint8_t { api, state, timer, drop, info };
  Kind kind = Kind::api;
  std::size_t column = 0;
  std::string text;  // "connect(198.18.0.2:80) = EINPROGRESS", "TIME_WAIT"
};

struct LadderStep {
  enum class Kind : std::uint8_t { note, send, arrive };
  Kind kind = Kind::note;
  Instant at{};
  std::size_t index = 0;  // into notes (note) or arrows (send, arrive)
};

struct LadderModel {
  std::vector<LadderColumn> columns;
  std::vector<LadderArrow> arrows;
  std::vector<LadderNote> notes;
  std::vector<LadderStep> steps;  // in the order they happened
};

LadderModel build_ladder(const Recording& recording, const LadderOptions& options = {});

// "ECONNREFUSED" for the message of std::errc::connection_refused, or the text unchanged.
std::string errno_name(std::string_view message);

}  // namespace synack::trace
