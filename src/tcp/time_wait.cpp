// TIME_WAIT without a connection: the snapshot a Connection hands out, and the replies.
// Each step names the Connection code it mirrors (tcp/arrival.cpp, tcp/output.cpp).
#include "tcp/time_wait.hpp"

#include "tcp/connection.hpp"

namespace synack::tcp {

std::optional<TimeWaitState> Connection::time_wait_state(Instant now) const {
  if (state_ != State::TimeWait || !orphaned_ || !fin_received_) return std::nullopt;
  const auto expiry = deadline(Timer::TimeWait);
  if (!expiry) return std::nullopt;
  // Anything that would still change a reply keeps the whole connection: output not yet
  // sent, a D-SACK to report, out-of-order data to SACK, an undo still counting D-SACKs,
  // a right edge not yet on a unit of the scale (the next ACK would round it), an ACK not
  // yet sent for RCV.NXT (TS.Recent follows Last.ACK.sent), or SND.WL2 above SND.UNA.
  for (std::size_t t = 0; t < kTimerCount; ++t) {
    if (t != static_cast<std::size_t>(Timer::TimeWait) && timers_[t] != kUnarmed)
      return std::nullopt;
  }
  if (rst_pending_ || ack_now_ || keepalive_probe_ || window_probe_ || has_dsack_ ||
      !reassembly_.empty() || undo_retrans_ > 0 || snd_una_ != snd_nxt_ || snd_nxt_ != snd_max_ ||
      last_ack_sent_ != rcv_nxt_ || after(snd_wl2_, snd_una_) || !send_buffer_.empty() ||
      !receive_buffer_.empty()) {
    return std::nullopt;
  }
  TimeWaitState s;
  s.window = window_to_advertise();
  s.rcv_wscale = rcv_wscale_;
  if (s.rcv_wnd() != rcv_wnd()) return std::nullopt;
  s.snd_nxt = snd_nxt_;
  s.rcv_nxt = rcv_nxt_;
  s.snd_wscale = snd_wscale_;
  s.max_snd_wnd = max_snd_wnd_;
  s.snd_wl1 = snd_wl1_;
  s.ts_ok = ts_ok_;
  s.sack_ok = sack_ok_;
  s.ts_recent = ts_recent_;
  s.ts_offset = ts_offset_;
  s.expiry = *expiry;
  // A budget whose window has ended is a fresh one (challenge_ack()).
  if (challenge_acks_in_window_ > 0 &&
      now - challenge_window_start_ < config_->challenge_ack_window) {
    s.challenge_window_start = challenge_window_start_;
    s.challenge_acks_in_window = challenge_acks_in_window_;
  }
  s.msl = config_->msl;
  s.challenge_ack_limit = config_->challenge_ack_limit;
  s.challenge_ack_window = config_->challenge_ack_window;
  return s;
}

namespace {

// Connection::challenge_ack.
void challenge_ack(TimeWaitState& s, TimeWaitReply& r, std::string_view why, Instant now,
                   Counters& counters) {
  if (s.challenge_acks_in_window == 0 || now - s.challenge_window_start >= s.challenge_ack_window) {
    s.challenge_window_start = now;
    s.challenge_acks_in_window = 0;
  }
  if (s.challenge_ack_limit != 0 && s.challenge_acks_in_window >= s.challenge_ack_limit) {
    ++counters.tcp.challenge_acks_suppressed;
    r.drop_reason = "challenge ACK rate limit (RFC 5961 §7)";
    return;
  }
  ++s.challenge_acks_in_window;
  ++counters.tcp.challenge_acks;
  r.ack = true;
  r.ack_cause = why;
}

// Connection::on_ack in TIME_WAIT, where SND.UNA = SND.NXT = SND.MAX.
void on_ack(TimeWaitState& s, TimeWaitReply& r, const Segment& seg, Instant now,
            Counters& counters) {
  if (after(seg.ack, s.snd_nxt)) {
    ++counters.tcp.bad_ack;
    challenge_ack(s, r, "challenge ACK: unsent data acked", now, counters);
    return;
  }
  if (before(seg.ack, s.snd_nxt - s.max_snd_wnd)) {
    ++counters.tcp.ack_too_old;
    challenge_ack(s, r, "challenge ACK: ACK too old", now, counters);
    if (r.drop_reason.empty()) r.drop_reason = "ACK too old (RFC 5961 §5.2)";
    return;
  }
  if (before(seg.ack, s.snd_nxt)) {
    ++counters.tcp.old_ack;
  } else if (before_eq(s.snd_wl1, seg.seq)) {  // update_send_window (SND.WL2 <= SEG.ACK)
    s.max_snd_wnd = std::max(s.max_snd_wnd, std::uint32_t{seg.window} << s.snd_wscale);
    s.snd_wl1 = seg.seq;
  }
  // on_dsack: a D-SACK is counted (there is no recovery left to undo).
  const auto blocks = seg.options.sacks();
  if (!s.sack_ok || blocks.empty()) return;
  const Seq left(blocks[0].left), right(blocks[0].right);
  if (before_eq(right, seg.ack) || (blocks.size() > 1 && before_eq(Seq(blocks[1].left), left) &&
                                    before_eq(right, Seq(blocks[1].right)))) {
    ++counters.tcp.dsacks_received;
  }
}

// Connection::acceptable.
bool acceptable(const TimeWaitState& s, const Segment& seg) {
  const std::uint32_t len = seg.len();
  const std::uint32_t wnd = s.rcv_wnd();
  if (len == 0) return wnd == 0 ? seg.seq == s.rcv_nxt : in_window(seg.seq, s.rcv_nxt, wnd);
  if (wnd == 0) return false;
  return in_window(seg.seq, s.rcv_nxt, wnd) || in_window(seg.seq + (len - 1), s.rcv_nxt, wnd);
}

}  // namespace

TimeWaitReply time_wait_arrival(TimeWaitState& s, const Segment& seg, Instant now,
                                Counters& counters) {
  TimeWaitReply r;
  const auto ack = [&r](std::string_view why) {
    if (!r.ack) r.ack_cause = why;
    r.ack = true;
  };
  // RFC 7323 §5.3 R1, before the sequence check: PAWS (Connection::paws_rejects).
  if (s.ts_ok && seg.options.timestamps && !seg.has(TcpFlags::rst) &&
      static_cast<std::int32_t>(seg.options.timestamps->tsval - s.ts_recent) < 0) {
    ++counters.tcp.paws_rejected;
    ack("ack: old timestamp (PAWS)");
    return r;
  }
  // 3.10.7.4 first: check the sequence number.
  if (!acceptable(s, seg)) {
    ++counters.tcp.out_of_window;
    if (!seg.has(TcpFlags::rst)) {
      ack("ack: out of window");
      if (!seg.payload.empty() && before(seg.seq, s.rcv_nxt)) {
        const Seq end = seg.seq + static_cast<std::uint32_t>(seg.payload.size());
        r.dsack = wire::SackBlock{seg.seq.raw(), earliest(end, s.rcv_nxt).raw()};
      }
    }
    // A retransmitted FIN: re-ACK it and restart the 2·MSL wait (3.10.7.4 eighth).
    if (seg.has(TcpFlags::fin)) r.restart = true;
    // [RFC9293 MUST-66]: with the window shut, a valid ACK is still processed.
    if (s.rcv_wnd() == 0 && seg.seq == s.rcv_nxt && seg.has(TcpFlags::ack) &&
        !seg.has(TcpFlags::rst) && !seg.has(TcpFlags::syn)) {
      on_ack(s, r, seg, now, counters);
    }
    return r;
  }
  // take_timestamp: Last.ACK.sent is RCV.NXT.
  if (s.ts_ok && seg.options.timestamps && before_eq(seg.seq, s.rcv_nxt) &&
      static_cast<std::int32_t>(seg.options.timestamps->tsval - s.ts_recent) >= 0) {
    s.ts_recent = seg.options.timestamps->tsval;
  }
  // 3.10.7.4 second: RFC 1337, an RST in TIME_WAIT is ignored (Connection::on_rst).
  if (seg.has(TcpFlags::rst)) {
    ++counters.tcp.time_wait_rsts;
    r.drop_reason = "RST in TIME_WAIT (RFC 1337)";
    return r;
  }
  // 3.10.7.4 fourth: an in-window SYN gets a challenge ACK (RFC 5961 §4).
  if (seg.has(TcpFlags::syn)) {
    challenge_ack(s, r, "challenge ACK: SYN", now, counters);
    return r;
  }
  // 3.10.7.4 fifth: check the ACK field.
  if (!seg.has(TcpFlags::ack)) {
    ++counters.tcp.no_ack_flag;
    r.drop_reason = "no ACK flag";
    return r;
  }
  on_ack(s, r, seg, now, counters);
  // Seventh and eighth: text and a FIN after the peer's FIN change nothing in TIME_WAIT.
  return r;
}

OutSegment time_wait_ack(const TimeWaitState& s, const FourTuple& tuple, const TimeWaitReply& reply,
                         Instant now, Counters& counters) {
  // Connection::fill_header(SND.MAX, ACK) and note_sent.
  OutSegment out;
  auto& h = out.header;
  h.src_port = tuple.local.port;
  h.dst_port = tuple.remote.port;
  h.seq = s.snd_nxt.raw();
  h.ack = s.rcv_nxt.raw();
  h.flags = TcpFlags::ack;
  h.window = s.window;
  if (s.ts_ok) h.options.timestamps = wire::TcpTimestamps{s.ts_now(now), s.ts_recent};
  if (s.sack_ok && reply.dsack) h.options.add_sack(*reply.dsack);
  out.cause = reply.ack_cause;
  ++counters.tcp.out_segs;
  if (reply.dsack && h.options.sack_block_count > 0) ++counters.tcp.dsacks_sent;
  return out;
}

}  // namespace synack::tcp
