#include "link/sim/channel.hpp"

#include <algorithm>

namespace synack::sim {

const char* to_string(DropReason r) {
  switch (r) {
    case DropReason::loss:
      return "loss";
    case DropReason::queue_full:
      return "queue full";
    case DropReason::too_big:
      return "too big for MTU";
    case DropReason::scripted:
      return "scripted";
    case DropReason::no_route:
      return "no route";
  }
  return "unknown";
}

void Channel::drop_nth(std::uint64_t n) {
  rules_.push_back({Rule::Action::drop, {}, stats_.offered + n, {}, 1});
}

void Channel::drop_matching(FramePredicate match, std::uint64_t count) {
  rules_.push_back({Rule::Action::drop, std::move(match), 0, {}, count});
}

void Channel::hold_matching(FramePredicate match, Duration extra, std::uint64_t count) {
  rules_.push_back({Rule::Action::hold, std::move(match), 0, extra, count});
}

Fate Channel::offer(wire::Bytes frame, Instant now) {
  Fate fate;
  const std::uint64_t number = ++stats_.offered;
  auto drop = [&](DropReason reason, std::uint64_t& counter) {
    ++counter;
    fate.dropped = true;
    fate.reason = reason;
    return fate;
  };

  if (frame.size() > params_.mtu) return drop(DropReason::too_big, stats_.too_big);

  Duration held{};
  for (auto it = rules_.begin(); it != rules_.end(); ++it) {
    const bool hit = it->match ? it->match(frame) : it->nth == number;
    if (!hit) continue;
    const Rule::Action action = it->action;
    const Duration extra = it->extra;
    if (it->remaining != 0 && --it->remaining == 0) rules_.erase(it);
    if (action == Rule::Action::drop) return drop(DropReason::scripted, stats_.scripted_drops);
    ++stats_.held;
    held = extra;
    break;
  }

  // The bottleneck: frames queue behind each other and leave at the link rate.
  Instant departure = now;
  if (params_.bandwidth_bps != 0) {
    const Instant start = std::max(now, busy_until_);
    const auto bits = static_cast<std::int64_t>(frame.size() * 8);
    const auto rate = static_cast<std::int64_t>(params_.bandwidth_bps);
    if (params_.queue_bytes != 0) {
      const std::int64_t backlog_bytes = (start - now).count() * rate / 8'000'000'000;
      if (static_cast<std::size_t>(backlog_bytes) + frame.size() > params_.queue_bytes) {
        return drop(DropReason::queue_full, stats_.queue_full);
      }
    }
    busy_until_ = start + Duration{bits * 1'000'000'000 / rate};
    departure = busy_until_;
  }

  // A lost frame still used the bottleneck's time: it is lost on the wire after it.
  if (rng_.chance(params_.loss)) return drop(DropReason::loss, stats_.lost);

  Instant arrival = departure + params_.delay;
  if (params_.jitter.count() > 0) {
    arrival += Duration{static_cast<std::int64_t>(
        rng_.below(static_cast<std::uint64_t>(params_.jitter.count()) + 1))};
  }
  if (held.count() > 0) {
    arrival += held;  // a held frame overtakes nothing and is overtaken by everything
  } else if (rng_.chance(params_.reorder)) {
    ++stats_.reordered;
    arrival += params_.reorder_delay;
  } else {
    arrival = std::max(arrival, last_arrival_);  // jitter alone does not reorder
    last_arrival_ = arrival;
  }

  auto deliver = [&](Instant at) {
    Fate::Delivery d{at, false, 0};
    if (!frame.empty() && rng_.chance(params_.corrupt)) {
      ++stats_.corrupted;
      d.corrupt_bit = true;
      d.bit = static_cast<std::size_t>(rng_.below(frame.size() * 8));
    }
    fate.deliveries[fate.count++] = d;
    ++stats_.scheduled;
  };
  deliver(arrival);
  if (rng_.chance(params_.duplicate)) {
    ++stats_.duplicated;
    deliver(arrival + microseconds(1));  // the copy trails the original
  }
  return fate;
}

}  // namespace synack::sim
