// The states of RFC 9293 §3.3.2, named as the RFC names them.
#pragma once

#include <cstdint>
#include <string_view>

namespace synack::tcp {

enum class State : std::uint8_t {
  Closed,
  Listen,
  SynSent,
  SynReceived,
  Established,
  FinWait1,
  FinWait2,
  CloseWait,
  Closing,
  LastAck,
  TimeWait,
};
inline constexpr std::size_t kStateCount = 11;

// "SYN_SENT", "ESTABLISHED": the spelling netstat and ss print.
std::string_view to_string(State s);

// RFC 9293 §3.3.2: the synchronized states, where every segment must carry an ACK and
// sequence numbers are checked against the window.
constexpr bool synchronized(State s) {
  return s != State::Closed && s != State::Listen && s != State::SynSent && s != State::SynReceived;
}

}  // namespace synack::tcp
