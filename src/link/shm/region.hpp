// A shared-memory region for the shm link: a POSIX shared-memory object (shm_open, under
// /dev/shm) holding a header and two frame rings, one per direction.
//
//   [ RegionHeader           ]  4 KiB: magic, version, sizes, each side's liveness word
//   [ ring creator→attacher  ]  FrameRing::block_bytes(ring_bytes)
//   [ ring attacher→creator  ]  FrameRing::block_bytes(ring_bytes)
//
// One process creates the region (create()), one attaches to it (attach()). The creator
// owns the name: it unlinks it when it is destroyed, and refuses a name that exists unless
// told to replace it (a creator that died leaves its region behind).
//
// Liveness and generations. Each side has a liveness word: the pid that holds the side
// and a generation that grows by one each time a process takes the side. The creator's is
// 1 for the region's life; the attacher side is taken anew by each attaching process.
// The region alone never hands a side to a process: the link's rendezvous does
// (shm_link.hpp), and only once the creator knows the previous attacher is gone (its end
// of a Unix socket has closed, which the kernel does when a process dies, SIGKILL
// included). Then, and only then, the creator empties both rings (reset_rings()) and
// bumps the attacher generation, before it answers the new attacher: no process is
// writing either ring at that moment, so no frame of a previous attacher (or for it) is
// ever read. Records a dead producer left half-written were never published.
//
// Every field the creator writes before the magic is visible to an attacher that reads
// the magic (release/acquire); a region whose magic is not there yet is "not ready".
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "base/result.hpp"
#include "link/shm/frame_ring.hpp"

namespace synack::link::shm {

inline constexpr std::uint64_t kRegionMagic = 0x6d68732d6b63616eull;  // "nack-shm"
inline constexpr std::uint32_t kRegionVersion = 1;

struct alignas(64) Liveness {
  std::atomic<std::uint32_t> pid;         // 0 while the side is free
  std::atomic<std::uint32_t> generation;  // grows by one each time a process takes the side
};

// The header at the start of the region. Standard layout, no pointers, lock-free atomics.
struct alignas(4096) RegionHeader {
  std::atomic<std::uint64_t> magic;  // written last by the creator
  std::uint32_t version;
  std::uint32_t header_bytes;  // sizeof(RegionHeader)
  std::uint32_t ring_bytes;    // data bytes of each ring
  std::uint32_t mtu;           // the largest frame either side sends
  Liveness creator;
  Liveness attacher;
  // Per direction, set by that ring's consumer when it found the ring empty and may sleep:
  // the producer then wakes it (once) after its next frame, and otherwise makes no system
  // call. [0]: the ring creator→attacher (the attacher consumes), [1]: attacher→creator.
  struct alignas(64) Waiting {
    std::atomic<std::uint32_t> flag;
  } waiting[2];
};
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::is_standard_layout_v<RegionHeader>);
static_assert(std::is_trivially_destructible_v<RegionHeader>);
static_assert(sizeof(RegionHeader) == 4096);

struct RegionOptions {
  std::uint32_t ring_bytes = 4u << 20;  // per direction; a power of two
  std::uint32_t mtu = 1500;
  bool replace = false;  // unlink a region of the same name first (its creator died)
};

// Why a region could not be made or attached: the errno-like code and a sentence.
struct RegionError {
  std::error_code code;
  std::string message;
};

class Region {
 public:
  enum class Role { creator, attacher };

  // A new region named `name` ("demo": the object /dev/shm/synack-demo). Fails with
  // file_exists when the name is taken and !options.replace.
  static Result<std::unique_ptr<Region>, RegionError> create(std::string_view name,
                                                             const RegionOptions& options);
  // The region a creator made. no_such_file_or_directory when there is none (or it is
  // not initialized yet); protocol_error on a wrong magic, version or size.
  static Result<std::unique_ptr<Region>, RegionError> attach(std::string_view name);

  // The POSIX name of the object behind `name`.
  static std::string object_name(std::string_view name);

  ~Region();
  Region(const Region&) = delete;
  Region& operator=(const Region&) = delete;

  Role role() const { return role_; }
  const std::string& name() const { return name_; }
  RegionHeader& header() { return *header_; }
  std::uint32_t mtu() const { return mtu_; }
  std::uint32_t ring_bytes() const { return ring_bytes_; }
  // This side's rings: what it sends into, and what it receives from.
  FrameRing& tx() { return *tx_; }
  FrameRing& rx() { return *rx_; }
  // The waiting flag of this side's rx ring (set by this side) and tx ring (read by it).
  std::atomic<std::uint32_t>& rx_waiting();
  std::atomic<std::uint32_t>& tx_waiting();
  Liveness& own_liveness() { return role_ == Role::creator ? header_->creator : header_->attacher; }
  Liveness& peer_liveness() {
    return role_ == Role::creator ? header_->attacher : header_->creator;
  }

  // Creator only, while no attacher uses the rings: both rings emptied, both waiting flags
  // cleared. The attacher's own FrameRing objects are made after this (it attaches anew).
  void reset_rings();

 private:
  Region(Role role, std::string name, void* base, std::size_t bytes, std::uint32_t ring_bytes,
         std::uint32_t mtu, bool initialize);

  Role role_;
  std::string name_;
  void* base_;
  std::size_t bytes_;
  std::uint32_t ring_bytes_;
  std::uint32_t mtu_;
  RegionHeader* header_;
  std::uint64_t inode_ = 0;  // creator: its object's, to unlink only its own
  std::optional<FrameRing> tx_;
  std::optional<FrameRing> rx_;
};

// The size of a region with rings of `ring_bytes`.
std::size_t region_bytes(std::uint32_t ring_bytes);

}  // namespace synack::link::shm
