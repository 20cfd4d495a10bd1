// What to send next: an RST, our SYN, data and FIN under the peer's window, Nagle and
// sender-side SWS avoidance, or a bare ACK.
#include <algorithm>

#include "tcp/connection.hpp"

namespace synack::tcp {

std::uint16_t Connection::window_to_advertise() {
  const std::size_t free = receive_buffer_.free();
  // RFC 9293 §3.8.6.2.2: move the right edge only by a worthwhile amount (an MSS, or half
  // the buffer), and never back to the left [MUST-? shrinking is discouraged]. That holds
  // for a closed window too: opening it by a few bytes read is the silly window itself
  // [RFC9293 MUST-39]; reading the whole buffer always opens it by more than the threshold.
  const Seq edge = rcv_nxt_ + static_cast<std::uint32_t>(free);
  const auto threshold =
      static_cast<std::int32_t>(std::min<std::size_t>(receive_buffer_.capacity() / 2, send_mss_));
  if (after(edge, rcv_adv_) && edge - rcv_adv_ >= threshold) {
    rcv_adv_ = edge;
  }
  const std::uint32_t wnd = rcv_wnd() >> rcv_wscale_;
  return static_cast<std::uint16_t>(std::min<std::uint32_t>(wnd, 0xffff));
}

void Connection::fill_header(OutSegment& out, Seq seq, TcpFlags flags) {
  out = OutSegment{};
  auto& h = out.header;
  h.src_port = tuple_.local.port;
  h.dst_port = tuple_.remote.port;
  h.seq = seq.raw();
  h.flags = flags;
  if (flags.has(TcpFlags::ack)) {
    h.ack = rcv_nxt_.raw();
    h.window = window_to_advertise();
  }
}

void Connection::note_sent(const OutSegment& out, Instant now) {
  ++ctx_->counters.tcp.out_segs;
  if (out.header.flags.has(TcpFlags::ack)) {
    ack_now_ = false;
    unacked_bytes_ = 0;
    cancel(Timer::DelayedAck);
  }
  const Seq seq(out.header.seq);
  const std::uint32_t len = static_cast<std::uint32_t>(out.payload_length) +
                            (out.header.flags.has(TcpFlags::syn) ? 1u : 0u) +
                            (out.header.flags.has(TcpFlags::fin) ? 1u : 0u);
  if (len == 0) return;
  if (out.retransmission) ++ctx_->counters.tcp.retrans_segs;
  snd_nxt_ = seq + len;
  if (after(snd_nxt_, snd_max_)) {
    snd_max_ = snd_nxt_;
    // Time one segment per round trip, never a retransmitted one (Karn).
    if (!rtt_seq_ && retries_ == 0) {
      rtt_seq_ = snd_nxt_;
      rtt_start_ = now;
    }
  }
  if (!deadline(Timer::Retransmit)) arm(Timer::Retransmit, now + rto_.rto());  // RFC 6298 (5.1)
}

bool Connection::next_segment(Instant now, OutSegment& out) {
  if (rst_pending_) {
    rst_pending_ = false;
    fill_header(out, rst_seq_, rst_with_ack_ ? TcpFlags::rst | TcpFlags::ack : TcpFlags::rst);
    out.header.window = 0;
    out.cause = rst_cause_;
    ++ctx_->counters.tcp.out_rsts;
    ++ctx_->counters.tcp.out_segs;
    return true;
  }
  switch (state_) {
    case State::Closed:
    case State::Listen:
      return false;
    default:
      break;
  }
  if (next_syn(now, out)) return true;
  if (next_data_or_fin(now, out)) return true;
  if (keepalive_probe_ && synchronized(state_)) {
    // RFC 9293 §3.8.4 / RFC 1122 4.2.3.6: SEG.SEQ = SND.NXT-1, no data, so the peer
    // must answer with an ACK.
    keepalive_probe_ = false;
    fill_header(out, snd_nxt_ - 1, TcpFlags::ack);
    out.cause = "keepalive probe";
    note_sent(out, now);
    return true;
  }
  if (ack_now_ && state_ != State::SynSent) {
    fill_header(out, snd_nxt_, TcpFlags::ack);
    out.cause = "ack";
    note_sent(out, now);
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
  fill_header(out, iss_, syn_ack ? TcpFlags::syn | TcpFlags::ack : TcpFlags::syn);
  // A SYN's window is never scaled (RFC 7323 §2.2).
  const auto window = std::min<std::size_t>(receive_buffer_.free(), 0xffff);
  out.header.window = static_cast<std::uint16_t>(window);
  if (syn_ack) rcv_adv_ = latest(rcv_adv_, rcv_nxt_ + static_cast<std::uint32_t>(window));
  out.header.options.mss = config_.mss;
  // Offer window scaling in a SYN; in a SYN,ACK only if the peer offered it.
  if (config_.window_scaling && (!syn_ack || window_scaling_)) {
    out.header.options.window_scale = rcv_wscale_;
  }
  out.retransmission = snd_max_ != iss_;
  out.cause =
      out.retransmission ? "retransmit: SYN timeout" : (syn_ack ? "SYN received" : "connect()");
  note_sent(out, now);
  return true;
}

bool Connection::next_data_or_fin(Instant now, OutSegment& out) {
  switch (state_) {
    case State::Established:
    case State::CloseWait:
    case State::FinWait1:
    case State::Closing:
    case State::LastAck:
      break;
    default:
      return false;
  }
  const Seq end = send_buffer_end();
  if (after(snd_nxt_, end)) return false;  // our FIN is out: nothing more to send
  const auto avail = static_cast<std::size_t>(end - snd_nxt_);
  const std::int32_t room = (snd_una_ + snd_wnd_) - snd_nxt_;
  const std::size_t usable = room > 0 ? static_cast<std::size_t>(room) : 0;
  const std::size_t n = std::min({avail, usable, static_cast<std::size_t>(send_mss_)});
  const bool fin = fin_queued_ && n == avail;
  if (n == 0 && !fin) return false;

  const bool retransmission = before(snd_nxt_, snd_max_);
  if (n > 0 && !retransmission && !fin) {
    // Nagle (RFC 9293 §3.7.4 [MUST-?]): with data in flight, hold a small segment until
    // the ACK comes. Sender SWS avoidance (§3.8.6.2.1): send only a full segment, all
    // that is left, or at least half the largest window the peer has offered.
    const bool nothing_in_flight = snd_una_ == snd_max_;
    const bool nagle_ok = config_.nodelay || nothing_in_flight;
    const bool full = n == send_mss_;
    const bool all = n == avail;
    const bool half_window = n >= max_snd_wnd_ / 2;
    if (!(full || ((all || half_window) && nagle_ok))) return false;
  }

  TcpFlags flags = TcpFlags::ack;
  if (n > 0 && n == avail) flags = flags | TcpFlags::psh;
  if (fin) flags = flags | TcpFlags::fin;
  fill_header(out, snd_nxt_, flags);
  out.payload_offset = static_cast<std::size_t>(snd_nxt_ - send_buffer_seq_);
  out.payload_length = n;
  out.retransmission = retransmission;
  out.cause = retransmission ? "retransmit: RTO" : (n > 0 ? "write()" : "close()");
  note_sent(out, now);
  return true;
}

}  // namespace synack::tcp
