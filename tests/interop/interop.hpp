// Support for the interop tests: synack against the Linux kernel's TCP, through a TUN
// device in a network namespace that each test makes for itself and removes afterwards.
// Everything here is bounded in time; processes are ended by their PID.
#pragma once

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "link/capture.hpp"
#include "link/fault_link.hpp"
#include "link/pcap_capture.hpp"
#include "link/tun/netns.hpp"
#include "link/tun/tun_link.hpp"
#include "runtime/runtime.hpp"

namespace synack::interop {

using namespace std::chrono_literals;

inline const Ipv4Address kHostIp(198, 18, 0, 1);   // the kernel's side of synack0
inline const Ipv4Address kStackIp(198, 18, 0, 2);  // synack's

// Why these tests cannot run here (not root, no /dev/net/tun, no ip), or empty.
std::string missing_prerequisite();

#define SYNACK_REQUIRE_NETNS()                                                \
  do {                                                                        \
    if (auto why = ::synack::interop::missing_prerequisite(); !why.empty()) { \
      GTEST_SKIP() << "interop tests need root and TUN: " << why;             \
    }                                                                         \
  } while (0)

// A fresh namespace "synack-t-<pid>-<n>" with synack0 (kernel 198.18.0.1/24), removed by
// the destructor whatever happened.
class TestNetns {
 public:
  TestNetns();
  ~TestNetns();
  TestNetns(const TestNetns&) = delete;
  TestNetns& operator=(const TestNetns&) = delete;
  const std::string& name() const { return name_; }
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

 private:
  std::string name_;
  std::string error_;
};

// A temporary directory, removed with its contents.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// A child process, ended (SIGTERM, then SIGKILL) by its PID when destroyed. Its standard
// input, output and error go to the files given ("" is /dev/null).
class Process {
 public:
  struct Files {
    std::string in, out, err;
  };
  // Runs argv; with `netns` set, as `ip netns exec NETNS argv...` (which execs in place,
  // so the PID is the program's own).
  Process(const std::vector<std::string>& argv, const std::string& netns = "",
          const Files& files = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool started() const { return pid_ > 0; }
  // Waits up to `timeout` for the exit; the exit status (or 128 + signal), nullopt if
  // still running.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  // SIGTERM, a grace period, then SIGKILL; returns the status.
  int terminate(std::chrono::milliseconds grace = 3000ms);

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// Runs a command to completion (killed after `timeout`): its exit status and output.
struct RunResult {
  int status = -1;
  std::string out, err;
};
RunResult run(const std::vector<std::string>& argv, const std::string& netns = "",
              std::chrono::milliseconds timeout = 60000ms, const std::string& stdin_file = "");

// The `synack` tool built beside the tests.
std::string synack_tool();

std::string read_file(const std::filesystem::path& p);
// The "name value" lines `synack serve --counters FILE` writes when it stops.
std::map<std::string, std::uint64_t> read_counters(const std::filesystem::path& file);
void write_file(const std::filesystem::path& p, const std::string& data);
// Polls (every 20 ms) until `path` contains `text` or `timeout` passes.
bool wait_for_text(const std::filesystem::path& path, const std::string& text,
                   std::chrono::milliseconds timeout);
// Polls `done` every 10 ms until it is true or `timeout` passes.
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout);

// Compares a file with `synack serve --http-bytes`'s pattern; "" when equal, else where
// they differ.
std::string check_body_pattern(const std::filesystem::path& file, std::uint64_t size);

// The kernel's TCP states (as `ss -tan` prints them: ESTAB, FIN-WAIT-2, TIME-WAIT...) of
// sockets in the namespace with local or remote port `port`.
std::vector<std::string> kernel_states(const std::string& netns, std::uint16_t port);

// `synack serve --port 8080 --http-bytes 1K` (GET /bytes/N for N bytes) in the namespace,
// for the duration of a test, with `extra` options (faults, --verbose).
class SynackServer {
 public:
  SynackServer(const TestNetns& ns, const TempDir& dir, const std::vector<std::string>& extra = {});
  // Waits for "listening"; false if it never came.
  bool ready();
  std::string log() const { return read_file(log_); }
  // SIGTERM: the server closes its connections and exits 0.
  int stop() { return process_->terminate(5000ms); }

 private:
  std::filesystem::path log_;
  std::unique_ptr<Process> process_;
};

struct Download {
  int status = -1;
  std::string http_code, err;
};
// curl in the namespace fetches http://198.18.0.2:8080{path} into `out`.
Download curl(const TestNetns& ns, const std::string& path, const std::filesystem::path& out,
              std::chrono::milliseconds timeout = 60000ms);

// Drops `percent` of the frames on the kernel's side of synack0, both directions: with tc
// netem (egress) when the kernel has it, else with nftables, which also drops on ingress.
// Returns how, or an error starting with "error:".
std::string add_kernel_loss(const TestNetns& ns, double percent);

// SYNACK_TEST_TUN_BATCHING=1 in the environment: every TUN link the tests open (in process,
// and `synack serve` through --batching) sends through io_uring rather than writev, so that
// the interop tests can be run over both paths.
bool tun_batching();
// {"--batching"} when tun_batching(), else nothing: for a `synack` command line.
std::vector<std::string> tun_io_flags();

// synack inside the test process: a TUN link on the namespace's synack0, driven by a
// Runtime (so the test uses synack's blocking API as an application would). With
// SYNACK_INTEROP_PCAP=DIR in the environment, its packets go to DIR/<test name>.pcap.
// `inbound_delay` (a FaultLink) holds every frame from the kernel that long before synack
// sees it, so that packets can be made to cross deterministically. `offloads` opens the
// device with IFF_VNET_HDR (TunConfig::offloads).
class InProcessStack {
 public:
  explicit InProcessStack(const TestNetns& ns, Duration inbound_delay = Duration{},
                          bool offloads = false);
  runtime::Runtime& rt() { return *runtime_; }
  link::TunLink& tun() { return *tun_; }
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

 private:
  std::string error_;
  std::unique_ptr<link::TunLink> tun_;
  std::unique_ptr<link::FaultLink> fault_;
  std::ofstream pcap_file_;
  std::unique_ptr<link::PcapCapture> pcap_;
  std::unique_ptr<link::CaptureLink> capture_;
  std::unique_ptr<runtime::Runtime> runtime_;
};

// A kernel TCP socket made inside the namespace (it stays there, whatever thread uses it).
int kernel_tcp_socket(const TestNetns& ns);
// A kernel UDP socket in the namespace bound to address:port, or -1 (errno says why).
int kernel_udp_socket(const TestNetns& ns, Ipv4Address address, std::uint16_t port);
// address:port as the sockets API takes it.
sockaddr ipv4_sockaddr(Ipv4Address address, std::uint16_t port);
// Connects a kernel socket to synack (blocking, bounded by a 5 s send timeout).
int kernel_connect(const TestNetns& ns, Ipv4Address address, std::uint16_t port);

}  // namespace synack::interop
