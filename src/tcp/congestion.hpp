// Congestion control (RFC 5681). The controller owns cwnd and ssthresh and decides how they
// grow and shrink; loss detection and recovery (fast retransmit, NewReno, SACK) live in the
// connection and tell the controller what happened. CongestionControl holds the state every
// controller has; a controller adds on_ack, on_congestion_event and on_timeout (and its
// name). No virtual functions: Reno is the only one and lives inline in every connection,
// where a vtable pointer cost 8 bytes each; CUBIC (RFC 9438) would make the member a
// std::variant of the two.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string_view>

namespace synack::tcp {

class CongestionControl {
 public:
  std::uint32_t cwnd() const { return cwnd_; }
  std::uint32_t ssthresh() const { return ssthresh_; }
  // Loss recovery may inflate and deflate the window (RFC 6582 §3.2 steps 3-5).
  void set_cwnd(std::uint32_t cwnd) { cwnd_ = std::max(cwnd, smss_); }
  void set_smss(std::uint32_t smss) { smss_ = smss; }
  // Undo a reduction that proved spurious (RFC 2883 §4.3 / RFC 3708): back to the window
  // held before it.
  void restore(std::uint32_t cwnd, std::uint32_t ssthresh) {
    cwnd_ = std::max(cwnd_, cwnd);
    ssthresh_ = std::max(ssthresh_, ssthresh);
  }
  std::uint32_t smss() const { return smss_; }

 protected:
  CongestionControl(std::uint32_t smss, std::uint32_t initial_window)
      : cwnd_(initial_window), smss_(smss) {}
  std::uint32_t cwnd_;
  std::uint32_t ssthresh_ = 0x7fffffff;  // RFC 5681 §3.1: arbitrarily high at first
  std::uint32_t smss_;
};

// RFC 6928: the initial window is 10 segments, min(10*MSS, max(2*MSS, 14600)).
constexpr std::uint32_t initial_window(std::uint32_t smss) {
  return std::min(10 * smss, std::max(2 * smss, 14600u));
}

// Standard TCP congestion control (RFC 5681) with appropriate byte counting (RFC 3465, L=2).
class Reno final : public CongestionControl {
 public:
  explicit Reno(std::uint32_t smss) : CongestionControl(smss, initial_window(smss)) {}
  std::string_view name() const { return "reno"; }

  // New data was cumulatively acknowledged outside loss recovery.
  void on_ack(std::uint32_t acked) {
    if (cwnd_ < ssthresh_) {
      cwnd_ += std::min(acked, 2 * smss_);  // slow start, eqn. 2 with L = 2 (RFC 3465)
      return;
    }
    // Congestion avoidance: one SMSS per window of data acknowledged (RFC 5681 §3.1).
    bytes_acked_ += acked;
    if (bytes_acked_ >= cwnd_) {
      bytes_acked_ -= cwnd_;
      cwnd_ += smss_;
    }
  }
  // A loss detected by duplicate ACKs or SACK (RFC 5681 §3.2 step 2): reduce.
  void on_congestion_event(std::uint32_t flight_size) {
    ssthresh_ = std::max(flight_size / 2, 2 * smss_);  // eqn. 4
    cwnd_ = ssthresh_;
    bytes_acked_ = 0;
  }
  // The retransmission timer expired (RFC 5681 §3.1, eqn. 4): back to one segment.
  void on_timeout(std::uint32_t flight_size) {
    ssthresh_ = std::max(flight_size / 2, 2 * smss_);
    cwnd_ = smss_;  // the loss window, LW
    bytes_acked_ = 0;
  }

 private:
  std::uint32_t bytes_acked_ = 0;
};

}  // namespace synack::tcp
