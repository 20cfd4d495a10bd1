// Why the connection owes a segment (an ACK, a RST) or dropped one, as the trace prints it.
// The connection keeps three of these per TCB; as std::string_view they took 16 bytes each,
// as an index into one table of the texts they take one. A Cause is made from its text at
// compile time (consteval), so call sites still read ack_now("ack: hole filled"), the trace
// prints the very same text, and a text missing from the table does not compile: add it to
// kCauseTexts.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace synack::tcp {

inline constexpr std::array<std::string_view, 27> kCauseTexts{
    "",  // no cause: nothing owed, nothing dropped
    // ACKs (ack_now, challenge_ack)
    "ack",
    "ack of FIN",
    "ack: beyond the window",
    "ack: duplicate (D-SACK)",
    "ack: every second segment",
    "ack: hole filled",
    "ack: old timestamp (PAWS)",
    "ack: out of buffer memory",
    "ack: out of window",
    "challenge ACK: ACK too old",
    "challenge ACK: RST",
    "challenge ACK: SYN",
    "challenge ACK: unsent data acked",
    "delayed ack",
    "dup ack: FIN out of order",
    "dup ack: out of order",
    "handshake ACK",
    "window update",
    // RSTs (reset_with)
    "abort",
    "reset: data after close()",
    "reset: unacceptable ACK",
    // Drops (take_drop_reason)
    "ACK too old (RFC 5961 §5.2)",
    "RST in TIME_WAIT (RFC 1337)",
    "challenge ACK rate limit (RFC 5961 §7)",
    "no ACK flag",
    "out of buffer memory",
};

class Cause {
 public:
  constexpr Cause() = default;  // none
  // Implicit by design: the call sites name the text. Not constant (not in the table): the
  // throw makes the call ill-formed.
  consteval Cause(const char* text) : index_(index_of(text)) {}  // NOLINT

  std::string_view text() const { return kCauseTexts[index_]; }
  bool empty() const { return index_ == 0; }

 private:
  static consteval std::uint8_t index_of(std::string_view text) {
    for (std::size_t i = 0; i < kCauseTexts.size(); ++i) {
      if (kCauseTexts[i] == text) return static_cast<std::uint8_t>(i);
    }
    throw "a cause missing from kCauseTexts";
  }
  std::uint8_t index_ = 0;
};
static_assert(kCauseTexts.size() <= 256, "a Cause is one byte");

}  // namespace synack::tcp
