#include "link/pcap_capture.hpp"

#include <algorithm>

namespace synack::link {
namespace {

constexpr std::uint32_t kMagicNanoseconds = 0xa1b23c4d;
constexpr std::uint32_t kSnaplen = 65535;

// pcap fields are in the writer's byte order; we always write little-endian.
void put32(std::ostream& out, std::uint32_t v) {
  const char b[4] = {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 24)};
  out.write(b, 4);
}
void put16(std::ostream& out, std::uint16_t v) {
  const char b[2] = {static_cast<char>(v), static_cast<char>(v >> 8)};
  out.write(b, 2);
}

}  // namespace

PcapCapture::PcapCapture(std::ostream& out, std::int64_t epoch_ns)
    : out_(out), epoch_ns_(epoch_ns) {
  put32(out_, kMagicNanoseconds);
  put16(out_, 2);  // version 2.4
  put16(out_, 4);
  put32(out_, 0);  // thiszone
  put32(out_, 0);  // sigfigs
  put32(out_, kSnaplen);
  put32(out_, kLinktypeRaw);
}

void PcapCapture::on_capture(Direction /*dir*/, wire::Bytes frame, Instant at) {
  const std::int64_t ns = std::max<std::int64_t>(0, epoch_ns_ + to_nanos(at));
  const auto captured = static_cast<std::uint32_t>(std::min<std::size_t>(frame.size(), kSnaplen));
  put32(out_, static_cast<std::uint32_t>(ns / 1'000'000'000));
  put32(out_, static_cast<std::uint32_t>(ns % 1'000'000'000));
  put32(out_, captured);
  put32(out_, static_cast<std::uint32_t>(frame.size()));
  out_.write(reinterpret_cast<const char*>(frame.data()), captured);
  ++records_;
}

}  // namespace synack::link
