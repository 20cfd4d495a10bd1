// The sender's SACK scoreboard (RFC 6675 §3): which octets above SND.UNA the receiver says it
// holds, and from that which are lost, how much is in flight ("pipe"), and what to send next.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "tcp/seq.hpp"
#include "wire/tcp_options.hpp"

namespace synack::tcp {

class Scoreboard {
 public:
  static constexpr std::size_t kMaxRanges = 32;
  static constexpr std::uint32_t kDupThresh = 3;  // RFC 6675 DupThresh, to start with

  struct Range {
    Seq left, right;  // [left, right) SACKed
  };

  // Records the SACK blocks of an arriving ACK. Blocks outside (snd_una, snd_max] are
  // ignored (RFC 6675 §4: and RFC 2883 D-SACK blocks below SND.UNA). Returns true if any new
  // octet became SACKed.
  bool on_sack(std::span<const wire::SackBlock> blocks, Seq snd_una, Seq snd_max);
  // Forgets what the cumulative ACK covers.
  void on_cumulative_ack(Seq snd_una);
  void clear() {
    count_ = 0;
    ranges_.reset();
  }
  // A larger DupThresh tolerates more reordering (raised when a retransmission proves
  // spurious, as RFC 6675 §8 and Linux do).
  void set_dupthresh(std::uint32_t n) { dupthresh_ = n; }
  std::uint32_t dupthresh() const { return dupthresh_; }

  bool empty() const { return count_ == 0; }
  std::span<const Range> ranges() const { return {ranges_ ? ranges_->data() : nullptr, count_}; }
  bool is_sacked(Seq seq) const;
  // If `seq` is SACKed, the end of its range.
  std::optional<Seq> sacked_end(Seq seq) const;
  // The highest SACKed octet + 1 (RFC 6675 HighSACK + 1); snd_una when nothing is SACKed.
  Seq high_sacked(Seq snd_una) const;
  std::uint32_t sacked_bytes() const;

  // RFC 6675 IsLost(SeqNum): an octet is lost when DupThresh discontiguous SACKed ranges lie
  // above it, or more than (DupThresh - 1) * SMSS SACKed octets. Everything below the
  // returned boundary that is not SACKed is lost.
  Seq lost_boundary(Seq snd_una, std::uint32_t smss) const;

  // RFC 6675 SetPipe(), in octets: octets sent and not SACKed that are not lost count once,
  // and octets retransmitted (below high_rxt) count once more.
  std::uint32_t pipe(Seq snd_una, Seq snd_max, Seq high_rxt, std::uint32_t smss) const;

  // RFC 6675 NextSeg() rule 1: the first octet at or after `from` that is lost and not
  // SACKed, with the length of its hole (up to `max_len`). nullopt when there is none.
  struct Hole {
    Seq start;
    std::uint32_t length;
  };
  std::optional<Hole> next_lost(Seq from, Seq snd_una, std::uint32_t smss,
                                std::uint32_t max_len) const;

  // Unsacked octets in [from, to).
  std::uint32_t unsacked_between(Seq from, Seq to) const;

 private:
  // Sorted, disjoint, not adjacent. Held only while there is something in it: most
  // connections never see a SACK, and an idle one should not carry 256 bytes for them.
  std::unique_ptr<std::array<Range, kMaxRanges>> ranges_;
  std::uint32_t count_ = 0;
  std::uint32_t dupthresh_ = kDupThresh;
};

}  // namespace synack::tcp
