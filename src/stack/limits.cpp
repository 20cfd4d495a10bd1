// The stack's resource limits (StackConfig::max_sockets, max_buffer_memory) where the
// packet path meets them, and the debug builds' check of every connection's invariants.
// socket() and accept() refuse beyond max_sockets in new_socket() (stack.cpp); TCP data and
// writes beyond the buffer memory in tcp/arrival.cpp and tcp/connection.cpp; UDP in udp.cpp.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "stack/stack_impl.hpp"

namespace synack {

// A listener at a limit refuses rather than falls over: the SYN is dropped, no child is
// made, and the client's SYN retransmission finds room once a socket closes or memory is
// freed. Connections already open go on as before. A child needs a socket to be accepted
// into (accept() would fail with EMFILE and leave it queued) and memory to receive into.
bool Stack::Impl::syn_over_limits() {
  if (open_sockets() < config.max_sockets && !memory.exhausted()) return false;
  ++counters.tcp.syn_limit_drops;
  return true;
}

void Stack::Impl::check_invariants([[maybe_unused]] ConnId id) const {
#ifndef NDEBUG
  // The compact TIME_WAIT table too, while it is small enough to walk at every event.
  if (time_wait.size() <= 64) time_wait.check_invariants();
  const ConnSlot& slot = conns[id];
  if (!slot.conn) return;
  const tcp::Connection& c = *slot.conn;
  c.check_invariants();
  // The connection's wheel timer is armed exactly while it has a deadline (sync_timers).
  // Between an application's call and the next poll() the connection may have changed them
  // while the wheel has not caught up: only a connection not waiting for output is checked,
  // and not while on_timer fires its kinds (it re-arms when every due kind has fired).
  if (slot.dirty || id == timers_firing) return;
  bool wanted = false;
  for (std::size_t k = 0; k < tcp::kTimerCount; ++k) {
    wanted = wanted || c.deadline(static_cast<tcp::Timer>(k)).has_value();
  }
  const bool armed = slot.timer != kNoTimer && wheel.armed(slot.timer);
  if (armed != wanted) {
    std::fprintf(stderr,
                 "synack: stack invariant violated: the connection's wheel timer is %s, but the "
                 "connection %s one; state %s, %s <-> %s\n",
                 armed ? "armed" : "not armed", wanted ? "wants" : "does not want",
                 std::string(tcp::to_string(c.state())).c_str(),
                 c.tuple().local.to_string().c_str(), c.tuple().remote.to_string().c_str());
    std::abort();
  }
#endif
}

}  // namespace synack
