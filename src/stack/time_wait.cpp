// A compacted TIME_WAIT at work: its segments answered by the rule the connection would
// have followed (tcp/time_wait.hpp), the 4-tuple reopened by a new SYN (RFC 6191), and the
// end of 2·MSL, traced as the connection's own timer and state change would be.
#include "stack/stack_impl.hpp"

namespace synack {

namespace {
constexpr auto kTimeWait = static_cast<std::size_t>(tcp::State::TimeWait);
}  // namespace

void Stack::Impl::time_wait_input(TimeWaitTable::Handle h, const FourTuple& tuple,
                                  const tcp::Segment& seg, wire::Bytes packet) {
  tcp::TimeWaitState state = time_wait.state(h);
  if (seg.has(wire::TcpFlags::syn) && !seg.has(wire::TcpFlags::ack) &&
      !seg.has(wire::TcpFlags::rst) && after(seg.seq, state.rcv_nxt) &&
      listeners.contains(tuple.local.port)) {
    // RFC 9293 §3.10.7.4 / RFC 6191, as tcp_input does for a connection: the old
    // incarnation goes (closed quietly, as Connection::abort in TIME_WAIT) and the listener
    // takes the SYN with an ISS past the old SND.NXT.
    ++counters.tcp.time_wait_reused;
    time_wait.erase(h);
    --counters.tcp.in_state[kTimeWait];
    if (trace) trace->on_state(now, tuple, tcp::State::TimeWait, tcp::State::Closed, "abort");
    const std::string_view why =
        listen_input(listeners.at(tuple.local.port), tuple, seg, state.snd_nxt + 65536 + 2);
    if (!why.empty()) drop(packet, "tcp", why);
    return;
  }
  const tcp::TimeWaitReply reply = tcp::time_wait_arrival(state, seg, now, counters);
  if (!reply.drop_reason.empty()) drop(packet, "tcp", reply.drop_reason);
  time_wait.update(h, state, reply.restart, now);
  if (reply.ack) send_tcp(tuple, tcp::time_wait_ack(state, tuple, reply, now, counters), nullptr);
}

void Stack::Impl::expire_time_wait() {
  time_wait.expire(now, [&](const FourTuple& tuple) {
    // Connection::on_timer(Timer::TimeWait): the timer, then TIME_WAIT -> CLOSED.
    --counters.tcp.in_state[kTimeWait];
    if (trace) {
      trace->on_timer(now, tuple, tcp::to_string(tcp::Timer::TimeWait));
      trace->on_state(now, tuple, tcp::State::TimeWait, tcp::State::Closed, "2MSL expired");
    }
  });
}

}  // namespace synack
