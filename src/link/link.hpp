// The Link interface: one medium that carries IPv4 packets (no link-layer header).
// Every medium implements it: the simulator, a TUN device, shared memory. Decorators
// (capture, fault injection) are Links around a Link, so they compose in any order.
#pragma once

#include <cstddef>
#include <optional>
#include <span>

#include "synack/time.hpp"
#include "wire/bytes.hpp"

namespace synack::link {

// Receives frames from a Link. The bytes are valid only during the call.
class FrameSink {
 public:
  virtual void on_frame(wire::Bytes frame, Instant arrived) = 0;
  // A frame whose TCP or UDP checksum the medium vouches for, so the sink must not verify
  // it: a TUN device with IFF_VNET_HDR hands over the local kernel's frames marked
  // VIRTIO_NET_HDR_F_NEEDS_CSUM, which carry only the pseudo-header sum in the checksum
  // field (Linux's CHECKSUM_PARTIAL; a coalesced 64 KiB segment would be summed for
  // nothing). The IPv4 header checksum is still checked. A sink that does not override this
  // verifies as for any frame, and so drops such frames as bad checksums: the stack
  // overrides it, and decorators forward it.
  virtual void on_trusted_frame(wire::Bytes frame, Instant arrived) { on_frame(frame, arrived); }

 protected:
  ~FrameSink() = default;
};

class Link {
 public:
  virtual ~Link() = default;

  // Hands one frame to the medium. The medium copies what it keeps: the caller's buffer
  // is free again when send returns. A medium that cannot take the frame drops and counts it.
  virtual void send(wire::Bytes frame, Instant now) = 0;

  // Building in place: a medium that keeps frames in buffers of its own (a ring in memory)
  // may lend the next one, at least `size` bytes, so that the frame is written there rather
  // than written elsewhere and copied in. The frame goes with send() or send_segmented() as
  // ever, its bytes starting at the loan: the medium sees that and keeps them where they are.
  // A loan not sent is forgotten; another call to the link may reuse its space. Empty when
  // the medium does not lend, or has no room now. Decorators that see every frame forward it.
  virtual std::span<std::uint8_t> lend(std::size_t /*size*/) { return {}; }

  // Frames a medium batches (a TUN device through io_uring queues them to send many per
  // system call) leave no later than the next flush; the stack flushes at the end of every
  // poll and after any call that sends outside one. Decorators forward it.
  virtual void flush(Instant /*now*/) {}

  // Delivers, in arrival order, up to `budget` frames that have arrived by `now`.
  // Returns how many were delivered.
  virtual std::size_t receive(Instant now, FrameSink& sink, std::size_t budget) = 0;

  // The largest frame the medium carries, in bytes (the IP MTU).
  virtual std::size_t mtu() const = 0;

  // TCP segmentation offload (TSO/GSO) with checksum offload, for TCP over IPv4. A medium
  // that can cut one large TCP segment into MSS-sized ones (a TUN device with IFF_VNET_HDR
  // hands it to the kernel, which does) names the largest such frame it takes; 0, the
  // default, means none, and the stack then never calls send_segmented.
  virtual std::size_t max_segmented_frame() const { return 0; }
  // Sends `frame`, one IPv4 packet carrying TCP (at most max_segmented_frame() bytes), as
  // the segments it stands for: its payload cut into `segment_size`-octet pieces (the last
  // may be shorter), each behind a copy of the IP and TCP headers with the lengths, IP id
  // and sequence number advanced and FIN and PSH on the last piece only, as Linux's GSO
  // cuts. The TCP checksum field holds only the pseudo-header sum (wire::
  // write_tcp_in_place_for_offload) and the medium completes each piece's checksum. A frame of one
  // piece is sent this way too, for the checksum offload alone. The default does it all in
  // software (link/tcp_segmentation.hpp) and send()s each piece.
  virtual void send_segmented(wire::Bytes frame, Instant now, std::size_t segment_size);

  // For a real-time driver (src/runtime), which sleeps until one of these says there is
  // work. A file descriptor that polls readable when frames may be waiting, -1 for none.
  virtual int poll_fd() const { return -1; }
  // When frames the medium holds back (a fault injector's delayed frames) are next due,
  // nullopt when none are: no file descriptor announces them. Decorators forward both.
  virtual std::optional<Instant> next_arrival() const { return std::nullopt; }
};

}  // namespace synack::link
