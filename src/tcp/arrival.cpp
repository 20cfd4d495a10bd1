// Segment arrival, RFC 9293 §3.10.7, step by step in the RFC's order. LISTEN and CLOSED
// (§3.10.7.1, §3.10.7.2) have no connection and are handled by the stack's demux.
#include <algorithm>

#include "tcp/connection.hpp"

namespace synack::tcp {

Segment Segment::from(const wire::TcpView& view) {
  return Segment{Seq(view.seq()), Seq(view.ack()), view.flags(),
                 view.window(),   view.options(),  view.payload()};
}

std::uint32_t Connection::ts_now(Instant now) const {
  return ts_clock(ts_offset_, now);
}

void Connection::take_peer_syn_options(const Segment& seg, Instant /*now*/) {
  // RFC 9293 §3.7.1: without the MSS option the peer can take 536 bytes [RFC9293 MUST-15];
  // we send and take the option [RFC9293 MUST-14].
  const std::uint16_t peer_mss = seg.options.mss.value_or(536);
  send_mss_ = std::max<std::uint16_t>(64, std::min(peer_mss, config_->mss));
  // RFC 7323 §2.2: scaling is on only when both SYNs carry the option; shifts above 14 are
  // taken as 14 (§2.3).
  window_scaling_ = config_->window_scaling && seg.options.window_scale.has_value();
  if (window_scaling_) {
    snd_wscale_ = std::min<std::uint8_t>(*seg.options.window_scale, 14);
  } else {
    snd_wscale_ = 0;
    rcv_wscale_ = 0;
  }
  sack_ok_ = config_->sack && seg.options.sack_permitted;              // RFC 2018 §2
  ts_ok_ = config_->timestamps && seg.options.timestamps.has_value();  // RFC 7323 §3.2
  if (ts_ok_) ts_recent_ = seg.options.timestamps->tsval;
  // The congestion window counts in segments of the size that will really be sent.
  const std::uint32_t smss = send_mss_ - (ts_ok_ ? 12u : 0u);
  cc_ = Reno(smss);
}

void Connection::update_send_window(const Segment& seg) {
  // The window is an unsigned number [RFC9293 MUST-1], scaled to 32 bits.
  // 3.10.7.4 fifth, ESTABLISHED: update the window only from a segment newer than the
  // last one that did (SND.WL1, SND.WL2), so an old reordered segment cannot shrink it.
  if (before(snd_wl1_, seg.seq) || (snd_wl1_ == seg.seq && before_eq(snd_wl2_, seg.ack))) {
    snd_wnd_ = static_cast<std::uint32_t>(seg.window) << snd_wscale_;
    max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
    snd_wl1_ = seg.seq;
    snd_wl2_ = seg.ack;
    if (snd_wnd_ > 0) {
      cancel(Timer::Persist);
      persist_backoff_ = 0;
      probes_stamp_.reset();
    }
  }
}

// RFC 7323 §5.3 R1: a segment whose timestamp is older than TS.Recent is an old duplicate
// from an earlier wrap of the sequence space (PAWS). An RST is never rejected this way.
bool Connection::paws_rejects(const Segment& seg) const {
  if (!ts_ok_ || !seg.options.timestamps || seg.has(TcpFlags::rst)) return false;
  return static_cast<std::int32_t>(seg.options.timestamps->tsval - ts_recent_) < 0;
}

// RFC 7323 §4.3: TS.Recent follows the segment that covers the last ACK we sent.
void Connection::take_timestamp(const Segment& seg) {
  if (!ts_ok_ || !seg.options.timestamps) return;
  const std::uint32_t tsval = seg.options.timestamps->tsval;
  if (before_eq(seg.seq, last_ack_sent_) && static_cast<std::int32_t>(tsval - ts_recent_) >= 0) {
    ts_recent_ = tsval;
  }
}

void Connection::on_segment(const Segment& seg, Instant now) {
  const AccountOnExit account{*this};
  last_received_ = now;
  keepalive_probes_ = 0;
  window_probes_ = 0;
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
    return;
  }

  // RFC 7323 §5.3 R1, before the sequence check: PAWS.
  if (paws_rejects(seg)) {
    ++ctx_->counters.tcp.paws_rejected;
    ack_now("ack: old timestamp (PAWS)");
    return;
  }

