// A Link over shared memory between two processes, each with its own Stack: no kernel
// network, no root, no TUN device. One process creates the region, the other attaches:
//
//   // process A                                   // process B
//   auto link = link::shm::ShmLink::create("demo");  auto link =
//   link::shm::ShmLink::attach("demo"); runtime::Runtime rt(**link, {.address = a});
//   runtime::Runtime rt(**link, {.address = b});
//
// Frames go through two frame rings (frame_ring.hpp) in a region (region.hpp), one per
// direction. send() appends to the tx ring; receive() drains the rx ring in batches and
// gives the space back once per batch.
//
// Wake-ups. The runtime sleeps in epoll on poll_fd(), and a futex is not a descriptor, so
// each side has an eventfd, and the two are exchanged over a Unix socket when the peer
// attaches (SCM_RIGHTS, rendezvous.hpp). A consumer that finds its rx ring empty clears its
// eventfd, raises the ring's waiting flag in the header, and looks at the ring once more
// (a full fence between the flag and the look, and between the producer's publishing and
// its look at the flag: neither side can miss the other). A producer writes the peer's
// eventfd only when it finds the flag raised, and lowers it: while the consumer keeps up
// with a busy producer, no frame costs a system call. The runtime thus needs no change
// and no helper thread: poll_fd() is an epoll descriptor holding this side's eventfd, the
// rendezvous socket (the creator's listening one: a peer attaching) and the connection to
// the peer (its end closes when the peer dies), so it polls readable for all three.
// next_arrival() is "now" while the rx ring holds frames, so the runtime never sleeps on
// frames a bounded poll left behind. With `busy_poll`, no flag is ever raised and
// next_arrival() is always "now": the runtime spins, for benchmarks.
//
// Peers. The creator accepts one attacher at a time; another is refused (busy) while the
// first lives. When the peer dies, its end of the Unix socket closes, the runtime wakes,
// and the link turns `gone`: send() then drops and counts, so the stack's connections
// time out as TCP says (or reset, against a peer that comes back). The creator then takes
// a new attacher, empties both rings and gives it the next generation (region.hpp): no
// stale frame is read. An attacher whose creator died stays `gone`; attach anew to the
// region a new creator makes.
//
// Threads: one thread at a time drives a link (the runtime's mutex sees to it); stats()
// is read under the runtime's with_stack(). peer_state() may be read from any thread.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "link/link.hpp"
#include "link/shm/region.hpp"
#include "synack/time.hpp"

namespace synack::link::shm {

struct ShmLinkOptions {
  RegionOptions region;  // the creator's; an attacher takes the region's sizes
  // Spin instead of sleeping: the runtime never waits in epoll (a core each side).
  bool busy_poll = false;
  // How long attach() waits for the creator to answer (its runtime must be running).
  int attach_timeout_ms = 2000;
};

struct ShmStats {
  std::uint64_t frames_in = 0, bytes_in = 0;
  std::uint64_t frames_out = 0, bytes_out = 0;
  std::uint64_t send_dropped_full = 0;     // the peer's ring was full
  std::uint64_t send_dropped_no_peer = 0;  // no peer attached, or the peer died
  std::uint64_t oversize = 0;              // frames larger than the MTU, not sent
  std::uint64_t corrupt = 0;               // rx ring records that made no sense (ring skipped)
  std::uint64_t wakeups_sent = 0;          // eventfd writes to a sleeping peer
  std::uint64_t peers_attached = 0;        // creator: attachers accepted
  std::uint64_t peers_refused = 0;         // creator: attachers turned away (busy, bad hello)
  std::uint64_t peers_lost = 0;            // peers whose process ended (or closed the link)
};

enum class PeerState : std::uint32_t {
  waiting,   // creator: no attacher yet, or the last one is gone and none came since
  attached,  // frames flow
  gone,      // attacher: the creator is gone; creator: never (it goes back to waiting)
};

class ShmLink final : public Link {
 public:
  static Result<std::unique_ptr<ShmLink>, RegionError> create(std::string_view name,
                                                              const ShmLinkOptions& options = {});
  // Waits up to options.attach_timeout_ms for the creator's answer: device_or_resource_busy
  // when another process is attached, timed_out when the creator does not answer,
  // connection_refused when nobody listens (the creator died), no_such_file_or_directory
  // when there is no region, protocol_error when the region is not of this version.
  static Result<std::unique_ptr<ShmLink>, RegionError> attach(std::string_view name,
                                                              const ShmLinkOptions& options = {});
  ~ShmLink() override;
  ShmLink(const ShmLink&) = delete;
  ShmLink& operator=(const ShmLink&) = delete;

  void send(wire::Bytes frame, Instant now) override;
  // Room in the tx ring (FrameRing::reserve), while a peer is attached.
  std::span<std::uint8_t> lend(std::size_t size) override;
  std::size_t receive(Instant now, FrameSink& sink, std::size_t budget) override;
  std::size_t mtu() const override { return region_->mtu(); }
  // Checksum offload, as the kernel's loopback does it: memory does not corrupt, so a TCP
  // segment may cross with only the pseudo-header sum in its checksum field (marked in its
  // ring record) and the receiving side hands it up as trusted (on_trusted_frame). The
  // region carries frames up to the MTU whole, so a super-segment is never larger; one whose
  // pieces the peer's MSS would cut smaller is segmented and summed in software.
  std::size_t max_segmented_frame() const override { return std::min<std::size_t>(mtu(), 65535); }
  void send_segmented(wire::Bytes frame, Instant now, std::size_t segment_size) override;
  int poll_fd() const override { return epoll_fd_; }
  std::optional<Instant> next_arrival() const override;

  PeerState peer_state() const { return state_.load(std::memory_order_acquire); }
  // Attached, and the peer's process exists (kill(pid, 0) does not answer ESRCH).
  bool peer_alive() const;
  // This attacher's generation, or the current attacher's (creator); 0 before the first.
  std::uint32_t attacher_generation() const;
  const ShmStats& stats() const { return stats_; }
  Region& region() { return *region_; }

 private:
  ShmLink(std::unique_ptr<Region> region, const ShmLinkOptions& options);
  bool open_descriptors();
  // The control events: this side's eventfd cleared, a peer attaching, a peer gone.
  void service();
  void accept_peers();
  void admit(int connection);
  void lose_peer();
  void watch(int fd, bool add);
  void push(wire::Bytes frame, bool checksum_left);

  std::unique_ptr<Region> region_;
  ShmLinkOptions options_;
  FrameRing* rx_;
  FrameRing* tx_;
  int epoll_fd_ = -1;
  int own_eventfd_ = -1;   // the peer writes it to wake this side
  int peer_eventfd_ = -1;  // written to wake the peer
  int listen_fd_ = -1;     // creator: the rendezvous
  int peer_fd_ = -1;       // the connection to the peer, for its end closing
  std::atomic<PeerState> state_{PeerState::waiting};
  std::uint32_t idle_polls_ = 0;
  ShmStats stats_;
  std::vector<std::uint8_t> scratch_;  // a super-segment being cut in software
};

}  // namespace synack::link::shm
