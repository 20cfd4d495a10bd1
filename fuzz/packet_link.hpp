// A Link whose other end is the fuzz target, and a manual clock: frames the target queues
// are received by the stack; frames the stack sends must be well formed (IPv4 header,
// TCP/UDP/ICMP parsing, both checksums right) and are kept for the target to read.
#pragma once

#include <deque>
#include <optional>
#include <vector>

#include "fuzz_check.hpp"
#include "link/link.hpp"
#include "synack/time.hpp"
#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"
#include "wire/udp.hpp"

namespace synack::fuzz {

// What the stack sends must parse, with its checksums right: a malformed packet of ours
// is a bug even when the input was garbage.
inline void check_sent(wire::Bytes frame) {
  auto ip = wire::Ipv4View::parse(frame);
  FUZZ_CHECK(ip.has_value());
  FUZZ_CHECK(ip->packet().size() == frame.size());
  switch (ip->protocol()) {
    case wire::kTcp:
      FUZZ_CHECK(wire::TcpView::parse(ip->payload()).has_value());
      FUZZ_CHECK(wire::tcp_checksum_ok(ip->src().to_u32(), ip->dst().to_u32(), ip->payload()));
      break;
    case wire::kUdp: {
      auto udp = wire::UdpView::parse(ip->payload());
      FUZZ_CHECK(udp && udp->checksum() != 0 && wire::udp_checksum_ok(*udp, ip->src(), ip->dst()));
      break;
    }
    case wire::kIcmp:
      FUZZ_CHECK(wire::IcmpView::parse(ip->payload()).has_value());
      break;
    default:
      FUZZ_CHECK(false && "the stack sent an unknown protocol");
  }
}

class PacketLink final : public link::Link {
 public:
  void send(wire::Bytes frame, Instant) override {
    check_sent(frame);
    if (outgoing_.size() < kKeep) outgoing_.emplace_back(frame.begin(), frame.end());
  }
  std::size_t receive(Instant now, link::FrameSink& sink, std::size_t budget) override {
    std::size_t n = 0;
    while (n < budget && !incoming_.empty()) {
      const auto frame = std::move(incoming_.front());
      incoming_.pop_front();
      sink.on_frame(frame, now);
      ++n;
    }
    return n;
  }
  std::size_t mtu() const override { return 1500; }

  void push(std::vector<std::uint8_t> frame) { incoming_.push_back(std::move(frame)); }
  std::optional<std::vector<std::uint8_t>> pop() {
    if (outgoing_.empty()) return std::nullopt;
    auto f = std::move(outgoing_.front());
    outgoing_.pop_front();
    return f;
  }
  void clear() { outgoing_.clear(); }

 private:
  static constexpr std::size_t kKeep = 256;  // bounded: the target reads only the first few
  std::deque<std::vector<std::uint8_t>> incoming_;
  std::deque<std::vector<std::uint8_t>> outgoing_;
};

// Fills in the IPv4 header checksum, and the transport checksum when the protocol is TCP,
// UDP or ICMP and its header is there: so that fuzzed packets get past the checksums.
inline void fix_checksums(std::vector<std::uint8_t>& p) {
  if (p.size() < 20) return;
  const std::size_t ihl = std::size_t{static_cast<std::uint8_t>(p[0] & 0x0f)} * 4;
  if (ihl < 20 || ihl > p.size() || p.size() > 0xffff) return;
  wire::store_be16(&p[2], static_cast<std::uint16_t>(p.size()));
  wire::store_be16(&p[10], 0);
  wire::store_be16(&p[10], wire::internet_checksum(wire::Bytes(p.data(), ihl)));
  const wire::MutableBytes payload(p.data() + ihl, p.size() - ihl);
  const std::uint32_t src = wire::load_be32(&p[12]);
  const std::uint32_t dst = wire::load_be32(&p[16]);
  std::size_t at = 0;
  switch (p[9]) {
    case wire::kTcp:
      at = 16;
      break;
    case wire::kUdp:
      at = 6;
      break;
    case wire::kIcmp:
      at = 2;
      break;
    default:
      return;
  }
  if (payload.size() < at + 2) return;
  wire::store_be16(&payload[at], 0);
  const std::uint16_t sum = p[9] == wire::kIcmp ? wire::internet_checksum(payload)
                                                : wire::transport_checksum(src, dst, p[9], payload);
  wire::store_be16(&payload[at], p[9] == wire::kUdp && sum == 0 ? 0xffff : sum);
}

}  // namespace synack::fuzz
