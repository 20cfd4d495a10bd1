// The operations of the sim_api target's input script: one byte each, then its arguments.
// Shared with gen_corpus, which writes seed scripts in the same language.
#pragma once

#include <cstdint>

namespace synack::fuzz {

enum Op : std::uint8_t {
  kTcpSocket,
  kUdpSocket,
  kBind,
  kListen,
  kAccept,
  kConnect,
  kRead,
  kWrite,
  kShutdown,
  kClose,
  kSetsockopt,
  kSendTo,
  kReceiveFrom,
  kObserve,
  kRun,
  kInject,
  kOpCount
};

}  // namespace synack::fuzz
