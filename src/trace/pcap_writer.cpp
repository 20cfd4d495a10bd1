#include "trace/pcap_writer.hpp"

#include <algorithm>
#include <array>

namespace synack::trace {
namespace {

void put32(std::ostream& out, std::uint32_t v) {
  const std::array<char, 4> b{static_cast<char>(v & 0xff), static_cast<char>((v >> 8) & 0xff),
                              static_cast<char>((v >> 16) & 0xff),
                              static_cast<char>((v >> 24) & 0xff)};
  out.write(b.data(), b.size());
}

void put16(std::ostream& out, std::uint16_t v) {
  const std::array<char, 2> b{static_cast<char>(v & 0xff), static_cast<char>((v >> 8) & 0xff)};
  out.write(b.data(), b.size());
}

}  // namespace

PcapWriter::PcapWriter(std::ostream& out, PcapResolution resolution, std::uint32_t snaplen)
    : out_(out), resolution_(resolution), snaplen_(snaplen) {
  // The magic number tells readers the byte order and the timestamp resolution.
  put32(out_, resolution_ == PcapResolution::nanoseconds ? 0xa1b23c4du : 0xa1b2c3d4u);
  put16(out_, 2);  // version 2.4
  put16(out_, 4);
  put32(out_, 0);  // thiszone: timestamps are UTC (here: time since the run began)
  put32(out_, 0);  // sigfigs
  put32(out_, snaplen_);
  put32(out_, kLinktypeRaw);
}

void PcapWriter::write(Instant at, wire::Bytes packet) {
  const std::int64_t ns = std::max<std::int64_t>(0, to_nanos(at));
  const auto seconds = static_cast<std::uint32_t>(ns / 1'000'000'000);
  const auto fraction = static_cast<std::uint32_t>(resolution_ == PcapResolution::nanoseconds
                                                       ? ns % 1'000'000'000
                                                       : (ns % 1'000'000'000) / 1000);
  const auto length = static_cast<std::uint32_t>(packet.size());
  const std::uint32_t captured = std::min(length, snaplen_);
  put32(out_, seconds);
  put32(out_, fraction);
  put32(out_, captured);
  put32(out_, length);
  out_.write(reinterpret_cast<const char*>(packet.data()), static_cast<std::streamsize>(captured));
  ++records_;
}

void PcapSink::on_packet(Instant at, Ipv4Address host, Direction, wire::Bytes packet,
                         std::string_view) {
  if (host == host_) writer_.write(at, packet);
}

void PcapSink::on_drop(Instant at, Ipv4Address host, wire::Bytes packet, std::string_view layer,
                       std::string_view) {
  // The IP layer drops a packet before reporting it arrived: a capture would still show it.
  // Later layers drop what was already reported, and the link's drops were never received.
  if (host == host_ && layer == "ip") writer_.write(at, packet);
}

}  // namespace synack::trace
