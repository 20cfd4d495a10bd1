#include "tcp/rto.hpp"

namespace synack::tcp {
namespace {
// Clock granularity G of RFC 6298 §2: our clock is exact, so G is the smallest tick the
// timer wheel keeps (1 µs).
constexpr Duration kGranularity = microseconds(1);
}  // namespace

void RtoEstimator::on_sample(Duration rtt) {
  if (rtt < Duration::zero()) return;
  if (!has_sample_) {
    srtt_ = rtt;
    rttvar_ = rtt / 2;
    has_sample_ = true;
  } else {
    const Duration err = srtt_ > rtt ? srtt_ - rtt : rtt - srtt_;
    rttvar_ = rttvar_ - rttvar_ / 4 + err / 4;
    srtt_ = srtt_ - srtt_ / 8 + rtt / 8;
  }
  rto_ = srtt_ + std::max(kGranularity, 4 * rttvar_);
  backoff_ = 0;
}

Duration RtoEstimator::rto(Duration min, Duration max) const {
  Duration base = std::clamp(rto_, min, max);
  for (int i = 0; i < backoff_ && base < max; ++i) base *= 2;
  return std::min(base, max);
}

}  // namespace synack::tcp
