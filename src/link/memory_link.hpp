// A Link in memory: two stacks in one process, joined by a pair of frame rings (one per
// direction). No system call and no allocation per frame: each ring is a fixed block of
// frame slots made once. For benchmarks and tests that want the stack's own cost with no
// medium in the way. Single-threaded: both ends are driven by the same thread.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "link/link.hpp"

namespace synack::link {

class MemoryLink final : public Link {
 public:
  // Two links, each the other's peer, each direction holding up to `slots` frames of at
  // most `mtu` bytes.
  static std::pair<std::unique_ptr<MemoryLink>, std::unique_ptr<MemoryLink>> pair(
      std::size_t mtu = 1500, std::size_t slots = 1024);

  void send(wire::Bytes frame, Instant now) override;
  // The next free slot of the ring.
  std::span<std::uint8_t> lend(std::size_t size) override;
  std::size_t receive(Instant now, FrameSink& sink, std::size_t budget) override;
  std::size_t mtu() const override { return mtu_; }

  std::uint64_t send_dropped() const { return send_dropped_; }
  bool has_pending() const { return rx_->head != rx_->tail; }

 private:
  struct Ring {
    Ring(std::size_t mtu, std::size_t slots)
        : bytes(mtu * slots), lengths(slots), capacity(slots) {}
    std::vector<std::uint8_t> bytes;
    std::vector<std::uint32_t> lengths;
    std::size_t capacity;
    std::size_t head = 0;  // next frame to deliver, counted without wrapping
    std::size_t tail = 0;  // next free slot, counted without wrapping
  };

  MemoryLink(std::size_t mtu, std::shared_ptr<Ring> rx, std::shared_ptr<Ring> tx)
      : mtu_(mtu), rx_(std::move(rx)), tx_(std::move(tx)) {}

  std::size_t mtu_;
  std::shared_ptr<Ring> rx_;
  std::shared_ptr<Ring> tx_;
  std::uint64_t send_dropped_ = 0;
};

}  // namespace synack::link
