#include "tcp/scoreboard.hpp"

#include <algorithm>

namespace synack::tcp {

bool Scoreboard::on_sack(std::span<const wire::SackBlock> blocks, Seq snd_una, Seq snd_max) {
  bool changed = false;
  for (const wire::SackBlock& b : blocks) {
    Seq left(b.left), right(b.right);
    if (!before(left, right)) continue;
    if (before_eq(right, snd_una) || after(right, snd_max)) continue;  // D-SACK or bogus
    left = latest(left, snd_una);
    // Merge into the sorted list.
    std::size_t first = 0;
    while (first < count_ && before((*ranges_)[first].right, left)) ++first;
    std::size_t last = first;
    Seq l = left, r = right;
    while (last < count_ && before_eq((*ranges_)[last].left, r)) {
      if (before_eq((*ranges_)[last].left, left) && before_eq(right, (*ranges_)[last].right)) break;
      l = earliest(l, (*ranges_)[last].left);
      r = latest(r, (*ranges_)[last].right);
      ++last;
    }
    if (last < count_ && before_eq((*ranges_)[last].left, left) &&
        before_eq(right, (*ranges_)[last].right)) {
      continue;  // already known
    }
    const std::size_t merged = last - first;
    if (merged == 0) {
      if (count_ == kMaxRanges) continue;  // keep what we have; the ACK stream repeats
      if (!ranges_) ranges_ = std::make_unique<std::array<Range, kMaxRanges>>();
      std::move_backward(ranges_->begin() + static_cast<std::ptrdiff_t>(first),
                         ranges_->begin() + static_cast<std::ptrdiff_t>(count_),
                         ranges_->begin() + static_cast<std::ptrdiff_t>(count_ + 1));
      ++count_;
    } else if (merged > 1) {
      std::move(ranges_->begin() + static_cast<std::ptrdiff_t>(last),
                ranges_->begin() + static_cast<std::ptrdiff_t>(count_),
                ranges_->begin() + static_cast<std::ptrdiff_t>(first + 1));
      count_ -= static_cast<std::uint32_t>(merged - 1);
    }
    (*ranges_)[first] = {l, r};
    changed = true;
  }
  return changed;
}

void Scoreboard::on_cumulative_ack(Seq snd_una) {
  if (count_ == 0) return;
  std::size_t gone = 0;
  while (gone < count_ && before_eq((*ranges_)[gone].right, snd_una)) ++gone;
  std::move(ranges_->begin() + static_cast<std::ptrdiff_t>(gone),
            ranges_->begin() + static_cast<std::ptrdiff_t>(count_), ranges_->begin());
  count_ -= static_cast<std::uint32_t>(gone);
  if (count_ == 0) {
    ranges_.reset();
    return;
  }
  if (before((*ranges_)[0].left, snd_una)) (*ranges_)[0].left = snd_una;
}

std::optional<Seq> Scoreboard::sacked_end(Seq seq) const {
  for (std::size_t i = 0; i < count_; ++i) {
    const auto len = static_cast<std::uint32_t>((*ranges_)[i].right - (*ranges_)[i].left);
    if (in_window(seq, (*ranges_)[i].left, len)) return (*ranges_)[i].right;
  }
  return std::nullopt;
}

bool Scoreboard::is_sacked(Seq seq) const {
  return sacked_end(seq).has_value();
}

Seq Scoreboard::high_sacked(Seq snd_una) const {
  return count_ == 0 ? snd_una : (*ranges_)[count_ - 1].right;
}

std::uint32_t Scoreboard::sacked_bytes() const {
  std::uint32_t n = 0;
  for (std::size_t i = 0; i < count_; ++i) {
    n += static_cast<std::uint32_t>((*ranges_)[i].right - (*ranges_)[i].left);
  }
  return n;
}

Seq Scoreboard::lost_boundary(Seq snd_una, std::uint32_t smss) const {
  // Walk down from the top. An unSACKed octet just below range k has the ranges k.. above
  // it: it is lost once they are DupThresh ranges or more than (DupThresh-1)*SMSS octets,
  // and so is every unSACKed octet below it.
  std::uint32_t bytes = 0;
  for (std::size_t k = count_; k-- > 0;) {
    const auto len = static_cast<std::uint32_t>((*ranges_)[k].right - (*ranges_)[k].left);
    const std::size_t ranges_above = count_ - k;
    if (ranges_above >= dupthresh_) return (*ranges_)[k].left;
    if (bytes + len > (dupthresh_ - 1) * smss) return (*ranges_)[k].left;
    bytes += len;
  }
  return snd_una;  // nothing is lost yet
}

std::uint32_t Scoreboard::unsacked_between(Seq from, Seq to) const {
  if (!before(from, to)) return 0;
  auto total = static_cast<std::uint32_t>(to - from);
  for (std::size_t i = 0; i < count_; ++i) {
    const Seq l = latest((*ranges_)[i].left, from);
    const Seq r = earliest((*ranges_)[i].right, to);
    if (before(l, r)) total -= static_cast<std::uint32_t>(r - l);
  }
  return total;
}

std::uint32_t Scoreboard::pipe(Seq snd_una, Seq snd_max, Seq high_rxt, std::uint32_t smss) const {
  const Seq lost = lost_boundary(snd_una, smss);
  // Not lost: from the boundary up. Retransmitted: from SND.UNA up to HighRxt.
  return unsacked_between(latest(lost, snd_una), snd_max) +
         unsacked_between(snd_una, earliest(high_rxt, snd_max));
}

std::optional<Scoreboard::Hole> Scoreboard::next_lost(Seq from, Seq snd_una, std::uint32_t smss,
                                                      std::uint32_t max_len) const {
  const Seq lost = lost_boundary(snd_una, smss);
  Seq s = latest(from, snd_una);
  for (std::size_t i = 0; i <= count_ && before(s, lost); ++i) {
    // Skip a SACKed range covering s.
    std::size_t k = 0;
    while (k < count_ && before_eq((*ranges_)[k].right, s)) ++k;
    if (k < count_ && before_eq((*ranges_)[k].left, s)) {
      s = (*ranges_)[k].right;
      continue;
    }
    // s is in a hole that ends at the next range's left edge (or the lost boundary).
    Seq end = k < count_ ? earliest((*ranges_)[k].left, lost) : lost;
    if (!before(s, end)) return std::nullopt;
    const auto len = std::min(static_cast<std::uint32_t>(end - s), max_len);
    return Hole{s, len};
  }
  return std::nullopt;
}

}  // namespace synack::tcp
