#include "ip/reassembly.hpp"

#include <algorithm>
#include <cstring>

#include "wire/checksum.hpp"
#include "wire/icmp.hpp"

namespace synack::ip {
namespace {

constexpr std::uint32_t kMaxDatagram = 65535;
// RFC 1858 §3.2: the smallest first TCP fragment that holds the flags (octet 13), rounded up
// to the 8-octet unit every fragment but the last is made of.
constexpr std::size_t kTcpMinFirstFragment = 16;

}  // namespace

std::string_view to_string(FragmentOutcome outcome) {
  switch (outcome) {
    case FragmentOutcome::held:
      return "fragment held";
    case FragmentOutcome::complete:
      return "fragment completes the datagram";
    case FragmentOutcome::duplicate:
      return "duplicate fragment";
    case FragmentOutcome::bad_length:
      return "fragment length not a multiple of 8";
    case FragmentOutcome::tiny_tcp_offset:
      return "tiny fragment: TCP at offset 8 (RFC 1858)";
    case FragmentOutcome::tiny_tcp_first:
      return "tiny fragment: first TCP fragment under 16 bytes (RFC 1858)";
    case FragmentOutcome::no_memory:
      return "reassembly memory full";
    case FragmentOutcome::too_many_datagrams:
      return "too many datagrams in reassembly";
    case FragmentOutcome::too_many_fragments:
      return "too many fragments in one datagram";
    case FragmentOutcome::overlap:
      return "overlapping fragment";
    case FragmentOutcome::inconsistent:
      return "fragment past the datagram's end";
    case FragmentOutcome::oversize:
      return "reassembled datagram over 65535 bytes";
  }
  return "fragment";
}

Reassembler::Reassembler(ReassemblyLimits limits, BufferBudget* budget)
    : limits_(limits), budget_(budget) {}

Reassembler::~Reassembler() {
  charge(bytes_held_, 0);
}

void Reassembler::charge(std::size_t before, std::size_t after) {
  bytes_held_ = bytes_held_ - before + after;
  if (budget_) budget_->update(before, after);
}

void Reassembler::remove(Partials::iterator it) {
  if (it == partials_.end()) return;
  charge(it->second.charged, 0);
  deadlines_.erase({it->second.expires, it->first});
  partials_.erase(it);
}

std::optional<Instant> Reassembler::next_deadline() const {
  if (deadlines_.empty()) return std::nullopt;
  return deadlines_.begin()->first;
}

wire::Bytes Reassembler::first_fragment_of(const Key& key) {
  out_.clear();
  const auto it = partials_.find(key);
  if (it == partials_.end() || it->second.first_header.empty()) return {};
  const Partial& p = it->second;
  const Piece& first = p.pieces.front();  // start 0: the first header came with it
  out_ = p.first_header;
  const std::size_t room =
      wire::kIcmpMaxErrorQuote - std::min(out_.size(), wire::kIcmpMaxErrorQuote);
  out_.insert(out_.end(), first.data.begin(),
              first.data.begin() + static_cast<std::ptrdiff_t>(std::min(room, first.data.size())));
  return out_;
}

FragmentOutcome Reassembler::add(const wire::Ipv4View& fragment, Instant now) {
  const wire::Bytes data = fragment.payload();
  const std::uint32_t start = fragment.fragment_offset();
  const auto end = static_cast<std::uint32_t>(start + data.size());
  const bool more = fragment.more_fragments();
  const Key key{fragment.src(), fragment.dst(), fragment.identification(), fragment.protocol()};

  // Checks on the fragment alone.
  if (more && (data.empty() || data.size() % 8 != 0)) return FragmentOutcome::bad_length;
  if (key.protocol == wire::kTcp && start == 0 && more && data.size() < kTcpMinFirstFragment) {
    return FragmentOutcome::tiny_tcp_first;
  }
  auto it = partials_.find(key);
  // With the shortest header the datagram would still be too long: the ping of death. (The
  // first fragment's own header length is checked when the datagram is complete.)
  if (end + wire::Ipv4View::kMinHeaderLength > kMaxDatagram) {
    remove(it);
    return FragmentOutcome::oversize;
  }

  const std::size_t cost =
      data.size() + kFragmentOverhead + (start == 0 ? fragment.header_length() : 0);
  const bool over_memory =
      bytes_held_ + cost > limits_.max_bytes || (budget_ && !budget_->admits(cost));
  // RFC 1858 §3.2: TCP at offset 8 could only rewrite a first fragment's flags. Checked
  // after the overlap below when a datagram is held: rewriting what is held drops it all.
  const bool tiny_offset = key.protocol == wire::kTcp && start == 8;
  if (it == partials_.end()) {
    if (tiny_offset) return FragmentOutcome::tiny_tcp_offset;
    if (partials_.size() >= limits_.max_datagrams) return FragmentOutcome::too_many_datagrams;
    if (over_memory) return FragmentOutcome::no_memory;
    it = partials_.emplace(key, Partial{}).first;
    it->second.expires = now + limits_.timeout;
    deadlines_.insert({it->second.expires, key});
  }
  Partial& p = it->second;

  // Where it ends must agree with the last fragment, and the last with what is held.
  const std::uint32_t held_end = p.pieces.empty() ? 0 : p.pieces.back().end;
  if ((p.end && (more ? end > *p.end : end != *p.end)) || (!more && end < held_end)) {
    remove(it);
    return FragmentOutcome::inconsistent;
  }

  // The first piece that ends after this one starts is the only one it could overlap first.
  auto at = std::upper_bound(p.pieces.begin(), p.pieces.end(), start,
                             [](std::uint32_t s, const Piece& piece) { return s < piece.end; });
  if (at != p.pieces.end() && at->start < end) {
    if (at->start == start && at->end == end &&
        std::equal(data.begin(), data.end(), at->data.begin())) {
      return FragmentOutcome::duplicate;
    }
    remove(it);
    return FragmentOutcome::overlap;
  }
  if (tiny_offset) return FragmentOutcome::tiny_tcp_offset;
  if (data.empty() && p.end) {
    // An empty last fragment again, at the end already known: nothing new.
    return FragmentOutcome::duplicate;
  }
  if (p.pieces.size() >= limits_.max_fragments) return FragmentOutcome::too_many_fragments;
  if (over_memory) return FragmentOutcome::no_memory;

  if (start == 0) {
    const wire::Bytes header = fragment.header();
    p.first_header.assign(header.begin(), header.end());
  }
  if (!more) p.end = end;
  p.pieces.insert(at, Piece{start, end, std::vector<std::uint8_t>(data.begin(), data.end())});
  p.received += static_cast<std::uint32_t>(data.size());
  charge(p.charged, p.charged + cost);
  p.charged += cost;

  // Pieces never overlap and all lie within [0, end): as many octets as the end means every
  // octet is there, the first fragment with its header included.
  if (!p.end || p.received != *p.end || p.first_header.empty()) return FragmentOutcome::held;
  if (p.first_header.size() + *p.end > kMaxDatagram) {
    remove(it);
    return FragmentOutcome::oversize;
  }
  assemble(p);
  remove(it);
  return FragmentOutcome::complete;
}

void Reassembler::assemble(const Partial& p) {
  out_ = p.first_header;
  for (const Piece& piece : p.pieces) out_.insert(out_.end(), piece.data.begin(), piece.data.end());
  fragments_joined_ = p.pieces.size();
  std::uint8_t* h = out_.data();
  wire::store_be16(h + 2, static_cast<std::uint16_t>(out_.size()));
  // MF and the offset cleared; DF as the first fragment had it.
  wire::store_be16(h + 6, static_cast<std::uint16_t>(wire::load_be16(h + 6) & 0x4000));
  wire::store_be16(h + 10, 0);
  wire::store_be16(h + 10, wire::internet_checksum(wire::Bytes(h, p.first_header.size())));
}

}  // namespace synack::ip
