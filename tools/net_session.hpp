// What every real-network subcommand (serve, connect, get) shares: the options that pick
// the device, the address, the namespace, a capture and injected faults, and a session that
// opens them, in DESIGN.md's order: capture(fault(medium)), driven by a Runtime. The medium
// is a TUN device, or with --shm a shared-memory region another synack process shares.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include "link/capture.hpp"
#include "link/fault_link.hpp"
#include "link/pcap_capture.hpp"
#include "link/shm/shm_link.hpp"
#include "link/tun/tun_link.hpp"
#include "runtime/runtime.hpp"
#include "trace/json_lines.hpp"
#include "trace/recording.hpp"
#include "trace/tee.hpp"

namespace synack::tools {

struct NetOptions {
  std::string tun = "synack0";
  // --shm: the region's name. `serve` creates it (shm_creates), `connect` and `get` attach.
  std::string shm;
  bool shm_creates = false;
  std::string ip;       // empty: 198.18.0.2, or 198.18.0.1 for an attacher of --shm
  std::string host_ip;  // configure the kernel side (for a device not made by netns up)
  std::string netns;
  std::string pcap;
  std::string json;      // JSON lines of every trace event to this file
  std::string counters;  // the stack's counters (`netstat -s` style) to this file at the end
  bool ladder = false;   // the text ladder of the run on standard error at the end
  std::size_t mtu = 0;
  // Faults on synack's side of the device, both directions (a stand-in for tc netem).
  double loss = 0, reorder = 0, duplicate = 0, corrupt = 0;
  double delay_ms = 0, jitter_ms = 0;
  std::uint64_t seed = 1;
  bool verbose = false;
  bool batching = false;  // send through io_uring (link::TunConfig::batching)
};

void add_net_options(CLI::App& app, NetOptions& options);

class NetSession {
 public:
  // Enters the namespace (the calling thread, before any other thread starts), opens the
  // device (or the shared-memory region) and starts the runtime. nullptr with `error` set when
  // something fails.
  static std::unique_ptr<NetSession> open(const NetOptions& options, std::string& error);
  // Stops the runtime (closing what is open, cleanly), finishes the capture and the JSON
  // log, and prints the ladder (--ladder) on standard error.
  ~NetSession();

  runtime::Runtime& rt() { return *runtime_; }
  Ipv4Address address() const { return address_; }
  // What synack runs on, for messages: "synack0 in demo, io_uring (...)", "shm region demo".
  std::string medium() const { return medium_; }
  // A line of link and TCP statistics, for --verbose.
  std::string summary();

 private:
  NetSession() = default;

  // Opens the TUN device or the shared-memory region as `medium_link_`.
  bool open_medium(const NetOptions& options, const std::optional<link::InterfaceAddress>& host,
                   std::string& error);

  Ipv4Address address_;
  std::string medium_;
  std::string counters_path_;
  std::unique_ptr<link::TunLink> tun_;  // one of these two
  std::unique_ptr<link::shm::ShmLink> shm_;
  std::unique_ptr<link::FaultLink> fault_;
  std::ofstream pcap_file_;
  std::unique_ptr<link::PcapCapture> pcap_;
  std::unique_ptr<link::CaptureLink> capture_;
  // Trace sinks (--json, --ladder). The stack emits events under the runtime's mutex (on
  // the driver thread or inline in an application's call), so the sinks need no lock of
  // their own; they are read only after the runtime has stopped.
  std::ofstream json_file_;
  std::unique_ptr<trace::JsonLines> json_;
  std::unique_ptr<trace::Recording> recording_;
  trace::Tee tee_;
  std::unique_ptr<runtime::Runtime> runtime_;
};

// "20M" -> 20971520 (K, M, G are powers of 1024); nullopt if malformed.
std::optional<std::uint64_t> parse_size(const std::string& text);

// Blocks SIGINT and SIGTERM in the calling thread (and the threads it starts), and SIGPIPE.
void block_stop_signals();
// Waits for SIGINT or SIGTERM on a thread of its own, then calls `on_stop` once.
void on_stop_signal(std::function<void()> on_stop);

}  // namespace synack::tools
