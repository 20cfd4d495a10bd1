// What to send next, in order: an RST, our SYN, retransmissions (fast retransmit, SACK
// holes), new data and FIN under the peer's window and the congestion window with Nagle and
// sender-side SWS avoidance, probes, or a bare ACK.
#include <algorithm>

#include "tcp/connection.hpp"

namespace synack::tcp {
namespace {

bool sends_data(State s) {
  switch (s) {
    case State::Established:
    case State::CloseWait:
    case State::FinWait1:
    case State::Closing:
    case State::LastAck:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::uint16_t Connection::window_to_advertise() const {
  // RFC 7323 §2.3: with window scaling, SEG.WND counts units of 2^Rcv.Wind.Shift octets.
  const std::uint32_t unit = 1u << rcv_wscale_;
  // RFC 9293 §3.8.6.2.2: move the right edge only by a worthwhile amount (an MSS, or half
  // the buffer), and never back to the left. That holds for a closed window too: opening
  // it by a few bytes read is the silly window itself [RFC9293 MUST-39]. A new edge offers
  // the free space rounded down to the unit: never an octet the buffer cannot take.
  std::uint32_t wnd = rcv_wnd();  // RCV.ADV - RCV.NXT: what is offered already
  if (right_edge_moves()) {
    wnd = std::max(wnd, static_cast<std::uint32_t>(receive_space()) & ~(unit - 1));
  }
  // A kept edge lies wherever the data received since has left it, rarely on a unit from
  // RCV.NXT. Rounding that window down would shrink it, so it is rounded up, as Linux's
  // tcp_select_window does, into the ring's slack of one unit. Only when a stalled reader
  // has let the rounding use the slack up does the buffer force the shrink of less than a
  // unit that RFC 7323 Appendix F describes, which a sender must bear (RFC 1122
  // 4.2.2.16): the right edge still stands for us, and what the peer sent up to it is taken.
  // After the peer's FIN no octet can arrive, so rounding up can overrun nothing.
  if (const std::uint32_t part = wnd & (unit - 1); part != 0) {
    const std::uint32_t up = wnd - part + unit;
    wnd = up <= receive_buffer_.free() || fin_received_ ? up : wnd - part;
  }
  return static_cast<std::uint16_t>(std::min<std::uint32_t>(wnd >> rcv_wscale_, 0xffff));
}

void Connection::fill_header(OutSegment& out, Seq seq, TcpFlags flags, Instant now) const {
  out = OutSegment{};
  auto& h = out.header;
  h.src_port = tuple_.local.port;
  h.dst_port = tuple_.remote.port;
  h.seq = seq.raw();
  h.flags = flags;
  if (flags.has(TcpFlags::rst)) return;  // an RST carries no options and no window
  if (flags.has(TcpFlags::ack)) {
    h.ack = rcv_nxt_.raw();
    h.window = window_to_advertise();
  }
  if (ts_ok_) h.options.timestamps = wire::TcpTimestamps{ts_now(now), ts_recent_};
  if (sack_ok_ && flags.has(TcpFlags::ack)) {
    // RFC 2883: a duplicate is reported first; then the islands we hold, newest first
    // (RFC 2018 §4). The builder keeps as many as fit beside the timestamps.
    if (has_dsack_) h.options.add_sack(dsack_);
    std::array<wire::SackBlock, wire::tcp_max_sack_blocks> blocks{};
    const std::size_t n = reassembly_.sack_blocks(blocks);
    for (std::size_t i = 0; i < n; ++i) h.options.add_sack(blocks[i]);
  }
}

std::size_t Connection::max_payload(const OutSegment& out) const {
  // RFC 6691: the MSS counts the data only; options come out of it [RFC9293 MUST-16].
  const std::size_t options = wire::options_length(out.header.options, false);
  return send_mss_ > options ? send_mss_ - options : 1;
}

void Connection::fill_data(OutSegment& out, Seq start, std::size_t len, Instant now,
                           std::size_t super_segment) const {
  const Seq end = send_buffer_end();
  fill_header(out, start, TcpFlags::ack, now);
  const auto avail = after(end, start) ? static_cast<std::size_t>(end - start) : 0;
  const std::size_t mss = max_payload(out);
  const std::size_t n = std::min({len, avail, std::max(mss, super_segment / mss * mss)});
  TcpFlags flags = TcpFlags::ack;
  if (n > 0 && n == avail) flags = flags | TcpFlags::psh;  // [RFC9293 MUST-61]
  if (fin_queued_ && start + n == end) flags = flags | TcpFlags::fin;
  out.header.flags = flags;
  out.payload_offset = static_cast<std::size_t>(start - send_buffer_seq_);
  out.payload_length = n;
  out.segment_size = n > 0 ? mss : 0;
}

void Connection::note_sent(const OutSegment& out, Instant now, bool in_line) {
  // A TSO super-segment counts as the segments the link cuts it into.
  ctx_->counters.tcp.out_segs += out.pieces();
  const auto& h = out.header;
  if (h.flags.has(TcpFlags::ack)) {
    ack_now_ = false;
    unacked_bytes_ = 0;
    cancel(Timer::DelayedAck);
    last_ack_sent_ = rcv_nxt_;
    const std::uint32_t scale = h.flags.has(TcpFlags::syn) ? 0 : rcv_wscale_;
    rcv_adv_ = latest(rcv_adv_, rcv_nxt_ + (static_cast<std::uint32_t>(h.window) << scale));
    if (has_dsack_ && h.options.sack_block_count > 0) {
      ++ctx_->counters.tcp.dsacks_sent;
      has_dsack_ = false;
    }
  }
  const Seq seq(h.seq);
  const std::uint32_t len = static_cast<std::uint32_t>(out.payload_length) +
                            (h.flags.has(TcpFlags::syn) ? 1u : 0u) +
                            (h.flags.has(TcpFlags::fin) ? 1u : 0u);
  if (len == 0) return;
  if (out.retransmission) ++ctx_->counters.tcp.retrans_segs;
  cancel(Timer::Persist);  // data is moving: the retransmission timer watches it now
  if (in_line) snd_nxt_ = seq + len;
  if (after(seq + len, snd_max_)) {
    snd_max_ = seq + len;
    // Without timestamps, time one segment per round trip, never a retransmitted one.
    if (!ts_ok_ && !has_rtt_seq_ && retries_ == 0) {
      rtt_seq_ = snd_max_;
      has_rtt_seq_ = true;
      rtt_start_ = now;
    }
  }
  if (!deadline(Timer::Retransmit)) arm(Timer::Retransmit, now + current_rto());  // RFC 6298 (5.1)
}

bool Connection::next_segment(Instant now, OutSegment& out) {
  // Nothing to send: no RST, ACK or probe owed, every octet written (and no FIN) sent, our
  // SYN acknowledged, and no retransmission due. Every path below would then decline (the
  // retransmission path clearing rtx_first_ on its way when all is acknowledged), so decline
  // at once. That is the call ending every flush, and most calls after an event.
  const bool all_sent = snd_nxt_ == snd_max_ && snd_nxt_ == send_buffer_end() && !fin_queued_;
  const bool all_acked = snd_una_ == snd_max_;
  if (all_sent && !rst_pending_ && !ack_now_ && !window_probe_ && !keepalive_probe_ &&
      !(snd_nxt_ == iss_ && snd_una_ == iss_) &&
      (all_acked || (!rtx_first_ && !(in_recovery_ && sack_ok_)))) {
    if (all_acked && sends_data(state_)) rtx_first_ = false;
    return false;
  }
  if (rst_pending_) {
    rst_pending_ = false;
    fill_header(out, rst_seq_, rst_with_ack_ ? TcpFlags::rst | TcpFlags::ack : TcpFlags::rst, now);
    if (rst_with_ack_) out.header.ack = rcv_nxt_.raw();
    out.cause = rst_cause_.text();
    ++ctx_->counters.tcp.out_rsts;
    ++ctx_->counters.tcp.out_segs;
    return true;
  }
  if (state_ == State::Closed || state_ == State::Listen) return false;
  if (next_syn(now, out)) return true;
  if (next_retransmission(now, out)) return true;
  if (next_data_or_fin(now, out, false)) return true;
  if (window_probe_) {
    // The persist timer fired: send what the window allows, however small...
    window_probe_ = false;
    if (next_data_or_fin(now, out, true)) return true;
    // ...or, with the window shut, a probe below it.
    keepalive_probe_ = true;
    ++ctx_->counters.tcp.zero_window_probes;
  }
  if (synchronized(state_) && keepalive_probe_) {
    // SEG.SEQ = SND.UNA-1 with no data: out of the peer's window, so it must answer with
    // an ACK that carries its current window (RFC 9293 §3.8.4, §3.8.6.1).
    const bool zero_window = snd_wnd_ == 0 && !send_buffer_.empty();
    keepalive_probe_ = false;
    fill_header(out, snd_una_ - 1, TcpFlags::ack, now);
    out.cause = zero_window ? "zero-window probe" : "keepalive probe";
    note_sent(out, now, false);
    return true;
  }
  if (ack_now_ && state_ != State::SynSent) {
    // <SEQ=SND.NXT>, where SND.NXT is the highest sent: after a timeout our SND.NXT walks
    // back, and an ACK numbered below what the peer has received would fail its sequence
    // check, its ACK field unread.
    fill_header(out, snd_max_, TcpFlags::ack, now);
    out.cause = ack_cause_.text();
    note_sent(out, now, false);
    return true;
  }
  return false;
}

bool Connection::next_syn(Instant now, OutSegment& out) {
  // Our SYN goes (again) while it is unacknowledged and SND.NXT is back at ISS. That is
  // SYN_SENT and SYN_RECEIVED, and also FIN_WAIT_1 or CLOSING after a close() in
  // SYN_RECEIVED (RFC 9293 §3.10.4): a retransmission there starts with the SYN,ACK, not
  // with the sequence number before the send buffer.
  const bool sending_syn = snd_nxt_ == iss_ && snd_una_ == iss_;
  if (!sending_syn) return false;
  const bool syn_ack = state_ != State::SynSent;
  fill_header(out, iss_, syn_ack ? TcpFlags::syn | TcpFlags::ack : TcpFlags::syn, now);
  // A SYN's window is never scaled (RFC 7323 §2.2).
  out.header.window = static_cast<std::uint16_t>(std::min<std::size_t>(receive_space(), 0xffff));
  auto& o = out.header.options;
  o = wire::TcpOptions{};
  o.mss = config_->mss;
  // Offer each option in a SYN; in a SYN,ACK only what the peer offered.
  if (config_->window_scaling && (!syn_ack || window_scaling_)) o.window_scale = rcv_wscale_;
  if (config_->sack && (!syn_ack || sack_ok_)) o.sack_permitted = true;
  if (config_->timestamps && (!syn_ack || ts_ok_)) {
    o.timestamps = wire::TcpTimestamps{ts_now(now), syn_ack ? ts_recent_ : 0};
  }
  out.retransmission = snd_max_ != iss_;
  // Linux's tcp_connect: a connection's user timeout counts from its first SYN.
  if (!out.retransmission) retrans_stamp_ = now;
  out.cause =
      out.retransmission ? "retransmit: SYN timeout" : (syn_ack ? "SYN received" : "connect()");
  note_sent(out, now);
  return true;
}

bool Connection::next_retransmission(Instant now, OutSegment& out) {
  if (!sends_data(state_)) return false;
  if (snd_una_ == snd_max_) {
    rtx_first_ = false;
    return false;
  }
  const std::uint32_t smss = cc_.smss();
  if (rtx_first_) {
    // Fast retransmit (RFC 5681 §3.2 step 3), or NewReno's partial-ACK retransmission.
    rtx_first_ = false;
    fill_data(out, snd_una_, smss, now);
    out.cause = in_recovery_ ? "retransmit: fast retransmit" : "retransmit";
  } else if (in_recovery_ && sack_ok_) {
    // RFC 6675 §5 step (C): while pipe < cwnd, NextSeg() rule 1: the first lost hole
    // above HighRxt.
    if (scoreboard_.pipe(snd_una_, snd_max_, high_rxt_, smss) >= cc_.cwnd()) return false;
    const auto hole = scoreboard_.next_lost(high_rxt_, snd_una_, smss, smss);
    if (!hole) return false;
    fill_data(out, hole->start, hole->length, now);
    out.cause = "retransmit: SACK hole";
  } else {
    return false;
  }
  out.retransmission = true;
  if (undo_retrans_ >= 0) {
    undo_retrans_ =
        undo_retrans_ < INT16_MAX ? static_cast<std::int16_t>(undo_retrans_ + 1) : std::int16_t{-1};
  }
  const Seq end =
      Seq(out.header.seq) + out.payload_length + (out.header.flags.has(TcpFlags::fin) ? 1u : 0u);
  high_rxt_ = latest(high_rxt_, end);
  note_sent(out, now, false);
  return true;
}

void Connection::hold_output(std::size_t avail, Instant now) {
  // [RFC9293 MUST-34, MUST-35, MUST-36] With nothing in flight, no ACK will come to restart
  // output: the persist timer probes a shut window (RFC 9293 §3.8.6.1), and is the SWS
  // override timeout (§3.8.6.2.1) for a window too small to fill. It backs off, and never
  // gives up while the peer answers.
  if (avail > 0 && snd_una_ == snd_max_ && !deadline(Timer::Persist)) {
    Duration wait = current_rto();
    for (int i = 0; i < persist_backoff_ && wait < config_->rto_max; ++i) wait *= 2;
    arm(Timer::Persist,
        clamp_to_user_timeout(now + std::min(wait, config_->rto_max), probes_stamp_, now));
  }
}

bool Connection::next_data_or_fin(Instant now, OutSegment& out, bool force) {
  if (!sends_data(state_)) return false;
  // After a timeout SND.NXT walks back over the window; what the receiver SACKed need not
  // be sent again (its SACK state is dropped only if it seems to have reneged).
  while (sack_ok_ && before(snd_nxt_, snd_max_)) {
    const auto sacked_end = scoreboard_.sacked_end(snd_nxt_);
    if (!sacked_end) break;
    snd_nxt_ = *sacked_end;
  }
  const Seq end = send_buffer_end();
  if (after(snd_nxt_, end)) return false;  // our FIN is out: nothing more to send
  const auto avail = static_cast<std::size_t>(end - snd_nxt_);
  const std::int32_t window_room = (snd_una_ + snd_wnd_) - snd_nxt_;
  std::uint32_t in_flight = static_cast<std::uint32_t>(snd_nxt_ - snd_una_);
  if (sack_ok_) {
    // What the receiver SACKed has left the network: in recovery the scoreboard's pipe
    // (RFC 6675 §5 step (C)), otherwise the octets sent and not SACKed, as Linux counts
    // packets in flight. After a timeout SND.NXT steps over SACKed data (above), and that
    // data must not hold cwnd shut until the next timeout. Before recovery, each ACK that
    // SACKs a segment lets one new segment out: RFC 3042's limited transmit.
    in_flight = in_recovery_ ? scoreboard_.pipe(snd_una_, snd_max_, high_rxt_, cc_.smss())
                             : scoreboard_.unsacked_between(snd_una_, snd_nxt_);
  }
  const std::uint32_t cwnd_room = cc_.cwnd() > in_flight ? cc_.cwnd() - in_flight : 0;
  const std::size_t limit = std::min<std::size_t>(
      window_room > 0 ? static_cast<std::uint32_t>(window_room) : 0, cwnd_room);
  // Nothing can go (no data and no FIN to send, or data but no room for a byte of it): the
  // decision below is then "hold", so skip building the header it would throw away. Each
  // flush ends with such a call, and a receiver makes one per segment it ACKs.
  if (avail == 0 && !fin_queued_) return false;
  if (avail > 0 && limit == 0) {
    hold_output(avail, now);
    return false;
  }
  const bool retransmission = before(snd_nxt_, snd_max_);
  // TSO: new data may go as one super-segment of several full segments, within the same
  // windows. A retransmission after a timeout stays one segment, so that it steps over
  // what the receiver SACKed exactly as above.
  const std::size_t super = retransmission ? 0 : ctx_->max_super_segment;
  fill_data(out, snd_nxt_, limit, now, super);
  if (const std::size_t mss = out.segment_size; out.payload_length > mss) {
    // As N segments: the full ones go; a short last one goes only as it would on its own
    // behind them, with data then in flight: Nagle holds it (below) unless TCP_NODELAY,
    // and the FIN or a forced probe takes it along.
    const std::size_t tail = out.payload_length % mss;
    const bool tail_goes =
        tail == 0 || out.header.flags.has(TcpFlags::fin) || force ||
        (config_->nodelay && (out.payload_length == avail || tail >= max_snd_wnd_ / 2));
    if (!tail_goes) fill_data(out, snd_nxt_, out.payload_length - tail, now, super);
  }
  const std::size_t n = out.payload_length;
  const bool fin = out.header.flags.has(TcpFlags::fin);
  bool hold = n == 0 && !fin;
  if (n > 0 && !retransmission && !fin && !force) {
    // Nagle (RFC 9293 §3.7.4): with data in flight, hold a small segment until the ACK
    // (never longer: the ACK or the persist timer releases it [RFC9293 MUST-60])
    // comes. Sender SWS avoidance (§3.8.6.2.1): send only a full segment, all that is
    // left, or at least half the largest window the peer has offered.
    const bool nothing_in_flight = snd_una_ == snd_max_;
    const bool nagle_ok = config_->nodelay || nothing_in_flight;  // [RFC9293 MUST-17]
    const bool full = n >= out.segment_size;  // fill_data's max_payload(out), as n > 0
    const bool all = n == avail;
    const bool half_window = n >= max_snd_wnd_ / 2;  // [RFC9293 MUST-38]
    hold = !(full || ((all || half_window) && nagle_ok));
  }
  if (hold) {
    hold_output(avail, now);
    return false;
  }
  out.retransmission = retransmission;
  out.cause = retransmission ? "retransmit: RTO" : (n > 0 ? "write()" : "close()");
  note_sent(out, now);
  return true;
}

}  // namespace synack::tcp
