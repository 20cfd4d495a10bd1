// IPv4 reassembly (RFC 791 §3.2, RFC 1122 §3.3.2): fragments of one datagram, named by
// (source, destination, protocol, identification), are held until every byte from 0 to the
// end the last fragment gives has come, then joined behind the first fragment's header.
//
// Sans-I/O: time is passed in. The owner calls add() for each fragment, expire(now) when
// next_deadline() says, and charges what is held to its BufferBudget if it hands one in.
//
//   Reassembler r(limits, &budget);
//   switch (r.add(fragment, now)) {
//     case FragmentOutcome::complete: deliver(r.datagram()); break;
//     ...
//   }
//
// What it refuses, and why:
// - A fragment that overlaps one held drops the whole datagram (as Linux does since the
//   FragmentSmack fix, and RFC 5722 §4 asks for IPv6): overlapping fragments only serve to
//   make two receivers (a firewall and a host) see different datagrams. An exact copy of a
//   fragment held (same offset, same bytes) is a duplicate: dropped, the datagram kept.
// - Tiny fragments (RFC 1858 §3.2, RFC 3128 §4): a TCP fragment at offset 8 bytes (FO=1) is
//   dropped (the whole datagram with it if it overlaps what is held), and so is a first TCP
//   fragment with more to come that holds fewer than 16 octets of TCP header (tmin: the flags are
//   in octet 13, and a fragment that is not the last carries a multiple of 8 octets). Either could
//   hide the flags from a packet filter.
// - A fragment with more to come whose payload is empty or not a multiple of 8 octets
//   (RFC 791 §3.2: "fragments except the last must be a multiple of 8 octets"), as FreeBSD.
// - A datagram that would exceed 65535 octets (the "ping of death"), or whose fragments
//   disagree about where it ends: dropped whole.
// - Beyond the limits (bytes held in all partial datagrams, like Linux's 4 MiB
//   ipfrag_high_thresh; partial datagrams at once; fragments per datagram, like FreeBSD's
//   maxfragsperpacket), new fragments are dropped; what is held stays until it completes or
//   times out (30 s, Linux's ipfrag_time; RFC 1122 §3.3.2 suggests 60 to 120 s).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

#include "base/buffer_budget.hpp"
#include "synack/time.hpp"
#include "wire/ipv4.hpp"

namespace synack::ip {

struct ReassemblyLimits {
  Duration timeout = seconds(30);                // Linux ipfrag_time
  std::size_t max_bytes = std::size_t{4} << 20;  // Linux ipfrag_high_thresh
  std::size_t max_datagrams = 1024;              // partial datagrams held at once
  // 65535 octets over a 576-octet MTU take 121 fragments.
  std::size_t max_fragments = 128;  // per datagram
};

// What the cost of holding a fragment is counted as: its payload plus this much for the
// header and bookkeeping, so that a flood of 8-octet fragments is not nearly free.
inline constexpr std::size_t kFragmentOverhead = 64;

enum class FragmentOutcome : std::uint8_t {
  held,       // kept; the datagram is not complete yet
  complete,   // the datagram is whole: datagram() has it
  duplicate,  // an exact copy of a fragment held: dropped, the datagram kept
  // The fragment is dropped; a datagram it belongs to is kept.
  bad_length,          // more to come, but the payload is empty or not a multiple of 8
  tiny_tcp_offset,     // RFC 1858 §3.2: TCP at fragment offset 1 (8 octets)
  tiny_tcp_first,      // RFC 1858 §3.2: first TCP fragment shorter than 16 octets
  no_memory,           // over max_bytes, or the owner's buffer budget
  too_many_datagrams,  // max_datagrams partial datagrams held already
  too_many_fragments,  // max_fragments held for this datagram already
  // The fragment and the whole datagram are dropped.
  overlap,       // overlaps a fragment held
  inconsistent,  // past the end the last fragment gave, or a second, different end
  oversize,      // the datagram would exceed 65535 octets
};

// The reason a drop is traced with.
std::string_view to_string(FragmentOutcome outcome);
// Whether the outcome dropped a datagram held before (or being started) along with it.
constexpr bool drops_datagram(FragmentOutcome o) {
  return o == FragmentOutcome::overlap || o == FragmentOutcome::inconsistent ||
         o == FragmentOutcome::oversize;
}

class Reassembler {
 public:
  explicit Reassembler(ReassemblyLimits limits = {}, BufferBudget* budget = nullptr);
  ~Reassembler();
  Reassembler(const Reassembler&) = delete;
  Reassembler& operator=(const Reassembler&) = delete;

  // `fragment` is a parsed IPv4 packet with MF set or a fragment offset; its options, if
  // any, already checked by the caller.
  FragmentOutcome add(const wire::Ipv4View& fragment, Instant now);

  // After add() answered complete: the reassembled datagram, the first fragment's header
  // (options included, RFC 791 §3.2) with MF and the offset cleared, the total length and
  // checksum set. Valid until the next add() or expire().
  wire::Bytes datagram() const { return out_; }
  // Fragments the last completed datagram was made of.
  std::size_t fragments_joined() const { return fragments_joined_; }

  // When expire() is next due; nullopt when nothing is held.
  std::optional<Instant> next_deadline() const;
  // Frees every partial datagram whose time is up and calls on_expired(quote) for each:
  // `quote` is its first fragment (header and as much payload as fits an ICMP error,
  // RFC 792), or empty if the first fragment never came (RFC 1122 §3.3.2: Time Exceeded is
  // sent only then). Returns how many were freed.
  template <class F>
  std::size_t expire(Instant now, F&& on_expired) {
    std::size_t n = 0;
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
      const Key key = deadlines_.begin()->second;
      on_expired(first_fragment_of(key));
      remove(partials_.find(key));
      ++n;
    }
    return n;
  }

  std::size_t bytes_held() const { return bytes_held_; }
  std::size_t datagrams_held() const { return partials_.size(); }

 private:
  struct Key {
    wire::Ipv4Address src;
    wire::Ipv4Address dst;
    std::uint16_t id = 0;
    std::uint8_t protocol = 0;
    auto operator<=>(const Key&) const = default;
  };
  struct Piece {
    std::uint32_t start = 0;  // payload offsets, in octets
    std::uint32_t end = 0;
    std::vector<std::uint8_t> data;
  };
  struct Partial {
    std::vector<Piece> pieces;  // sorted by start, never overlapping
    std::vector<std::uint8_t> first_header;
    std::optional<std::uint32_t> end;  // the payload's length, once the last fragment came
    std::uint32_t received = 0;        // payload octets held
    std::size_t charged = 0;           // what bytes_held_ counts for it
    Instant expires{};
  };
  using Partials = std::map<Key, Partial>;

  void remove(Partials::iterator it);
  void charge(std::size_t before, std::size_t after);
  void assemble(const Partial& p);
  wire::Bytes first_fragment_of(const Key& key);

  ReassemblyLimits limits_;
  BufferBudget* budget_;
  Partials partials_;
  std::set<std::pair<Instant, Key>> deadlines_;
  std::size_t bytes_held_ = 0;
  std::vector<std::uint8_t> out_;
  std::size_t fragments_joined_ = 0;
};

}  // namespace synack::ip
