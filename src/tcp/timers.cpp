// Timer expiries: retransmission with backoff (RFC 6298 §5), the delayed ACK, the end of
// TIME_WAIT (and of an orphan's FIN_WAIT_2), zero-window and keepalive probes.
#include "tcp/connection.hpp"

namespace synack::tcp {

void Connection::on_timer(Timer timer, Instant now) {
  const AccountOnExit account{*this};
  auto& slot = timers_[static_cast<std::size_t>(timer)];
  if (slot == kUnarmed || slot > now) return;  // cancelled or moved since the wheel fired
  slot = kUnarmed;
  if (ctx_->trace) ctx_->trace->on_timer(now, tuple_, to_string(timer));

  switch (timer) {
    case Timer::Retransmit: {
      if (snd_una_ == snd_max_) return;  // nothing outstanding
      ++ctx_->counters.tcp.timeouts;
      if (const std::string_view why = retransmission_limit(now); !why.empty()) {
        fail(std::errc::timed_out, why, now);
        return;
      }
      if (!retrans_stamp_) retrans_stamp_ = now;
      bump(retries_);
      rto_.back_off();       // RFC 6298 (5.5) [RFC9293 MUST-19]
      has_rtt_seq_ = false;  // Karn: no sample across a retransmission
      // RFC 5681 §3.1: one segment, slow start again; RFC 6582 §3.2 step 1: losses from
      // this window do not start a new fast recovery.
      if (synchronized(state_)) cc_.on_timeout(flight_size());
      in_recovery_ = false;
      undo_retrans_ = -1;  // a timeout is never undone
      rtx_first_ = false;
      dup_acks_ = 0;
      recover_ = snd_max_;
      recovered_once_ = true;
      high_rxt_ = snd_una_;
      // RFC 2018 §8: the receiver may have dropped what it SACKed. Trust the scoreboard for
      // one timeout; a second with no progress means it reneged, so forget it.
      if (retries_ > 1) scoreboard_.clear();
      snd_nxt_ = snd_una_;  // go back and resend from the oldest unacknowledged octet (5.4)
      arm(Timer::Retransmit,
          clamp_to_user_timeout(now + current_rto(), retrans_stamp_, now));  // (5.6)
      return;
    }
    case Timer::DelayedAck:
      ack_now("delayed ack");
      return;
    case Timer::TimeWait:
      if (state_ == State::TimeWait || state_ == State::FinWait2) {
        orphaned_ = true;
        set_state(State::Closed, state_ == State::TimeWait ? "2MSL expired" : "FIN_WAIT_2 timeout",
                  now);
      }
      return;
    case Timer::Persist:  // probes go on while answered [RFC9293 MUST-37]
      if (!synchronized(state_)) return;
      // RFC 1122 4.2.2.17: the window may stay shut indefinitely while the peer answers the
      // probes (any segment from it resets the count). A peer that stops answering is given
      // up after as many probes as retransmissions, as Linux's tcp_probe_timer does.
      // An application that set TCP_USER_TIMEOUT asked for a bound, answered or not (RFC
      // 6429: ending a connection stuck in persist is the application's call): like Linux,
      // the window may stay shut that long after the first probe.
      if (!probes_stamp_) {
        probes_stamp_ = now;
      } else if (config_->user_timeout > Duration::zero() &&
                 now - *probes_stamp_ >= config_->user_timeout) {
        fail(std::errc::timed_out, "user timeout: window still shut", now);
        return;
      }
      if (window_probes_ >= count_limit(config_->data_retries)) {
        fail(std::errc::timed_out, "zero-window probes unanswered", now);
        return;
      }
      bump(window_probes_);
      window_probe_ = true;
      bump(persist_backoff_);
      return;  // output re-arms the timer while data still waits
    case Timer::Keepalive: {
      if (!config_->keepalive.enabled || !synchronized(state_) || state_ == State::TimeWait) return;
      const Instant idle_end = last_received_ + config_->keepalive.idle;
      if (keepalive_probes_ == 0 && idle_end > now) {
        arm(Timer::Keepalive, idle_end);  // traffic since: wait out the idle time again
        return;
      }
      // Only after idle time [RFC9293 MUST-26]; several probes, as ACKs get lost [RFC9293 MUST-29].
      // With TCP_USER_TIMEOUT, Linux's tcp_keepalive_timer gives up on time instead of on
      // the count: once a probe is out and nothing has come for the user timeout.
      const bool given_up =
          config_->user_timeout > Duration::zero()
              ? keepalive_probes_ > 0 && now - last_received_ >= config_->user_timeout
              : keepalive_probes_ >= count_limit(config_->keepalive.count);
      if (given_up) {
        fail(std::errc::timed_out, "keepalive: no answer", now);
        return;
      }
      bump(keepalive_probes_);
      keepalive_probe_ = true;
      arm(Timer::Keepalive, now + config_->keepalive.interval);
      return;
    }
  }
}

bool Connection::user_timeout_applies() const {
  // A listener's child in SYN_RECEIVED is, on Linux, a request socket that retransmits its
  // SYN,ACK synack_retries times whatever the listener's TCP_USER_TIMEOUT; the connection
  // made from it inherits the option.
  return config_->user_timeout > Duration::zero() && !(state_ == State::SynReceived && passive_);
}

std::string_view Connection::retransmission_limit(Instant now) const {
  // R2 for data, and the same mechanism for SYNs [RFC9293 MUST-20, MUST-22].
  const bool connecting = state_ == State::SynSent || state_ == State::SynReceived;
  const int limit = state_ == State::SynSent       ? config_->syn_retries
                    : state_ == State::SynReceived ? config_->synack_retries
                                                   : config_->data_retries;
  // Linux's tcp_write_timeout: the user timeout replaces the count for data; a SYN stops
  // at whichever comes first. Either way it only ends a connection that has retransmitted.
  const bool timed = user_timeout_applies();
  if ((connecting || !timed) && retries_ >= count_limit(limit)) return "retransmission limit";
  if (timed && retries_ > 0 && retrans_stamp_ && now - *retrans_stamp_ >= config_->user_timeout) {
    return "user timeout";
  }
  return {};
}

Instant Connection::clamp_to_user_timeout(Instant when, std::optional<Instant> since,
                                          Instant now) const {
  if (!since || !user_timeout_applies()) return when;
  // The connection ends when the user timeout does, not up to a whole backed-off RTO
  // later; if it has already run out, at once (Linux: one tick).
  const Instant end = *since + config_->user_timeout;
  return std::min(when, end > now ? end : now + milliseconds(1));
}

}  // namespace synack::tcp
