// A CaptureSink that writes what a CaptureLink sees to a pcap file (the classic libpcap
// format Wireshark and tcpdump read): LINKTYPE_RAW (101), each record a bare IPv4 packet,
// nanosecond timestamps. Timestamps are the stack's Instants plus `epoch`, so a capture on
// the real network shows wall-clock time and one on the simulator starts at zero.
//
//   std::ofstream file("synack.pcap", std::ios::binary);
//   link::PcapCapture pcap(file);
//   link::CaptureLink captured(tun, pcap);
#pragma once

#include <cstdint>
#include <ostream>

#include "link/capture.hpp"
#include "trace/pcap_writer.hpp"

namespace synack::link {

class PcapCapture final : public CaptureSink {
 public:
  // Writes the file header. `epoch_ns` is added to every timestamp.
  explicit PcapCapture(std::ostream& out, std::int64_t epoch_ns = 0);

  void on_capture(Direction dir, wire::Bytes frame, Instant at) override;
  std::uint64_t records() const { return writer_.records(); }

 private:
  trace::PcapWriter writer_;  // the file format, shared with the demo's per-host captures
  std::int64_t epoch_ns_;
};

}  // namespace synack::link
