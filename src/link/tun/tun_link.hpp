// A Link on a Linux TUN device (/dev/net/tun, IFF_TUN | IFF_NO_PI): each read is one IPv4
// packet the kernel routed to the device, each write one packet the kernel receives from it.
// The kernel's own TCP/IP is then synack's peer.
//
//   auto tun = link::TunLink::open({.name = "synack0", .host = *InterfaceAddress::parse(
//                                       "198.18.0.1/24")});
//   if (!tun) { std::cerr << tun.error().message << "\n"; return 1; }
//   synack::Stack stack(**tun, clock, {.address = Ipv4Address(198, 18, 0, 2)});
//
// The kernel side of the device gets `host` (its address and on-link prefix); synack uses
// another address inside that prefix.
//
// Two ways to send, chosen at open() (batching()): through io_uring (TunRing, tun_ring.hpp),
// where send() queues each frame in a preallocated buffer and the queue goes to the kernel
// many frames per system call when full or at flush(); or, when io_uring is unavailable or
// TunConfig::batching is off, one writev(2) per frame. Two ways to receive, until the
// device's queue is empty or the budget is spent: with batching, up to 64 reads in one
// io_uring_enter (TunReadRing, tun_read_ring.hpp) on the first thread that calls
// receive(), the ring's owner, and read(2) on any other thread; without, read(2) on the
// non-blocking descriptor. poll_fd() is the descriptor either way, what an epoll loop
// (src/runtime) waits on: no read is left outstanding between two calls.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "base/result.hpp"
#include "link/link.hpp"
#include "synack/ipv4_address.hpp"

struct iovec;  // <sys/uio.h>

namespace synack::link {

// An interface address with its prefix length: "198.18.0.1/24".
struct InterfaceAddress {
  Ipv4Address address;
  int prefix = 24;

  static std::optional<InterfaceAddress> parse(std::string_view text);
  std::string to_string() const;
  // Whether `other` is on this address's subnet.
  bool contains(Ipv4Address other) const;
};

struct TunConfig {
  std::string name = "synack0";  // created if missing, attached to if it exists
  std::size_t mtu = 0;           // 0: keep the device's MTU (1500 for a new device)
  bool bring_up = true;          // set IFF_UP
  // The kernel side's address and prefix; nullopt leaves the device's addresses alone
  // (a device made by `synack netns up` has its address already).
  std::optional<InterfaceAddress> host;
  // Keep the device when the last descriptor closes (TUNSETPERSIST), as `synack netns up`
  // does so that a later `synack serve` attaches to it.
  bool persist = false;
  // Turn IPv6 off on the device so the kernel sends no router or multicast-listener
  // solicitations into synack (which speaks IPv4 only); best effort.
  bool disable_ipv6 = true;
  // IFF_VNET_HDR with checksum and TCP segmentation offload (TUNSETOFFLOAD TUN_F_CSUM |
  // TUN_F_TSO4): the kernel hands over coalesced TCP segments of up to 64 KiB whose
  // checksums it vouches for (FrameSink::on_trusted_frame), and takes super-segments of
  // up to 64 KiB that it cuts and checksums itself (Link::send_segmented). Off: one
  // MTU-sized packet per read and write, every checksum computed and checked here.
  bool offloads = false;
  // Send through io_uring, many frames per system call, when the kernel allows it
  // (TunLink::batching() says whether it did), and receive through a second ring on the
  // first thread that calls receive() (reads on other threads stay read(2), in order: no
  // read is outstanding between calls); off, or when io_uring_queue_init fails: a system
  // call per frame. Off by default because of what closing a ring does to the application:
  // io_uring's exit work reaches every thread that submitted to the ring as task work with
  // TWA_SIGNAL, so the next blocking system call with a timeout of each such thread (the
  // runtime sends from the application's threads too) fails once with EINTR. The read ring
  // (IORING_SETUP_DEFER_TASKRUN) adds no interruption while it is open, but closing it
  // does the same to its one owner (measured on 6.18: DEFER_TASKRUN does not change that).
  // For a process whose threads retry on EINTR, or that keeps its link until it exits.
  bool batching = false;
};

// Why a device could not be opened or configured: the errno and a sentence that says what
// to do about it.
struct TunError {
  std::error_code code;
  std::string message;
};

struct TunStats {
  std::uint64_t frames_in = 0, bytes_in = 0;
  std::uint64_t frames_out = 0, bytes_out = 0;
  std::uint64_t send_dropped = 0;   // the kernel refused a write (queue full, device down)
  std::uint64_t oversize = 0;       // frames larger than the MTU, not sent
  std::uint64_t read_errors = 0;    // reads that failed other than EAGAIN
  std::uint64_t segmented_out = 0;  // frames sent for the kernel to segment (GSO)
  std::uint64_t coalesced_in = 0;   // frames received as GSO super-segments
  std::uint64_t bad_vnet = 0;       // reads too short for the virtio-net header, dropped
  // io_uring only: writes completed in another order than queued (never expected: a TUN
  // write completes inline, in submission order; counted so that tests can check it).
  std::uint64_t send_reordered = 0;
  // System calls made to receive: read(2)s, or io_uring_enter()s of batched reads (each
  // up to 64 packets); frames_in / receive_calls is the packets a call.
  std::uint64_t receive_calls = 0;
  // io_uring reads only: reads that completed after the call that submitted them returned
  // (never expected; their packets are dropped rather than delivered in unknown order).
  std::uint64_t receive_late = 0;
};

class TunRing;
class TunReadRing;

class TunLink final : public Link {
 public:
  static Result<std::unique_ptr<TunLink>, TunError> open(const TunConfig& config);
  ~TunLink() override;
  TunLink(const TunLink&) = delete;
  TunLink& operator=(const TunLink&) = delete;

