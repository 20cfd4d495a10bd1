#include "link/sim/network.hpp"

#include <algorithm>

namespace synack::sim {
namespace {

// A node that asks to be polled at the same instant this many times in a row is not
// making progress; the run stops instead of hanging.
constexpr std::uint64_t kMaxStepsPerInstant = 100'000;

std::uint32_t destination_of(wire::Bytes frame) {
  return frame.size() >= 20 ? wire::load_be32(frame.data() + 16) : 0;
}

}  // namespace

void SimLink::send(wire::Bytes frame, Instant now) {
  net_.transmit(index_, frame, now);
}

void SimLink::send_to_host(std::uint32_t host, wire::Bytes frame, Instant now) {
  net_.transmit_to(index_, host, frame, now);
}

std::size_t SimLink::receive(Instant now, link::FrameSink& sink, std::size_t budget) {
  std::size_t n = 0;
  while (n < budget && has_pending(now)) {
    Frame f = std::move(rx_.front());
    rx_.pop_front();
    sink.on_frame(f.bytes, f.arrival);
    net_.recycle(std::move(f.bytes));
    ++n;
  }
  return n;
}

Network::Network(std::uint64_t seed, ChannelParams defaults) : seed_(seed), defaults_(defaults) {}

Network::~Network() = default;

SimLink& Network::add_host(std::uint32_t address, std::size_t mtu) {
  const std::size_t index = links_.size();
  links_.push_back(std::unique_ptr<SimLink>(new SimLink(*this, index, address, mtu)));
  by_address_[address] = index;
  return *links_.back();
}

void Network::add_node(Node& node, SimLink* link) {
  nodes_.push_back({&node, link});
}

Channel& Network::channel(std::uint32_t from, std::uint32_t to) {
  const std::size_t a = by_address_.at(from);
  const std::size_t b = by_address_.at(to);
  auto it = channels_.find({a, b});
  if (it == channels_.end()) {
    // Each direction draws from its own stream, derived from the seed and the pair.
    const std::uint64_t seed = splitmix64(seed_ ^ splitmix64((a << 32) | b));
    it = channels_.emplace(std::pair{a, b}, Channel(defaults_, seed)).first;
  }
  return it->second;
}

void Network::set_path(std::uint32_t a, std::uint32_t b, const ChannelParams& params) {
  channel(a, b).params() = params;
  channel(b, a).params() = params;
}

std::vector<std::uint8_t> Network::take_buffer(wire::Bytes frame) {
  std::vector<std::uint8_t> buffer;
  if (!pool_.empty()) {
    buffer = std::move(pool_.back());
    pool_.pop_back();
  }
  buffer.assign(frame.begin(), frame.end());
  return buffer;
}

void Network::recycle(std::vector<std::uint8_t>&& buffer) {
  pool_.push_back(std::move(buffer));
}

void Network::transmit(std::size_t from, wire::Bytes frame, Instant now) {
  transmit_to(from, destination_of(frame), frame, now);
}

void Network::transmit_to(std::size_t from, std::uint32_t dst, wire::Bytes frame, Instant now) {
  const std::uint32_t src = links_[from]->address();
  const auto route = by_address_.find(dst);
  if (route == by_address_.end()) {
    ++no_route_;
    if (observer_) observer_->on_drop(src, dst, frame, DropReason::no_route, now);
    return;
  }
  Channel& ch = channel(src, dst);
  const Fate fate = ch.offer(frame, now);
  if (fate.dropped) {
    if (observer_) observer_->on_drop(src, dst, frame, fate.reason, now);
    return;
  }
  for (int i = 0; i < fate.count; ++i) {
    const Fate::Delivery& d = fate.deliveries[i];
    std::vector<std::uint8_t> bytes = take_buffer(frame);
    if (d.corrupt_bit) bytes[d.bit / 8] ^= static_cast<std::uint8_t>(1u << (d.bit % 8));
    in_flight_.push({d.arrival, order_++, route->second, std::move(bytes)});
  }
}

std::optional<Instant> Network::next_event() const {
  std::optional<Instant> next;
  auto consider = [&](Instant t) {
    if (!next || t < *next) next = t;
  };
  if (!in_flight_.empty()) consider(in_flight_.top().arrival);
  for (const NodeEntry& e : nodes_) {
    if (auto d = e.node->next_deadline()) consider(*d);
    if (e.link && e.link->has_pending(now_)) consider(now_);
  }
  return next;
}

void Network::step(Instant t) {
  now_ = std::max(now_, t);
  ++steps_;
  while (!in_flight_.empty() && in_flight_.top().arrival <= now_) {
    // priority_queue::top is const; the buffer is moved out just before pop discards it.
    InFlight& head = const_cast<InFlight&>(in_flight_.top());
    links_[head.to]->rx_.push_back({head.arrival, std::move(head.bytes)});
    in_flight_.pop();
  }
  for (const NodeEntry& e : nodes_) {
    const auto d = e.node->next_deadline();
    const bool due = (d && *d <= now_) || (e.link && e.link->has_pending(now_));
    if (due) e.node->poll(now_);
  }
}

RunResult Network::run_until(Instant end) {
  return run_until([] { return false; }, end - now_).stalled ? RunResult{false, true}
                                                             : RunResult{true, false};
}

RunResult Network::run_until(const std::function<bool()>& done, Duration limit) {
  const Instant end = now_ + limit;
  Instant last = now_;
  std::uint64_t same_instant = 0;
  while (!done()) {
    const auto t = next_event();
    if (!t || *t > end) {
      now_ = std::max(now_, end);
      return {false, false};
    }
    same_instant = (*t <= last) ? same_instant + 1 : 0;
    if (same_instant > kMaxStepsPerInstant) return {false, true};
    last = std::max(*t, now_);
    step(*t);
  }
  return {true, false};
}

}  // namespace synack::sim
