#include "tcp/state.hpp"

namespace synack::tcp {

std::string_view to_string(State s) {
  switch (s) {
    case State::Closed:
      return "CLOSED";
    case State::Listen:
      return "LISTEN";
    case State::SynSent:
      return "SYN_SENT";
    case State::SynReceived:
      return "SYN_RECEIVED";
    case State::Established:
      return "ESTABLISHED";
    case State::FinWait1:
      return "FIN_WAIT_1";
    case State::FinWait2:
      return "FIN_WAIT_2";
    case State::CloseWait:
      return "CLOSE_WAIT";
    case State::Closing:
      return "CLOSING";
    case State::LastAck:
      return "LAST_ACK";
    case State::TimeWait:
      return "TIME_WAIT";
  }
  return "?";
}

}  // namespace synack::tcp
