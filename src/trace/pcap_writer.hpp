// A pcap capture file (the classic libpcap format that Wireshark and tcpdump read) of one
// host's packets, in and out, timestamped in the stack's time (virtual time on the
// simulator). The link type is LINKTYPE_RAW (101): each record is a bare IPv4 packet.
//
//   std::ofstream file("client.pcap", std::ios::binary);
//   trace::PcapSink pcap(file, client_address);
//   stack.set_trace(&pcap);
//
// Plain standard C++ I/O; fields are written little-endian whatever the machine.
#pragma once

#include <cstdint>
#include <ostream>

#include "trace/trace.hpp"

namespace synack::trace {

enum class PcapResolution : std::uint8_t { microseconds, nanoseconds };

inline constexpr std::uint32_t kLinktypeRaw = 101;

// Writes the file header on construction, then one record per packet.
class PcapWriter {
 public:
  explicit PcapWriter(std::ostream& out, PcapResolution resolution = PcapResolution::nanoseconds,
                      std::uint32_t snaplen = 65535);
  void write(Instant at, wire::Bytes packet);
  std::uint64_t records() const { return records_; }

 private:
  std::ostream& out_;
  PcapResolution resolution_;
  std::uint32_t snaplen_;
  std::uint64_t records_ = 0;
};

// The packets one host sent and received, as a capture on its interface would show them:
// everything the link delivered (even what the IP layer then refused) and everything sent
// (even what the network then lost).
class PcapSink final : public Sink {
 public:
  PcapSink(std::ostream& out, Ipv4Address host,
           PcapResolution resolution = PcapResolution::nanoseconds)
      : writer_(out, resolution), host_(host) {}

  void on_packet(Instant at, Ipv4Address host, Direction, wire::Bytes packet,
                 std::string_view) override;
  void on_drop(Instant at, Ipv4Address host, wire::Bytes packet, std::string_view layer,
               std::string_view reason) override;

  std::uint64_t records() const { return writer_.records(); }

 private:
  PcapWriter writer_;
  Ipv4Address host_;
};

}  // namespace synack::trace
