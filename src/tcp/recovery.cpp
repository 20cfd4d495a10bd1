// What an ACK means for the sender: RTT samples (RFC 6298, RFC 7323 §4), congestion window
// growth (RFC 5681), and loss recovery: fast retransmit on three duplicate ACKs with NewReno
// (RFC 6582) or, when SACK is on, the scoreboard-driven recovery of RFC 6675.
#include <algorithm>

#include "tcp/connection.hpp"

namespace synack::tcp {

void Connection::on_new_ack(const Segment& seg, std::uint32_t acked, std::uint32_t flight,
                            Instant now) {
  // RTT: with timestamps every ACK of new data gives a sample, even after a retransmission,
  // since the echoed value names the transmission (RFC 7323 §4.1). Without them, one timed
  // segment per round trip, never a retransmitted one (Karn's rule) [RFC9293 MUST-18].
  if (ts_ok_ && seg.options.timestamps && seg.options.timestamps->tsecr != 0) {
    const std::uint32_t ticks = ts_now(now) - seg.options.timestamps->tsecr;
    if (ticks < 0x7fffffff) rto_.on_sample(milliseconds(ticks));
    has_rtt_seq_ = false;
  } else if (has_rtt_seq_ && after_eq(seg.ack, rtt_seq_)) {
    if (retries_ == 0) rto_.on_sample(now - rtt_start_);
    has_rtt_seq_ = false;
  }
  // Progress: the count of retransmissions before giving up starts again, and so does the
  // user timeout.
  retries_ = 0;
  retrans_stamp_.reset();

  if (sack_ok_) {
    scoreboard_.on_cumulative_ack(snd_una_);
    scoreboard_.on_sack(seg.options.sacks(), snd_una_, snd_max_);
  }
  if (before(high_rxt_, snd_una_)) high_rxt_ = snd_una_;

  if (in_recovery_) {
    if (after_eq(snd_una_, recover_)) {
      // Full acknowledgment: recovery is over (RFC 6582 §3.2 step 3, option 1; RFC 6675
      // §5 leaves cwnd at ssthresh).
      in_recovery_ = false;
      dup_acks_ = 0;
      cc_.set_cwnd(std::min(cc_.ssthresh(), std::max(flight_size(), cc_.smss()) + cc_.smss()));
    } else if (!sack_ok_) {
      // Partial acknowledgment (RFC 6582 §3.2 step 4): the next hole is lost too. Resend it
      // now, deflate the window by what was acked, and add back one segment.
      rtx_first_ = true;
      const std::uint32_t cwnd = cc_.cwnd();
      const std::uint32_t deflated = cwnd > acked ? cwnd - acked : 0;
      cc_.set_cwnd(deflated + (acked >= cc_.smss() ? cc_.smss() : 0));
    }
  } else {
    dup_acks_ = 0;
    cc_.on_ack(std::min(acked, flight));
  }
  restart_retransmit_timer(now);  // RFC 6298 (5.3)
}

void Connection::on_duplicate_ack(bool newly_sacked) {
  ++ctx_->counters.tcp.dup_acks;
  bump(dup_acks_);
  if (in_recovery_) {
    // NewReno inflates the window by one segment per duplicate ACK (RFC 6582 §3.2 step 3):
    // each one says a segment has left the network. With SACK, the pipe estimate does it.
    if (!sack_ok_) cc_.set_cwnd(cc_.cwnd() + cc_.smss());
    return;
  }
  // RFC 6675 §5: enter recovery on DupThresh duplicates, or once SACK shows SND.UNA lost.
  const bool lost_by_sack =
      sack_ok_ && newly_sacked && after(scoreboard_.lost_boundary(snd_una_, cc_.smss()), snd_una_);
  if (dup_acks_ < static_cast<int>(scoreboard_.dupthresh()) && !lost_by_sack) return;
  // RFC 6582 §3.2 step 2: no new recovery for losses from the window already recovered.
  if (recovered_once_ && before_eq(snd_una_, recover_)) return;
  enter_recovery();
}

void Connection::enter_recovery() {
  ++ctx_->counters.tcp.fast_retransmits;
  if (sack_ok_) ++ctx_->counters.tcp.sack_recoveries;
  prior_cwnd_ = cc_.cwnd();
  prior_ssthresh_ = cc_.ssthresh();
  undo_retrans_ = 0;
  in_recovery_ = true;
  recovered_once_ = true;
  recover_ = snd_max_;
  high_rxt_ = snd_una_;
  cc_.on_congestion_event(flight_size());
  if (!sack_ok_) cc_.set_cwnd(cc_.ssthresh() + 3 * cc_.smss());  // RFC 6582 step 2
  rtx_first_ = true;     // fast retransmit: the segment at SND.UNA goes now
  has_rtt_seq_ = false;  // Karn: no sample across a retransmission
}

}  // namespace synack::tcp

namespace synack::tcp {

void Connection::on_dsack(const Segment& seg) {
  const auto blocks = seg.options.sacks();
  if (!sack_ok_ || blocks.empty()) return;
  // RFC 2883 §4: the first block is a D-SACK when it lies below the cumulative ACK or
  // inside the second block.
  const Seq left(blocks[0].left), right(blocks[0].right);
  const bool dsack =
      before_eq(right, seg.ack) || (blocks.size() > 1 && before_eq(Seq(blocks[1].left), left) &&
                                    before_eq(right, Seq(blocks[1].right)));
  if (!dsack) return;
  ++ctx_->counters.tcp.dsacks_received;
  if (undo_retrans_ <= 0 || !before(left, high_rxt_)) return;
  if (--undo_retrans_ > 0) return;
  // Every retransmission of this recovery arrived twice: the "loss" was reordering.
  // Restore the window and tolerate deeper reordering from now on.
  ++ctx_->counters.tcp.spurious_recoveries;
  undo_retrans_ = -1;
  cc_.restore(prior_cwnd_, prior_ssthresh_);
  in_recovery_ = false;
  recovered_once_ = false;  // a real loss in this window may start recovery again
  scoreboard_.set_dupthresh(std::min<std::uint32_t>(scoreboard_.dupthresh() + 1, 6));
}

}  // namespace synack::tcp
