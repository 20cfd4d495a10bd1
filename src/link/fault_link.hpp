// A Link decorator that injects the simulator's faults (sim::Channel: loss, delay and
// jitter, reordering, duplication, bit corruption, a bandwidth bottleneck, scripted drops)
// into the frames of any link, the TUN device included. One channel for frames out, one for
// frames in; each decides a frame's fate when it passes.
//
//   link::FaultLink faulty(tun, {.loss = 0.01}, {.loss = 0.01}, seed);
//   runtime::Runtime rt(faulty, config);
//
// A frame whose fate is "later" is copied and held; it goes out (or in) on a later send() or
// receive() once due. next_arrival() tells a real-time driver when that is, so it wakes then.
// Holding copies allocates per delayed frame: this is a test instrument, not the data path.
// A frame the inner link vouches for (FrameSink::on_trusted_frame: its checksum left to the
// medium) stays vouched for, unless the channel corrupts it: then it goes up as an ordinary
// frame, whose checksum the stack checks and so drops it, as a damaged frame is. Outbound,
// the decorator offers no segmentation offload, so every frame it sends carries its checksum.
#pragma once

#include <cstdint>
#include <vector>

#include "link/link.hpp"
#include "link/sim/channel.hpp"

namespace synack::link {

class FaultLink final : public Link {
 public:
  // Both channels' `mtu` is taken from the inner link; their other fields are as given
  // (sim::ChannelParams defaults to a 5 ms delay: pass `no_faults()` and change fields).
  FaultLink(Link& inner, sim::ChannelParams outbound, sim::ChannelParams inbound,
            std::uint64_t seed);

  // Parameters that change nothing: no delay, no loss.
  static sim::ChannelParams no_faults();

  void send(wire::Bytes frame, Instant now) override;
  std::size_t receive(Instant now, FrameSink& sink, std::size_t budget) override;
  std::size_t mtu() const override { return inner_.mtu(); }
  int poll_fd() const override { return inner_.poll_fd(); }
  // Releases what is due, then flushes the inner link.
  void flush(Instant now) override;
  std::optional<Instant> next_arrival() const override;

  sim::Channel& outbound() { return out_; }
  sim::Channel& inbound() { return in_; }

 private:
  struct Held {
    Instant due;
    std::uint64_t order;  // ties keep the order frames were held in
    std::vector<std::uint8_t> bytes;
    bool trusted = false;  // delivered with on_trusted_frame
  };
  // A min-heap on (due, order), kept with std::push_heap / pop_heap.
  using HeldQueue = std::vector<Held>;

  void hold(HeldQueue& queue, Instant due, wire::Bytes frame, const sim::Fate::Delivery& d,
            bool trusted = false);
  // Hands a frame up as it came: vouched for (on_trusted_frame) or not.
  static void deliver(FrameSink& sink, wire::Bytes frame, Instant at, bool trusted);
  static Held pop(HeldQueue& queue);
  void release_outbound(Instant now);

  Link& inner_;
  sim::Channel out_;
  sim::Channel in_;
  HeldQueue held_out_;
  HeldQueue held_in_;
  std::uint64_t order_ = 0;
};

}  // namespace synack::link
