// The retransmission timeout of RFC 6298: SRTT and RTTVAR from measured round trips,
// RTO = SRTT + max(G, 4·RTTVAR) bounded by [min, max], doubled on each expiry (backoff).
#pragma once

#include <algorithm>
#include <cstdint>

#include "synack/time.hpp"

namespace synack::tcp {

class RtoEstimator {
 public:
  // The bounds are not kept here: every connection with the same options shares them, so
  // rto() takes them from the Config (16 bytes less per connection).
  explicit RtoEstimator(Duration initial) : rto_(initial) {}

  // RFC 6298 (2.2) for the first sample, (2.3) after: alpha = 1/8, beta = 1/4. A valid
  // sample also ends a backoff (RFC 6298 §5, after (5.7)).
  void on_sample(Duration rtt);
  // RFC 6298 (5.5): the timer expired; double the RTO up to the maximum.
  void back_off() { backoff_ = static_cast<std::uint8_t>(std::min(backoff_ + 1, 30)); }
  // There is no reset on a mere ACK: Karn's algorithm keeps the doubled value for the next
  // segments until one that was never retransmitted is acknowledged and measured (RFC 6298
  // §5, after (5.7); Linux tcp_ack_update_rtt: "only reset backoff on valid RTT
  // measurement"). Otherwise a path whose RTT grew past the RTO would have every segment
  // retransmitted and never give a sample again.

  // RFC 6298 (5.7): the SYN (or SYN,ACK) timed out and the handshake gave no RTT sample, so
  // data transmission starts from an RTO of 3 s (Linux: TCP_TIMEOUT_FALLBACK), not from
  // the 1 s initial value nor from the SYN's backoff.
  void fall_back_after_syn_timeout() {
    backoff_ = 0;
    if (!has_sample_) rto_ = std::max(rto_, kSynTimeoutFallback);
  }
  static constexpr Duration kSynTimeoutFallback = seconds(3);

  // The RTO now: bounded by [min, max], then doubled per backoff up to max.
  Duration rto(Duration min, Duration max) const;
  int backoff() const { return backoff_; }
  bool has_sample() const { return has_sample_; }
  Duration srtt() const { return srtt_; }
  Duration rttvar() const { return rttvar_; }

 private:
  Duration rto_;
  Duration srtt_{}, rttvar_{};
  bool has_sample_ = false;
  std::uint8_t backoff_ = 0;  // at most 30
};

}  // namespace synack::tcp
