#include "link/fault_link.hpp"

#include <algorithm>

namespace synack::link {
namespace {

// The heap's order: std::push_heap keeps the largest on top, so "larger" is "due later".
bool later(const auto& a, const auto& b) {
  return a.due != b.due ? a.due > b.due : a.order > b.order;
}

sim::ChannelParams with_mtu(sim::ChannelParams p, std::size_t mtu) {
  p.mtu = mtu;
  return p;
}

}  // namespace

FaultLink::FaultLink(Link& inner, sim::ChannelParams outbound, sim::ChannelParams inbound,
                     std::uint64_t seed)
    : inner_(inner),
      out_(with_mtu(outbound, inner.mtu()), sim::splitmix64(seed)),
      in_(with_mtu(inbound, inner.mtu()), sim::splitmix64(seed + 1)) {}

sim::ChannelParams FaultLink::no_faults() {
  sim::ChannelParams p;
  p.delay = Duration{};
  return p;
}

void FaultLink::hold(HeldQueue& queue, Instant due, wire::Bytes frame, const sim::Fate::Delivery& d,
                     bool trusted) {
  Held h{due, order_++, std::vector<std::uint8_t>(frame.begin(), frame.end()),
         trusted && !d.corrupt_bit};
  if (d.corrupt_bit) h.bytes[d.bit / 8] ^= static_cast<std::uint8_t>(1u << (d.bit % 8));
  queue.push_back(std::move(h));
  std::push_heap(queue.begin(), queue.end(),
                 [](const Held& a, const Held& b) { return later(a, b); });
}

void FaultLink::deliver(FrameSink& sink, wire::Bytes frame, Instant at, bool trusted) {
  if (trusted) {
    sink.on_trusted_frame(frame, at);
  } else {
    sink.on_frame(frame, at);
  }
}

FaultLink::Held FaultLink::pop(HeldQueue& queue) {
  std::pop_heap(queue.begin(), queue.end(),
                [](const Held& a, const Held& b) { return later(a, b); });
  Held h = std::move(queue.back());
  queue.pop_back();
  return h;
}

void FaultLink::release_outbound(Instant now) {
  while (!held_out_.empty() && held_out_.front().due <= now) {
    const Held h = pop(held_out_);
    inner_.send(h.bytes, now);
  }
}

void FaultLink::send(wire::Bytes frame, Instant now) {
  release_outbound(now);  // what was due goes first
  const sim::Fate fate = out_.offer(frame, now);
  for (int i = 0; i < fate.count; ++i) {
    const auto& d = fate.deliveries[i];
    if (d.arrival <= now && !d.corrupt_bit) {
      inner_.send(frame, now);
    } else {
      hold(held_out_, std::max(d.arrival, now), frame, d);
    }
  }
}

void FaultLink::flush(Instant now) {
  release_outbound(now);
  inner_.flush(now);
}

std::size_t FaultLink::receive(Instant now, FrameSink& sink, std::size_t budget) {
  release_outbound(now);
  std::size_t delivered = 0;
  // Frames held earlier arrived first.
  while (delivered < budget && !held_in_.empty() && held_in_.front().due <= now) {
    const Held h = pop(held_in_);
    deliver(sink, h.bytes, h.due, h.trusted);
    ++delivered;
  }
  // Then each new frame meets the inbound channel: due now and intact, it is delivered at
  // once; otherwise (later, corrupted, or past the budget) it is held.
  struct Filter final : FrameSink {
    FaultLink& self;
    FrameSink& next;
    Instant now;
    std::size_t budget;
    std::size_t& delivered;
    Filter(FaultLink& s, FrameSink& n, Instant t, std::size_t b, std::size_t& d)
        : self(s), next(n), now(t), budget(b), delivered(d) {}
    void on_frame(wire::Bytes frame, Instant arrived) override { offer(frame, arrived, false); }
    void on_trusted_frame(wire::Bytes frame, Instant arrived) override {
      offer(frame, arrived, true);
    }
    void offer(wire::Bytes frame, Instant arrived, bool trusted) {
      const sim::Fate fate = self.in_.offer(frame, arrived);
      for (int i = 0; i < fate.count; ++i) {
        const auto& d = fate.deliveries[i];
        if (d.arrival <= now && !d.corrupt_bit && delivered < budget) {
          deliver(next, frame, arrived, trusted);
          ++delivered;
        } else {
          self.hold(self.held_in_, std::max(d.arrival, arrived), frame, d, trusted);
        }
      }
    }
  } filter(*this, sink, now, budget, delivered);
  // Lost frames deliver nothing, so keep reading while the inner link has frames.
  while (delivered < budget) {
    if (inner_.receive(now, filter, budget - delivered) == 0) break;
  }
  // Corrupted copies due now.
  while (delivered < budget && !held_in_.empty() && held_in_.front().due <= now) {
    const Held h = pop(held_in_);
    deliver(sink, h.bytes, h.due, h.trusted);
    ++delivered;
  }
  return delivered;
}

std::optional<Instant> FaultLink::next_arrival() const {
  std::optional<Instant> next = inner_.next_arrival();
  for (const HeldQueue* q : {&held_out_, &held_in_}) {
    if (!q->empty() && (!next || q->front().due < *next)) next = q->front().due;
  }
  return next;
}

}  // namespace synack::link
