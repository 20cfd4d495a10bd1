// A Link decorator that shows every frame in and out, with its timestamp, to a
// CaptureSink: the hook that the pcap writer and the ladder renderer hang on.
#pragma once

#include "link/link.hpp"

namespace synack::link {

enum class Direction { in, out };

class CaptureSink {
 public:
  virtual void on_capture(Direction dir, wire::Bytes frame, Instant at) = 0;

 protected:
  ~CaptureSink() = default;
};

class CaptureLink final : public Link {
 public:
  CaptureLink(Link& inner, CaptureSink& sink) : inner_(inner), sink_(sink) {}

  void send(wire::Bytes frame, Instant now) override;
  std::size_t receive(Instant now, FrameSink& sink, std::size_t budget) override;
  std::size_t mtu() const override { return inner_.mtu(); }
  int poll_fd() const override { return inner_.poll_fd(); }
  void flush(Instant now) override { inner_.flush(now); }
  // The frame is captured from the loan when it is sent.
  std::span<std::uint8_t> lend(std::size_t size) override { return inner_.lend(size); }
  std::optional<Instant> next_arrival() const override { return inner_.next_arrival(); }
  // Offloads pass through; a super-segment is captured as sent, one frame (as tcpdump
  // shows it on a device with TSO).
  std::size_t max_segmented_frame() const override { return inner_.max_segmented_frame(); }
  void send_segmented(wire::Bytes frame, Instant now, std::size_t segment_size) override;

 private:
  Link& inner_;
  CaptureSink& sink_;
};

}  // namespace synack::link
