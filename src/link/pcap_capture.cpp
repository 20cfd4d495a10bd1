#include "link/pcap_capture.hpp"

namespace synack::link {

PcapCapture::PcapCapture(std::ostream& out, std::int64_t epoch_ns)
    : writer_(out, trace::PcapResolution::nanoseconds), epoch_ns_(epoch_ns) {}

void PcapCapture::on_capture(Direction /*dir*/, wire::Bytes frame, Instant at) {
  writer_.write(at + nanoseconds(epoch_ns_), frame);
}

}  // namespace synack::link
