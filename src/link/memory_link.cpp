#include "link/memory_link.hpp"

#include <cstring>

namespace synack::link {

std::pair<std::unique_ptr<MemoryLink>, std::unique_ptr<MemoryLink>> MemoryLink::pair(
    std::size_t mtu, std::size_t slots) {
  auto a_to_b = std::make_shared<Ring>(mtu, slots);
  auto b_to_a = std::make_shared<Ring>(mtu, slots);
  return {std::unique_ptr<MemoryLink>(new MemoryLink(mtu, b_to_a, a_to_b)),
          std::unique_ptr<MemoryLink>(new MemoryLink(mtu, a_to_b, b_to_a))};
}

void MemoryLink::send(wire::Bytes frame, Instant /*now*/) {
  Ring& ring = *tx_;
  if (frame.size() > mtu_ || ring.tail - ring.head == ring.capacity) {
    ++send_dropped_;  // too big for the medium, or its queue is full: dropped, as a device would
    return;
  }
  const std::size_t slot = ring.tail % ring.capacity;
  std::uint8_t* at = ring.bytes.data() + slot * mtu_;
  if (frame.data() != at) std::memcpy(at, frame.data(), frame.size());  // else built in place
  ring.lengths[slot] = static_cast<std::uint32_t>(frame.size());
  ++ring.tail;
}

std::span<std::uint8_t> MemoryLink::lend(std::size_t size) {
  Ring& ring = *tx_;
  if (size > mtu_ || ring.tail - ring.head == ring.capacity) return {};
  return {ring.bytes.data() + (ring.tail % ring.capacity) * mtu_, mtu_};
}

std::size_t MemoryLink::receive(Instant now, FrameSink& sink, std::size_t budget) {
  Ring& ring = *rx_;
  std::size_t delivered = 0;
  while (delivered < budget && ring.head != ring.tail) {
    const std::size_t slot = ring.head % ring.capacity;
    sink.on_frame(wire::Bytes(ring.bytes.data() + slot * mtu_, ring.lengths[slot]), now);
    ++ring.head;
    ++delivered;
  }
  // Emptied: the next frame goes to the first slot again, whose memory is still in the
  // cache, rather than on round a ring of megabytes touching every slot in turn.
  if (ring.head == ring.tail) ring.head = ring.tail = 0;
  return delivered;
}

}  // namespace synack::link
