// Segment arrival, RFC 9293 §3.10.7, step by step in the RFC's order. LISTEN and CLOSED
// (§3.10.7.1, §3.10.7.2) have no connection and are handled by the stack's demux.
#include <algorithm>

#include "tcp/connection.hpp"

namespace synack::tcp {

Segment Segment::from(const wire::TcpView& view) {
  return Segment{Seq(view.seq()), Seq(view.ack()), view.flags(),
                 view.window(),   view.options(),  view.payload()};
}

void Connection::take_peer_syn_options(const Segment& seg) {
  // RFC 9293 §3.7.1: without the MSS option the peer can take 536 bytes [MUST-15].
  const std::uint16_t peer_mss = seg.options.mss.value_or(536);
  send_mss_ = std::max<std::uint16_t>(64, std::min(peer_mss, config_.mss));
  // RFC 7323 §2.2: scaling is on only when both SYNs carry the option; shifts above 14 are
  // taken as 14 (§2.3).
  window_scaling_ = config_.window_scaling && seg.options.window_scale.has_value();
  if (window_scaling_) {
    snd_wscale_ = std::min<std::uint8_t>(*seg.options.window_scale, 14);
  } else {
    snd_wscale_ = 0;
    rcv_wscale_ = 0;
  }
}

void Connection::update_send_window(const Segment& seg) {
  // 3.10.7.4 fifth, ESTABLISHED: update the window only from a segment newer than the
  // last one that did (SND.WL1, SND.WL2), so an old reordered segment cannot shrink it.
  if (before(snd_wl1_, seg.seq) || (snd_wl1_ == seg.seq && before_eq(snd_wl2_, seg.ack))) {
    snd_wnd_ = static_cast<std::uint32_t>(seg.window) << snd_wscale_;
    max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
    snd_wl1_ = seg.seq;
    snd_wl2_ = seg.ack;
  }
}

void Connection::on_segment(const Segment& seg, Instant now) {
  last_received_ = now;
  keepalive_probes_ = 0;
  switch (state_) {
    case State::Closed:
    case State::Listen:
      return;  // the stack answers these (3.10.7.1, 3.10.7.2)
    case State::SynSent:
      on_segment_syn_sent(seg, now);
      return;
    default:
      break;
  }

  // A retransmitted SYN in SYN_RECEIVED means our SYN,ACK was lost: send it again at once,
  // as Linux does, rather than only the ACK the sequence check would give.
  if (state_ == State::SynReceived && seg.has(TcpFlags::syn) && !seg.has(TcpFlags::ack) &&
      seg.seq == irs_) {
    snd_nxt_ = iss_;
    retransmitting_ = true;
    return;
  }

  // 3.10.7.4 first: check the sequence number.
  if (!acceptable(seg)) {
    ++ctx_->counters.tcp.out_of_window;
    // [RFC9293 MUST-?]: an unacceptable segment gets an ACK, unless it is an RST.
    if (!seg.has(TcpFlags::rst)) ack_now_ = true;
    if (state_ == State::TimeWait && seg.has(TcpFlags::fin)) {
      // A retransmitted FIN in TIME_WAIT lies below RCV.NXT: re-ACK it and restart the
      // 2·MSL wait (3.10.7.4 eighth, TIME-WAIT).
      arm(Timer::TimeWait, now + 2 * config_.msl);
    }
    return;
  }

  // 3.10.7.4 second: check the RST bit.
  if (seg.has(TcpFlags::rst)) {
    on_rst(seg, now);
    return;
  }

  // 3.10.7.4 third: security (not implemented: no IP security options).

  // 3.10.7.4 fourth: check the SYN bit. In a synchronized state (and for an in-window SYN
  // in SYN_RECEIVED) RFC 5961 §4 replaces the old reset with a challenge ACK.
  if (seg.has(TcpFlags::syn)) {
    ack_now_ = true;
    return;
  }

  // 3.10.7.4 fifth: check the ACK field. [RFC9293 MUST-?] a segment without ACK is dropped.
  if (!seg.has(TcpFlags::ack)) {
    ++ctx_->counters.tcp.no_ack_flag;
    return;
  }
  if (!on_ack(seg, now)) return;

  // 3.10.7.4 sixth: the URG bit (urgent data is delivered in line; nothing to do).

  // 3.10.7.4 seventh: process the segment text.
  on_text(seg, now);

  // 3.10.7.4 eighth: check the FIN bit.
  if (seg.has(TcpFlags::fin)) on_fin(seg, now);
}

// 3.10.7.3, SYN-SENT.
void Connection::on_segment_syn_sent(const Segment& seg, Instant now) {
  bool ack_ok = false;
  // first: check the ACK bit.
  if (seg.has(TcpFlags::ack)) {
    if (before_eq(seg.ack, iss_) || after(seg.ack, snd_max_)) {
      // Not for our SYN: <SEQ=SEG.ACK><CTL=RST>, unless the segment is itself an RST.
      if (!seg.has(TcpFlags::rst)) reset_with(seg.ack, false);
      ++ctx_->counters.tcp.bad_ack;
      return;
    }
    ack_ok = true;  // SND.UNA < SEG.ACK =< SND.NXT
  }
  // second: check the RST bit. Only an RST that acknowledges our SYN refuses the
  // connection; any other is dropped (RFC 5961 §3 keeps blind RSTs out).
  if (seg.has(TcpFlags::rst)) {
    if (ack_ok) {
      ++ctx_->counters.tcp.in_rsts;
      fail(std::errc::connection_refused, "RST: connection refused", now);
    } else {
      ++ctx_->counters.tcp.rst_ignored;
    }
    return;
  }
  // fourth: check the SYN bit.
  if (!seg.has(TcpFlags::syn)) return;  // fifth: neither SYN nor RST: drop
  irs_ = seg.seq;
  rcv_nxt_ = seg.seq + 1;
  rcv_adv_ = rcv_nxt_;
  take_peer_syn_options(seg);
  snd_wnd_ = seg.window;  // unscaled in a SYN
  max_snd_wnd_ = snd_wnd_;
  snd_wl1_ = seg.seq;
  snd_wl2_ = seg.ack;
  if (ack_ok) {
    snd_una_ = seg.ack;
    if (rtt_seq_ && !retransmitting_ && retries_ == 0) rto_.on_sample(now - rtt_start_);
    rtt_seq_.reset();
    retries_ = 0;
    rto_.reset_backoff();
    cancel(Timer::Retransmit);
    set_state(State::Established, "SYN+ACK received", now);
    ack_now_ = true;  // the third segment of the handshake
    on_text(seg, now);
    if (seg.has(TcpFlags::fin)) on_fin(seg, now);
    return;
  }
  // Simultaneous open: both sent SYN. Answer SYN,ACK from our ISS (3.10.7.3 fourth).
  set_state(State::SynReceived, "SYN received (simultaneous open)", now);
  snd_nxt_ = iss_;
  retransmitting_ = true;
}

// 3.10.7.4 first: the four cases of the acceptability test.
bool Connection::acceptable(const Segment& seg) const {
  const std::uint32_t len = seg.len();
  const std::uint32_t wnd = rcv_wnd();
  if (len == 0) return wnd == 0 ? seg.seq == rcv_nxt_ : in_window(seg.seq, rcv_nxt_, wnd);
  if (wnd == 0) return false;
  return in_window(seg.seq, rcv_nxt_, wnd) || in_window(seg.seq + (len - 1), rcv_nxt_, wnd);
}

// 3.10.7.4 second. Returns true when the connection was reset.
bool Connection::on_rst(const Segment& seg, Instant now) {
  // RFC 5961 §3.2: only an RST exactly at RCV.NXT resets; one elsewhere in the window
  // gets a challenge ACK, so a blind attacker must guess the exact number.
  if (seg.seq != rcv_nxt_) {
    ++ctx_->counters.tcp.rst_ignored;
    ack_now_ = true;
    return false;
  }
  ++ctx_->counters.tcp.in_rsts;
  switch (state_) {
    case State::SynReceived:
      // Passive open: back to LISTEN, which for us means the child simply goes away.
      // Active (simultaneous) open: the connection was refused.
      fail(std::errc::connection_refused, "RST in SYN_RECEIVED", now);
      return true;
    case State::Established:
    case State::FinWait1:
    case State::FinWait2:
    case State::CloseWait:
      if (state_ == State::Established || state_ == State::CloseWait) {
        ++ctx_->counters.tcp.estab_resets;
      }
      fail(std::errc::connection_reset, "RST: connection reset", now);
      return true;
    default:  // CLOSING, LAST_ACK, TIME_WAIT: close quietly
      orphaned_ = true;
      set_state(State::Closed, "RST", now);
      return true;
  }
}

// 3.10.7.4 fifth. Returns false when the segment is to be dropped here.
bool Connection::on_ack(const Segment& seg, Instant now) {
  if (state_ == State::SynReceived) {
    // If SND.UNA < SEG.ACK =< SND.NXT, enter ESTABLISHED; otherwise <SEQ=SEG.ACK><CTL=RST>.
    if (!(before(snd_una_, seg.ack) && before_eq(seg.ack, snd_max_))) {
      reset_with(seg.ack, false);
      ++ctx_->counters.tcp.bad_ack;
      return false;
    }
    snd_wnd_ = static_cast<std::uint32_t>(seg.window) << snd_wscale_;
    max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
    snd_wl1_ = seg.seq;
    snd_wl2_ = seg.ack;
    set_state(State::Established, "ACK of SYN", now);
  }

  if (after(seg.ack, snd_max_)) {
    // An ACK for something not yet sent: ACK back and drop (RFC 5961 §5 makes it a
    // challenge ACK).
    ++ctx_->counters.tcp.bad_ack;
    ack_now_ = true;
    return false;
  }

  if (after(seg.ack, snd_una_)) {
    // New data acknowledged. The SYN occupies ISS; the FIN the number after the data.
    const Seq data_start = send_buffer_seq_;
    const Seq acked_to = earliest(seg.ack, send_buffer_end());
    if (after(acked_to, data_start)) {
      send_buffer_.consume(static_cast<std::size_t>(acked_to - data_start));
      send_buffer_seq_ = acked_to;
    }
    snd_una_ = seg.ack;
    if (before(snd_nxt_, snd_una_)) snd_nxt_ = snd_una_;
    // Karn's rule: only a segment sent once gives a sample.
    if (rtt_seq_ && after_eq(seg.ack, *rtt_seq_)) {
      if (retries_ == 0) rto_.on_sample(now - rtt_start_);
      rtt_seq_.reset();
    }
    retries_ = 0;
    rto_.reset_backoff();
    if (snd_nxt_ == snd_max_) retransmitting_ = false;
    restart_retransmit_timer(now);
  } else if (before(seg.ack, snd_una_)) {
    ++ctx_->counters.tcp.old_ack;  // an old duplicate: ignore the ACK field
  }
  // The window is updated only for SND.UNA =< SEG.ACK =< SND.NXT (3.10.7.4 fifth). An
  // older ACK says nothing current about the window; forged in the window (RFC 5961 §5) it
  // could close it to zero and, moving SND.WL1 ahead, keep every real update out for good.
  if (state_ != State::SynReceived && !before(seg.ack, snd_una_)) update_send_window(seg);

  const bool fin_acked = fin_queued_ && snd_una_ == *fin_seq() + 1;
  switch (state_) {
    case State::FinWait1:
      if (fin_acked) {
        set_state(State::FinWait2, "ACK of FIN", now);
        // Linux's tcp_fin_timeout: an orphan does not wait in FIN_WAIT_2 forever.
        if (orphaned_) arm(Timer::TimeWait, now + 2 * config_.msl);
      }
      break;
    case State::Closing:
      if (fin_acked) enter_time_wait(now);
      break;
    case State::LastAck:
      if (fin_acked) {
        set_state(State::Closed, "ACK of FIN", now);
        return false;
      }
      break;
    case State::TimeWait:
      // Only a retransmitted FIN arrives here, handled in the eighth step.
      break;
    default:
      break;
  }
  return true;
}

void Connection::schedule_ack(std::size_t bytes, Instant now) {
  unacked_bytes_ += bytes;
  // RFC 5681 §4.2: an ACK for at least every second full-sized segment; otherwise within
  // the delayed-ACK time (RFC 9293 §3.8.6.3 [MUST-40]: well under 0.5 s).
  if (unacked_bytes_ >= 2u * send_mss_) {
    ack_now_ = true;
  } else if (!deadline(Timer::DelayedAck)) {
    arm(Timer::DelayedAck, now + config_.delayed_ack);
  }
}

// 3.10.7.4 seventh.
void Connection::on_text(const Segment& seg, Instant now) {
  if (seg.payload.empty()) return;
  switch (state_) {
    case State::Established:
    case State::FinWait1:
    case State::FinWait2:
      break;
    default:
      return;  // CLOSE_WAIT and later: the peer already sent FIN; ignore the text
  }
  if (orphaned_) {
    // Linux: data for a socket the application has closed cannot be delivered, so the
    // connection is reset and the peer told at once.
    reset_with(snd_nxt_, true);
    fail(std::errc::connection_reset, "data after close()", now);
    return;
  }
  // The segment's data starts at SEG.SEQ (+1 when it carries our SYN's peer SYN).
  Seq start = seg.seq + (seg.has(TcpFlags::syn) ? 1 : 0);
  wire::Bytes data = seg.payload;
  // Trim what we already have (a retransmission overlapping RCV.NXT).
  if (before(start, rcv_nxt_)) {
    const auto dup = static_cast<std::size_t>(rcv_nxt_ - start);
    if (dup >= data.size()) {
      ack_now_ = true;  // a full duplicate: ACK so the sender stops resending
      return;
    }
    data = data.subspan(dup);
    start = rcv_nxt_;
  }
  if (start != rcv_nxt_) {
    // Out of order: no reassembly yet on this path; a duplicate ACK at once tells the
    // sender where the hole is (RFC 5681 §4.2 / RFC 9293 §3.10.7.4).
    ++ctx_->counters.tcp.out_of_order;
    ack_now_ = true;
    return;
  }
  // Trim to the window (and so to the buffer).
  const std::size_t room = std::min<std::size_t>(rcv_wnd(), receive_buffer_.free());
  if (data.size() > room) data = data.first(room);
  if (read_shutdown_) {
    // shutdown(SHUT_RD): accepted and acknowledged, then discarded.
  } else {
    receive_buffer_.push(data);
  }
  rcv_nxt_ += data.size();
  if (data.size() < seg.payload.size()) {
    ack_now_ = true;  // we could not take all of it: tell the sender now
  } else {
    schedule_ack(data.size(), now);
  }
}

// 3.10.7.4 eighth.
void Connection::on_fin(const Segment& seg, Instant now) {
  // The FIN counts only when everything before it has arrived.
  const Seq fin =
      seg.seq + static_cast<std::uint32_t>(seg.payload.size()) + (seg.has(TcpFlags::syn) ? 1u : 0u);
  if (fin != rcv_nxt_) return;
  rcv_nxt_ += 1;
  fin_received_ = true;
  ack_now_ = true;
  switch (state_) {
    case State::SynReceived:
    case State::Established:
      set_state(State::CloseWait, "FIN received", now);
      break;
    case State::FinWait1:
      if (fin_queued_ && snd_una_ == *fin_seq() + 1) {
        enter_time_wait(now);
      } else {
        set_state(State::Closing, "FIN received (simultaneous close)", now);
      }
      break;
    case State::FinWait2:
      enter_time_wait(now);
      break;
    case State::TimeWait:
      arm(Timer::TimeWait, now + 2 * config_.msl);
      break;
    default:
      break;  // CLOSE_WAIT, CLOSING, LAST_ACK: remain
  }
}

}  // namespace synack::tcp
