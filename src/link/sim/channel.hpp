// One direction of one path in the simulated network, with everything that can go wrong
// on it: delay and jitter, a bandwidth bottleneck with a bounded queue, random loss,
// duplication, reordering and bit corruption, an MTU, and scripted faults.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "link/sim/rng.hpp"
#include "synack/time.hpp"
#include "wire/bytes.hpp"

namespace synack::sim {

struct ChannelParams {
  Duration delay = milliseconds(5);  // one-way propagation delay
  Duration jitter{};                 // extra delay uniform in [0, jitter]; order is kept
  std::uint64_t bandwidth_bps = 0;   // 0: no serialization delay, no queue
  std::size_t queue_bytes = 0;       // bottleneck queue; 0: unbounded
  double loss = 0;                   // probability a frame is lost
  double duplicate = 0;              // probability a frame arrives twice
  double reorder = 0;                // probability a frame is held back by reorder_delay
  Duration reorder_delay = milliseconds(10);
  double corrupt = 0;      // probability one random bit of the frame flips
  std::size_t mtu = 1500;  // larger frames are dropped
};

enum class DropReason { loss, queue_full, too_big, scripted, no_route };
const char* to_string(DropReason r);

struct ChannelStats {
  std::uint64_t offered = 0;    // frames handed to the channel
  std::uint64_t scheduled = 0;  // deliveries scheduled (duplicates count twice)
  std::uint64_t lost = 0, queue_full = 0, too_big = 0, scripted_drops = 0;
  std::uint64_t duplicated = 0, reordered = 0, corrupted = 0, held = 0;
};

using FramePredicate = std::function<bool(wire::Bytes frame)>;

// What the channel decided for one frame: up to two deliveries (a duplicate makes two).
struct Fate {
  struct Delivery {
    Instant arrival;
    bool corrupt_bit = false;  // flip bit `bit` of the copy before delivery
    std::size_t bit = 0;
  };
  Delivery deliveries[2];
  int count = 0;
  bool dropped = false;
  DropReason reason = DropReason::loss;
};

class Channel {
 public:
  Channel(ChannelParams params, std::uint64_t seed) : params_(params), rng_(seed) {}

  ChannelParams& params() { return params_; }
  const ChannelStats& stats() const { return stats_; }

  // Scripted faults, checked in the order added before any random fault.
  // Drops the nth frame offered to this channel from now on (1 = the next one).
  void drop_nth(std::uint64_t n);
  // Drops frames matching `match`, at most `count` of them (unlimited if count == 0).
  void drop_matching(FramePredicate match, std::uint64_t count = 0);
  // Holds frames matching `match` back by `extra` (delivered that much later than they
  // would have been), at most `count` of them: the delayed old duplicate of RFC 9293 §3.5.
  void hold_matching(FramePredicate match, Duration extra, std::uint64_t count = 1);

  // Decides the fate of a frame offered at `now`.
  Fate offer(wire::Bytes frame, Instant now);

 private:
  struct Rule {
    enum class Action { drop, hold } action;
    FramePredicate match;  // empty: matches only frame number `nth`
    std::uint64_t nth = 0;
    Duration extra{};
    std::uint64_t remaining = 0;  // 0: unlimited
  };

  ChannelParams params_;
  Rng rng_;
  ChannelStats stats_;
  std::vector<Rule> rules_;
  Instant busy_until_{};    // when the bottleneck finishes the frames already queued
  Instant last_arrival_{};  // arrivals are kept in order unless a frame is reordered
};

}  // namespace synack::sim