  // RFC 9293 Figure 8, line 6 (simultaneous open): in SYN_RECEIVED the peer's SYN,ACK
  // repeats the SYN we have and acknowledges ours. The sequence check would drop it as a
  // duplicate and leave us waiting for another ACK; like Linux (tcp_validate_incoming),
  // take it as the ACK that completes the handshake, and ACK the duplicate SYN.
  if (state_ == State::SynReceived && !passive_ && seg.has(TcpFlags::syn | TcpFlags::ack) &&
      !seg.has(TcpFlags::rst) && seg.seq == irs_ && seg.len() == 1) {
    Segment ack = seg;
    ack.flags = seg.flags.without(TcpFlags::syn);
    ack.seq = rcv_nxt_;
    on_segment(ack, now);
    if (state_ != State::SynReceived) ack_now("ack");  // an unacceptable ACK got an RST
    return;
  }

  // 3.10.7.4 first: check the sequence number.
  if (!acceptable(seg)) {
    ++ctx_->counters.tcp.out_of_window;
    // An unacceptable segment gets an ACK, unless it is an RST.
    if (!seg.has(TcpFlags::rst)) ack_now("ack: out of window");
    if (!seg.payload.empty() && before(seg.seq, rcv_nxt_)) {
      // Data we already have, arriving again: report it (RFC 2883 §4.1.1), so the sender
      // can tell a needless retransmission from a loss.
      const Seq end = seg.seq + static_cast<std::uint32_t>(seg.payload.size());
      set_dsack(seg.seq, earliest(end, rcv_nxt_));
    }
    if (state_ == State::TimeWait && seg.has(TcpFlags::fin)) {
      // A retransmitted FIN in TIME_WAIT lies below RCV.NXT: re-ACK it and restart the
      // 2·MSL wait (3.10.7.4 eighth, TIME-WAIT).
      arm(Timer::TimeWait, now + 2 * config_->msl);
    }
    // "If the RCV.WND is zero, no segments will be acceptable, but special allowance
    // should be made to accept valid ACKs" [RFC9293 MUST-66]: with our window shut, the peer's data
    // is refused but its ACK still moves our send side.
    if (rcv_wnd() == 0 && seg.seq == rcv_nxt_ && seg.has(TcpFlags::ack) &&
        !seg.has(TcpFlags::rst) && !seg.has(TcpFlags::syn) && synchronized(state_)) {
      on_ack(seg, now);
    }
    return;
  }
  take_timestamp(seg);

  // 3.10.7.4 second: check the RST bit.
  if (seg.has(TcpFlags::rst)) {
    on_rst(seg, now);
    return;
  }

  // 3.10.7.4 third: security (not implemented: no IP security options).

  // 3.10.7.4 fourth: check the SYN bit. In a synchronized state (and for an in-window SYN
  // in SYN_RECEIVED) RFC 5961 §4 replaces the old reset with a challenge ACK.
  if (seg.has(TcpFlags::syn)) {
    challenge_ack("challenge ACK: SYN", now);
    return;
  }