  void send(wire::Bytes frame, Instant now) override;
  std::size_t receive(Instant now, FrameSink& sink, std::size_t budget) override;
  std::size_t mtu() const override { return mtu_; }
  int poll_fd() const override { return fd_; }
  void flush(Instant now) override;
  // 65535 with offloads (an IPv4 packet's limit), else 0.
  std::size_t max_segmented_frame() const override { return vnet_ ? 65535 : 0; }
  void send_segmented(wire::Bytes frame, Instant now, std::size_t segment_size) override;

  const std::string& name() const { return name_; }
  const TunStats& stats() const { return stats_; }
  // How frames move: "io_uring writes (64 per call, registered buffers), reads (...)", or
  // "writev" with why io_uring is not used.
  const std::string& batching() const { return batching_; }
  bool batched() const { return ring_ != nullptr; }

 private:
  TunLink(int fd, std::string name, std::size_t mtu, bool vnet);
  // Chooses io_uring or read/writev for the descriptor, as asked.
  void start_batching(bool wanted);
  // Writes the iovecs as one packet, counting it; false when the kernel refused it.
  bool write_packet(const ::iovec* iov, int count, std::size_t bytes);
  // receive() through the read ring: batches of reads, each one system call.
  std::size_t receive_batched(Instant now, FrameSink& sink, std::size_t budget);
  // Makes the read ring, bound to the calling thread; on failure, read(2) from then on.
  void start_read_ring();
  // Hands one packet read from the device (with its virtio-net header, with offloads) to
  // the sink.
  void deliver(wire::Bytes packet, Instant now, FrameSink& sink);

  int fd_;
  std::string name_;
  std::size_t mtu_;
  bool vnet_;  // IFF_VNET_HDR: every packet starts with a virtio-net header
  TunStats stats_;
  std::vector<std::uint8_t> buffer_;  // one packet being read (read/writev)
  std::unique_ptr<TunRing> ring_;     // io_uring; nullptr: read/writev
  // io_uring reads: wanted (batching asked for, and the ring not yet refused), the ring
  // once a thread received, and how many reads the next batch makes (grown while batches
  // come back full, cut to twice what the last one took when one does not).
  bool read_batching_ = false;
  std::unique_ptr<TunReadRing> read_ring_;
  std::size_t read_batch_ = 4;
  std::string batching_;
};

// Configures an interface of the calling thread's network namespace through ioctls on an
// AF_INET socket: the MTU (0: leave), the address (nullopt: leave) and IFF_UP.
std::optional<TunError> configure_interface(const std::string& name, std::size_t mtu,
                                            const std::optional<InterfaceAddress>& address,
                                            bool up);

}  // namespace synack::link
