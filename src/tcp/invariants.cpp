// The TCB invariants (RFC 9293 §3.3.1's sequence variables and what this stack keeps beside
// them), checked by the stack after every event and every API call in builds without
// NDEBUG, so that a fuzzer or a test run in a Debug build stops at the first step that
// breaks one instead of at a symptom far downstream. Each check states only what the code
// guarantees for any input, however hostile: a violation is a bug in the stack.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tcp/connection.hpp"

namespace synack::tcp {
namespace {

std::string seq(Seq s) {
  return std::to_string(s.raw());
}

std::string timer(const std::optional<Instant>& t) {
  return t ? "armed" : "not armed";
}

// The states in which output may carry data or FIN (output.cpp's sends_data).
bool sends_data(State s) {
  return s == State::Established || s == State::CloseWait || s == State::FinWait1 ||
         s == State::Closing || s == State::LastAck;
}

}  // namespace

void Connection::invariant_failed(std::string_view invariant, std::string_view values) const {
  const std::string local = tuple_.local.to_string();
  const std::string remote = tuple_.remote.to_string();
  const std::string_view state = to_string(state_);
  std::fprintf(stderr, "synack: TCB invariant violated: %.*s [%.*s] in %.*s, %s <-> %s\n",
               static_cast<int>(invariant.size()), invariant.data(),
               static_cast<int>(values.size()), values.data(), static_cast<int>(state.size()),
               state.data(), local.c_str(), remote.c_str());
  std::abort();
}

void Connection::check_invariants() const {
  // `values` is called only when the check fails: the strings cost nothing otherwise.
  const auto require = [this](bool ok, std::string_view invariant, auto&& values) {
    if (!ok) invariant_failed(invariant, values());
  };
  const auto timer_set = [this](Timer t) {
    return timers_[static_cast<std::size_t>(t)] != kUnarmed;
  };

  // --- Send sequence space -------------------------------------------------------------------
  require(before_eq(snd_una_, snd_nxt_) && before_eq(snd_nxt_, snd_max_),
          "SND.UNA <= SND.NXT <= SND.MAX", [&] {
            return "SND.UNA=" + seq(snd_una_) + " SND.NXT=" + seq(snd_nxt_) +
                   " SND.MAX=" + seq(snd_max_);
          });
  require(before_eq(iss_, snd_una_), "ISS <= SND.UNA",
          [&] { return "ISS=" + seq(iss_) + " SND.UNA=" + seq(snd_una_); });
  require(snd_wnd_ <= max_snd_wnd_, "SND.WND <= the largest window offered", [&] {
    return "SND.WND=" + std::to_string(snd_wnd_) + " max=" + std::to_string(max_snd_wnd_);
  });

  // The send buffer holds exactly the data octets from SND.UNA to the end of what was
  // written: the sequence span from SND.UNA to the end (with our FIN, once queued) is the
  // buffer's bytes, plus the SYN while it is unacknowledged, plus the FIN while it is. No
  // octet was ever sent beyond that end. TIME_WAIT and CLOSED have released the buffer.
  if (state_ != State::Closed && state_ != State::TimeWait) {
    const Seq end = send_buffer_end() + (fin_queued_ ? 1u : 0u);
    const bool syn_unacked = snd_una_ == iss_;
    const bool fin_unacked = fin_queued_ && snd_una_ != end;
    const std::size_t span = static_cast<std::size_t>(static_cast<std::uint32_t>(end - snd_una_));
    const std::size_t held =
        send_buffer_.size() + (syn_unacked ? 1u : 0u) + (fin_unacked ? 1u : 0u);
    require(span == held, "the send buffer spans SND.UNA to the end of the data written", [&] {
      return "SND.UNA=" + seq(snd_una_) + " buffer from " + seq(send_buffer_seq_) + ", " +
             std::to_string(send_buffer_.size()) + " bytes, end " + seq(end) +
             (fin_queued_ ? " (FIN queued)" : "") + " ISS=" + seq(iss_);
    });
    require(before_eq(snd_max_, end), "SND.MAX <= the end of the data written (and FIN)",
            [&] { return "SND.MAX=" + seq(snd_max_) + " end=" + seq(end); });
  }

  // The stack's buffer memory is charged exactly what the connection holds, whenever an
  // event or call has returned (account_memory).
  require(charged_ == buffered_bytes(), "the memory charged is the bytes held", [&] {
    return "charged " + std::to_string(charged_) + ", held " + std::to_string(buffered_bytes());
  });

  // --- Receive sequence space ----------------------------------------------------------------
  // RCV.NXT, RCV.ADV (the right edge advertised) and the reassembly exist once the peer's
  // SYN is known.
  const bool receiving =
      state_ != State::Closed && state_ != State::Listen && state_ != State::SynSent;
  if (receiving) {
    // The window never shrinks (RFC 9293 §3.8.6.2.2; config.hpp and window_to_advertise):
    // the right edge advertised never moves left...
    if (has_checked_rcv_adv_) {
      require(before_eq(checked_rcv_adv_, rcv_adv_), "RCV.ADV never moves left",
              [&] { return "was " + seq(checked_rcv_adv_) + ", now " + seq(rcv_adv_); });
    }
    checked_rcv_adv_ = rcv_adv_;
    has_checked_rcv_adv_ = true;
    // ...nothing is taken beyond it (but a FIN, which takes no buffer, just past it)...
    require(before_eq(rcv_nxt_ - (fin_received_ ? 1u : 0u), rcv_adv_), "RCV.NXT <= RCV.ADV", [&] {
      return "RCV.NXT=" + seq(rcv_nxt_) + " RCV.ADV=" + seq(rcv_adv_) +
             (fin_received_ ? " (FIN received)" : "");
    });
    // ...and the next ACK would offer at least as far again, less than one unit of the
    // window scale short at worst (the stalled reader's rounding, RFC 7323 Appendix F).
    if (synchronized(state_)) {
      const std::uint32_t unit = 1u << rcv_wscale_;
      const std::uint32_t offered = static_cast<std::uint32_t>(window_to_advertise())
                                    << rcv_wscale_;
      const Seq edge = rcv_nxt_ + offered;
      require(before_eq(rcv_adv_, edge + (unit - 1)),
              "RCV.NXT + RCV.WND never moves left of RCV.ADV", [&] {
                return "RCV.NXT=" + seq(rcv_nxt_) + " window " + std::to_string(offered) +
                       " RCV.ADV=" + seq(rcv_adv_) + " unit " + std::to_string(unit);
              });
    }
    // Out-of-order islands lie past RCV.NXT, in order, apart, and inside the ring where
    // their bytes were written (past the readable bytes, at their distance from RCV.NXT).
    const auto blocks = reassembly_.blocks();
    for (std::size_t i = 0; i < blocks.size(); ++i) {
      const Reassembly::Block& b = blocks[i];
      const bool past = fin_received_ ? before_eq(rcv_nxt_, b.left) : before(rcv_nxt_, b.left);
      const bool ordered = before(b.left, b.right) &&
                           (i + 1 == blocks.size() || before(b.right, blocks[i + 1].left));
      require(past && ordered, "out-of-order islands lie past RCV.NXT, ordered and apart", [&] {
        std::string v = "RCV.NXT=" + seq(rcv_nxt_) + " islands";
        for (const Reassembly::Block& x : blocks)
          v += " [" + seq(x.left) + "," + seq(x.right) + ")";
        return v;
      });
    }
    if (!blocks.empty() && !read_shutdown_ && receive_buffer_.capacity() > 0) {
      const auto reach =
          static_cast<std::size_t>(static_cast<std::uint32_t>(blocks.back().right - rcv_nxt_));
      require(receive_buffer_.size() + reach <= receive_buffer_.capacity(),
              "out-of-order data lies inside the receive buffer", [&] {
                return std::to_string(receive_buffer_.size()) + " readable + " +
                       std::to_string(reach) + " to the last island > capacity " +
                       std::to_string(receive_buffer_.capacity());
              });
    }
  }

  // --- Timers: armed exactly when the state needs them ---------------------------------------
  if (state_ == State::Closed) {
    for (std::size_t t = 0; t < kTimerCount; ++t) {
      require(timers_[t] == kUnarmed, "no timer in CLOSED",
              [&] { return std::string(to_string(static_cast<Timer>(t))) + " armed"; });
    }
    return;
  }
  // RFC 6298 (5.1), (5.2): the retransmission timer runs while a SYN, data or FIN is
  // unacknowledged, and only then (a zero-window probe has the persist timer).
  require(timer_set(Timer::Retransmit) == (snd_una_ != snd_max_),
          "retransmission timer armed iff something is unacknowledged", [&] {
            return "retransmit " + timer(deadline(Timer::Retransmit)) +
                   ", SND.UNA=" + seq(snd_una_) + " SND.MAX=" + seq(snd_max_);
          });
  // The persist timer waits for a window to open with nothing in flight.
  require(!timer_set(Timer::Persist) || (sends_data(state_) && snd_una_ == snd_max_),
          "persist timer armed only with nothing in flight, in a sending state",
          [&] { return "SND.UNA=" + seq(snd_una_) + " SND.MAX=" + seq(snd_max_); });
  // 2·MSL in TIME_WAIT, and the FIN_WAIT_2 timeout of a connection the application closed.
  const bool wait_needed = state_ == State::TimeWait || (state_ == State::FinWait2 && orphaned_);
  require(timer_set(Timer::TimeWait) == wait_needed,
          "2MSL timer armed iff TIME_WAIT or an orphan's FIN_WAIT_2", [&] {
            return "2MSL " + timer(deadline(Timer::TimeWait)) +
                   (orphaned_ ? ", closed by the application" : ", socket open");
          });
  // A delayed ACK waits only for data received and not yet acknowledged.
  require(!timer_set(Timer::DelayedAck) ||
              (unacked_bytes_ > 0 && synchronized(state_) && state_ != State::TimeWait),
          "delayed-ACK timer armed only while received data awaits its ACK",
          [&] { return "unacknowledged bytes " + std::to_string(unacked_bytes_); });
  // SO_KEEPALIVE: the timer runs in every synchronized state but TIME_WAIT, iff enabled.
  const bool keepalive_needed =
      config_->keepalive.enabled && synchronized(state_) && state_ != State::TimeWait;
  require(timer_set(Timer::Keepalive) == keepalive_needed,
          "keepalive timer armed iff SO_KEEPALIVE in a synchronized state", [&] {
            return "keepalive " + timer(deadline(Timer::Keepalive)) +
                   (config_->keepalive.enabled ? ", enabled" : ", disabled");
          });
}

}  // namespace synack::tcp