  // 3.10.7.4 fifth: check the ACK field. A segment without ACK is dropped.
  if (!seg.has(TcpFlags::ack)) {
    ++ctx_->counters.tcp.no_ack_flag;
    drop_reason_ = "no ACK flag";
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
      if (!seg.has(TcpFlags::rst)) reset_with(seg.ack, false, "reset: unacceptable ACK");
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
  take_peer_syn_options(seg, now);
  snd_wnd_ = seg.window;  // unscaled in a SYN
  max_snd_wnd_ = snd_wnd_;
  snd_wl1_ = seg.seq;
  snd_wl2_ = seg.ack;
  if (ack_ok) {
    snd_una_ = seg.ack;
    if (has_rtt_seq_ && retries_ == 0) rto_.on_sample(now - rtt_start_);  // Karn
    has_rtt_seq_ = false;
    if (retries_ > 0) rto_.fall_back_after_syn_timeout();  // RFC 6298 (5.7)
    retries_ = 0;
    retrans_stamp_.reset();
    cancel(Timer::Retransmit);
    set_state(State::Established, "SYN+ACK received", now);
    ack_now("handshake ACK");  // the third segment of the handshake
    on_text(seg, now);
    if (seg.has(TcpFlags::fin)) on_fin(seg, now);
    return;
  }
  // Simultaneous open: both sent SYN. Answer SYN,ACK from our ISS (3.10.7.3 fourth)
  // [RFC9293 MUST-10].
  set_state(State::SynReceived, "SYN received (simultaneous open)", now);
  snd_nxt_ = iss_;
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
  // RFC 1337 §3, fix (TH1): an RST in TIME_WAIT is ignored, so that an old duplicate (or an
  // attacker's RST) cannot "assassinate" the wait and let a new incarnation of the 4-tuple
  // meet the old one's stray segments. RFC 9293 §3.10.7.4 would close; so does Linux with
  // net.ipv4.tcp_rfc1337 = 0, its default. We drop it, in or out of step with RCV.NXT, with
  // no challenge ACK, and leave the 2·MSL timer as it was: the wait ends when it would have.
  if (state_ == State::TimeWait) {
    ++ctx_->counters.tcp.time_wait_rsts;
    drop_reason_ = "RST in TIME_WAIT (RFC 1337)";
    return false;
  }
  // RFC 5961 §3.2: only an RST exactly at RCV.NXT resets; one elsewhere in the window
  // gets a challenge ACK, so a blind attacker must guess the exact number.
  if (seg.seq != rcv_nxt_) {
    ++ctx_->counters.tcp.rst_ignored;
    challenge_ack("challenge ACK: RST", now);
    return false;
  }
  ++ctx_->counters.tcp.in_rsts;
  switch (state_) {
    case State::SynReceived:
      // Passive open: back to LISTEN, which for us means the child simply goes away
      // [RFC9293 MUST-11].
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
    default:  // CLOSING, LAST_ACK: close quietly
      orphaned_ = true;
      set_state(State::Closed, "RST", now);
      return true;
  }
}

void Connection::challenge_ack(Cause why, Instant now) {
  // RFC 5961 §7: a window of config_->challenge_ack_window starts with the first challenge
  // ACK after the previous window ended; in it at most config_->challenge_ack_limit go out.
  const std::uint32_t limit = config_->challenge_ack_limit;
  if (challenge_acks_in_window_ == 0 ||
      now - challenge_window_start_ >= config_->challenge_ack_window) {
    challenge_window_start_ = now;
    challenge_acks_in_window_ = 0;
  }
  if (limit != 0 && challenge_acks_in_window_ >= limit) {
    ++ctx_->counters.tcp.challenge_acks_suppressed;
    drop_reason_ = "challenge ACK rate limit (RFC 5961 §7)";
    return;
  }
  ++challenge_acks_in_window_;
  ++ctx_->counters.tcp.challenge_acks;
  ack_now(why);
}

// 3.10.7.4 fifth. Returns false when the segment is to be dropped here.
bool Connection::on_ack(const Segment& seg, Instant now) {
  bool syn_timed_out = false;
  if (state_ == State::SynReceived) {
    // If SND.UNA < SEG.ACK =< SND.NXT, enter ESTABLISHED; otherwise <SEQ=SEG.ACK><CTL=RST>.
    if (!(before(snd_una_, seg.ack) && before_eq(seg.ack, snd_max_))) {
      reset_with(seg.ack, false, "reset: unacceptable ACK");
      ++ctx_->counters.tcp.bad_ack;
      return false;
    }
    snd_wnd_ = static_cast<std::uint32_t>(seg.window) << snd_wscale_;
    max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
    snd_wl1_ = seg.seq;
    snd_wl2_ = seg.ack;
    set_state(State::Established, "ACK of SYN", now);
    // RFC 6298 (5.7): a SYN,ACK that timed out leaves no sample (Karn) unless a timestamp
    // gives one; then data starts from an RTO of 3 s. (The sample, if any, is taken below.)
    syn_timed_out = retries_ > 0;
  }

  if (after(seg.ack, snd_max_)) {
    // An ACK for something not yet sent: ACK back and drop (RFC 5961 §5 makes it a
    // challenge ACK).
    ++ctx_->counters.tcp.bad_ack;
    challenge_ack("challenge ACK: unsent data acked", now);
    return false;
  }

  // RFC 5961 §5.2: an acceptable ACK lies in [SND.UNA - MAX.SND.WND, SND.NXT]. One further
  // back than any window the peer ever offered cannot come from the peer, even late: a blind
  // injector who guessed the sequence number but not the ACK. Drop it, data and all, with a
  // challenge ACK (as Linux does, under the same rate limit).
  if (before(seg.ack, snd_una_ - max_snd_wnd_)) {
    ++ctx_->counters.tcp.ack_too_old;
    challenge_ack("challenge ACK: ACK too old", now);
    if (drop_reason_.empty()) drop_reason_ = "ACK too old (RFC 5961 §5.2)";
    return false;
  }

  const std::uint32_t window_before = snd_wnd_;
  if (after(seg.ack, snd_una_)) {
    const std::uint32_t flight = flight_size();
    const auto acked = static_cast<std::uint32_t>(seg.ack - snd_una_);
    // New data acknowledged. The SYN occupies ISS; the FIN the number after the data.
    const Seq acked_to = earliest(seg.ack, send_buffer_end());
    if (after(acked_to, send_buffer_seq_)) {
      send_buffer_.consume(static_cast<std::size_t>(acked_to - send_buffer_seq_));
      send_buffer_seq_ = acked_to;
    }
    snd_una_ = seg.ack;
    if (before(snd_nxt_, snd_una_)) snd_nxt_ = snd_una_;
    on_dsack(seg);
    on_new_ack(seg, acked, flight, now);
    if (syn_timed_out) rto_.fall_back_after_syn_timeout();
    if (state_ != State::SynReceived) update_send_window(seg);
  } else {
    // The window is updated only for SND.UNA =< SEG.ACK =< SND.NXT (3.10.7.4 fifth). An
    // older ACK says nothing current about the window; forged in the window (RFC 5961 §5)
    // it could close it to zero and, moving SND.WL1 ahead, keep every real update out.
    if (before(seg.ack, snd_una_)) {
      ++ctx_->counters.tcp.old_ack;  // an old duplicate
    } else if (state_ != State::SynReceived) {
      update_send_window(seg);
    }
    const bool newly_sacked =
        sack_ok_ && scoreboard_.on_sack(seg.options.sacks(), snd_una_, snd_max_);
    // RFC 5681 §2: a duplicate ACK acknowledges nothing new, carries no data, SYN or FIN,
    // leaves the window as it was, and arrives while data is outstanding. With SACK only
    // one that SACKs new data counts (RFC 6675 §2): a D-SACK for a duplicated segment
    // says nothing was lost.
    const bool plain = seg.ack == snd_una_ && seg.payload.empty() && !seg.has(TcpFlags::fin) &&
                       snd_una_ != snd_max_;
    const bool duplicate = plain && (sack_ok_ ? newly_sacked : snd_wnd_ == window_before);
    on_dsack(seg);
    if (duplicate) on_duplicate_ack(newly_sacked);
  }

  const bool fin_acked = fin_queued_ && snd_una_ == *fin_seq() + 1;
  switch (state_) {
    case State::FinWait1:
      if (fin_acked) {
        set_state(State::FinWait2, "ACK of FIN", now);
        // Linux's tcp_fin_timeout: an orphan does not wait in FIN_WAIT_2 forever.
        if (orphaned_) arm(Timer::TimeWait, now + 2 * config_->msl);
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
    default:
      break;
  }
  return true;
}

void Connection::schedule_ack(std::size_t bytes, Instant now) {
  // Saturating: no count past 4 GiB changes the answer below.
  unacked_bytes_ =
      static_cast<std::uint32_t>(std::min<std::size_t>(unacked_bytes_ + bytes, UINT32_MAX));
  // RFC 5681 §4.2: an ACK for at least every second full-sized segment; otherwise within
  // the delayed-ACK time (RFC 9293 §3.8.6.3: well under 0.5 s [RFC9293 MUST-40]).
  if (unacked_bytes_ >= 2u * (send_mss_ - (ts_ok_ ? 12u : 0u))) {
    const bool owed_for_more = ack_now_ && !ack_for_count_;
    ack_now("ack: every second segment");
    ack_for_count_ = !owed_for_more;
  } else if (!deadline(Timer::DelayedAck)) {
    arm(Timer::DelayedAck, now + config_->delayed_ack);
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
    // RFC 1122 4.2.2.13: data for a socket the application has closed cannot be delivered,
    // so the connection is reset and the peer told at once. Like Linux (tcp_rcv_state_process
    // step 7, then tcp_v4_send_reset), the RST answers this segment, <SEQ=SEG.ACK><CTL=RST>:
    // the peer's own RCV.NXT, which it accepts even if our FIN is still on the way (an RST
    // at our SND.NXT would then only draw a challenge ACK, RFC 5961 §3.2).
    reset_with(seg.ack, false, "reset: data after close()");
    fail(std::errc::connection_reset, "data after close()", now);
    return;
  }
  Seq start = seg.seq + (seg.has(TcpFlags::syn) ? 1 : 0);
  wire::Bytes data = seg.payload;
  // Trim what we already have (a retransmission overlapping RCV.NXT).
  if (before(start, rcv_nxt_)) {
    const auto dup = static_cast<std::size_t>(rcv_nxt_ - start);
    if (dup >= data.size()) {
      // All of it is old: ACK at once, reporting the duplicate (RFC 2883 §4.1.1).
      ack_now("ack: duplicate (D-SACK)");
      set_dsack(start, start + data.size());
      return;
    }
    set_dsack(start, rcv_nxt_);
    data = data.subspan(dup);
    start = rcv_nxt_;
  }
  // Trim to the window, which never exceeds the free buffer.
  const auto offset = static_cast<std::size_t>(start - rcv_nxt_);
  const std::size_t room = std::min<std::size_t>(rcv_wnd(), receive_buffer_.free());
  if (offset >= room) {
    ack_now("ack: beyond the window");
    return;
  }
  if (data.size() > room - offset) data = data.first(room - offset);
  const Seq end = start + data.size();

  // The stack's buffer memory: new data that would take it over its limit is dropped
  // whole and counted, like Linux's TCPRcvQDrop, and the ACK at once says RCV.NXT has not
  // moved; the peer sends it again, by when the application may have read. (Linux lets a
  // socket with nothing queued take the segment anyway; here the limit is exact.)
  const bool new_bytes = offset == 0 || !reassembly_.holds(start, end);
  if (!read_shutdown_ && new_bytes && !memory_admits(data.size())) {
    ++ctx_->counters.tcp.rcv_mem_drops;
    drop_reason_ = "out of buffer memory";
    ack_now("ack: out of buffer memory");
    return;
  }

  if (offset > 0) {
    // Out of order: hold it in place and ACK at once, so the sender sees the hole
    // (RFC 5681 §4.2; RFC 9293 §3.10.7.4 seventh).
    ++ctx_->counters.tcp.out_of_order;
    ack_now("dup ack: out of order");
    const auto added = reassembly_.add(start, end);
    if (added == Reassembly::Added::full) {
      ++ctx_->counters.tcp.ofo_dropped;
      return;
    }
    if (added == Reassembly::Added::duplicate) {
      set_dsack(start, end);
      return;
    }
    if (!read_shutdown_) receive_buffer_.write_at(receive_buffer_.size() + offset, data);
    return;
  }

  // In order: deliver it and whatever it joins up with.
  if (!read_shutdown_) receive_buffer_.write_at(receive_buffer_.size(), data);
  const bool filled_hole = !reassembly_.empty();
  const Seq reach = reassembly_.advance(end);
  const auto delivered = static_cast<std::size_t>(reach - rcv_nxt_);
  if (!read_shutdown_) {
    receive_buffer_.commit(delivered);
  }  // shutdown(SHUT_RD): accepted and acknowledged, then discarded
  rcv_nxt_ = reach;
  if (filled_hole || data.size() < seg.payload.size()) {
    ack_now("ack: hole filled");  // a hole filled (RFC 5681 §4.2), or we could not take all of it
  } else {
    schedule_ack(data.size(), now);
  }
  if (has_peer_fin_ && peer_fin_ == rcv_nxt_) take_fin(now);
}

// 3.10.7.4 eighth.
void Connection::on_fin(const Segment& seg, Instant now) {
  const Seq fin =
      seg.seq + static_cast<std::uint32_t>(seg.payload.size()) + (seg.has(TcpFlags::syn) ? 1u : 0u);
  if (fin == rcv_nxt_) {
    take_fin(now);
    return;
  }
  if (fin_received_ || !after(fin, rcv_nxt_)) return;
  // Out of order (the data before it is missing): it counts once that data arrives. A
  // bare FIN gets a duplicate ACK at once that shows the sender the hole (RFC 5681 §4.2);
  // data in the segment was counted and ACKed by the seventh step already.
  if (in_window(fin, rcv_nxt_, rcv_wnd() + 1)) {
    peer_fin_ = fin;
    has_peer_fin_ = true;
  }
  if (seg.payload.empty()) {
    ++ctx_->counters.tcp.out_of_order;
    ack_now("dup ack: FIN out of order");
  }
}

void Connection::take_fin(Instant now) {
  if (fin_received_) return;
  has_peer_fin_ = false;
  rcv_nxt_ += 1;
  fin_received_ = true;
  ack_now("ack of FIN");
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
      arm(Timer::TimeWait, now + 2 * config_->msl);
      break;
    default:
      break;  // CLOSE_WAIT, CLOSING, LAST_ACK: remain
  }
}

}  // namespace synack::tcp
