#include "interop.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string_view>
#include <thread>

#include "tools/body_pattern.hpp"

extern char** environ;

namespace synack::interop {
namespace fs = std::filesystem;

std::string missing_prerequisite() {
  if (::geteuid() != 0) return "not root";
  if (::access("/dev/net/tun", R_OK | W_OK) != 0) return "no /dev/net/tun";
  if (::access("/usr/sbin/ip", X_OK) != 0 && ::access("/sbin/ip", X_OK) != 0 &&
      ::access("/usr/bin/ip", X_OK) != 0) {
    return "no ip (iproute2; scripts/setup.sh installs it)";
  }
  return "";
}

namespace {

std::atomic<int> counter{0};

// Namespaces "synack-t-<pid>-..." of test processes that died before cleaning up.
void remove_stale_namespaces() {
  static std::once_flag once;
  std::call_once(once, [] {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/run/netns", ec)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind("synack-t-", 0) != 0) continue;
      const std::string pid = name.substr(9, name.find('-', 9) - 9);
      if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
      if (pid != std::to_string(::getpid()) && !fs::exists("/proc/" + pid)) {
        link::netns_delete(name);
      }
    }
  });
}

}  // namespace

TestNetns::TestNetns()
    : name_("synack-t-" + std::to_string(::getpid()) + "-" + std::to_string(counter++)) {
  remove_stale_namespaces();
  if (link::netns_exists(name_)) link::netns_delete(name_);  // left by a killed run
  if (auto e = link::netns_add(name_)) {
    error_ = *e;
    return;
  }
  if (auto e = link::netns_make_tun(name_, "synack0", {kHostIp, 24})) error_ = *e;
}

TestNetns::~TestNetns() {
  if (link::netns_exists(name_)) link::netns_delete(name_);
}

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "synack-interop-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

Process::Process(const std::vector<std::string>& argv, const std::string& netns,
                 const Files& files) {
  std::vector<std::string> full;
  if (!netns.empty()) full = {"ip", "netns", "exec", netns};
  full.insert(full.end(), argv.begin(), argv.end());
  std::vector<char*> args;
  for (auto& a : full) args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  auto file = [](const std::string& f) { return f.empty() ? std::string("/dev/null") : f; };
  const std::string in = file(files.in), out = file(files.out), err = file(files.err);
  posix_spawn_file_actions_addopen(&actions, 0, in.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  // The child gets default signal handling, whatever the test process blocks.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  if (::posix_spawnp(&pid_, args[0], &actions, &attr, args.data(), environ) != 0) pid_ = -1;
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
}

Process::~Process() {
  if (started() && !status_) terminate();
}

std::optional<int> Process::wait(std::chrono::milliseconds timeout) {
  if (status_ || !started()) return status_;
  const auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return status_;
    }
    if (r < 0 && errno != EINTR) {
      status_ = -1;
      return status_;
    }
    if (std::chrono::steady_clock::now() >= until) return std::nullopt;
    std::this_thread::sleep_for(5ms);
  }
}

int Process::terminate(std::chrono::milliseconds grace) {
  if (!started()) return -1;
  if (status_) return *status_;
  ::kill(pid_, SIGTERM);
  if (auto s = wait(grace)) return *s;
  ::kill(pid_, SIGKILL);
  if (auto s = wait(5000ms)) return *s;
  return -1;
}

RunResult run(const std::vector<std::string>& argv, const std::string& netns,
              std::chrono::milliseconds timeout, const std::string& stdin_file) {
  TempDir dir;
  RunResult r;
  {
    Process p(argv, netns, {stdin_file, (dir / "out").string(), (dir / "err").string()});
    if (!p.started()) {
      r.err = "cannot start " + argv.at(0);
      return r;
    }
    auto status = p.wait(timeout);
    r.status = status ? *status : -1;
    if (!status) {
      p.terminate();
      r.err = "timed out; ";
    }
  }
  r.out = read_file(dir / "out");
  r.err += read_file(dir / "err");
  return r;
}

std::string synack_tool() {
  return SYNACK_TOOL;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::map<std::string, std::uint64_t> read_counters(const std::filesystem::path& file) {
  std::map<std::string, std::uint64_t> counters;
  std::istringstream in(read_file(file));
  std::string name;
  std::uint64_t value = 0;
  while (in >> name >> value) counters[name] = value;
  return counters;
}

void write_file(const fs::path& p, const std::string& data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << data;
}

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

bool wait_for_text(const fs::path& path, const std::string& text,
                   std::chrono::milliseconds timeout) {
  return eventually([&] { return read_file(path).find(text) != std::string::npos; }, timeout);
}

std::string check_body_pattern(const fs::path& file, std::uint64_t size) {
  std::error_code ec;
  const auto actual = fs::file_size(file, ec);
  if (ec) return "cannot stat " + file.string();
  if (actual != size) {
    return "size " + std::to_string(actual) + ", expected " + std::to_string(size);
  }
  std::ifstream in(file, std::ios::binary);
  std::vector<char> got(1 << 20);
  std::vector<std::uint8_t> want(got.size());
  for (std::uint64_t offset = 0; offset < size;) {
    in.read(got.data(), static_cast<std::streamsize>(got.size()));
    const auto n = static_cast<std::size_t>(in.gcount());
    if (n == 0) return "short read at " + std::to_string(offset);
    tools::fill_body(offset, std::span(want.data(), n));
    if (std::memcmp(got.data(), want.data(), n) != 0) {
      for (std::size_t i = 0; i < n; ++i) {
        if (static_cast<std::uint8_t>(got[i]) != want[i]) {
          return "first difference at byte " + std::to_string(offset + i);
        }
      }
    }
    offset += n;
  }
  return "";
}

std::vector<std::string> kernel_states(const std::string& netns, std::uint16_t port) {
  const RunResult r = run({"ss", "-tanH"}, netns, 10000ms);
  std::vector<std::string> states;
  std::istringstream lines(r.out);
  std::string line;
  const std::string suffix = ":" + std::to_string(port);
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string state, recv_q, send_q, local, peer;
    if (!(fields >> state >> recv_q >> send_q >> local >> peer)) continue;
    auto ends = [&](const std::string& s) {
      return s.size() >= suffix.size() &&
             s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    if (ends(local) || ends(peer)) states.push_back(state);
  }
  return states;
}

bool tun_batching() {
  const char* v = std::getenv("SYNACK_TEST_TUN_BATCHING");
  return v != nullptr && std::string_view(v) == "1";
}

std::vector<std::string> tun_io_flags() {
  if (tun_batching()) return {"--batching"};
  return {};
}

SynackServer::SynackServer(const TestNetns& ns, const TempDir& dir,
                           const std::vector<std::string>& extra)
    : log_(dir / "serve.log") {
  std::vector<std::string> argv = {synack_tool(), "serve", "--netns",      ns.name(),
                                   "--port",      "8080",  "--http-bytes", "1K"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  for (auto& f : tun_io_flags()) argv.push_back(f);
  process_ = std::make_unique<Process>(argv, "", Process::Files{"", "", log_.string()});
}

bool SynackServer::ready() {
  return wait_for_text(log_, "listening", 10000ms);
}

Download curl(const TestNetns& ns, const std::string& path, const fs::path& out,
              std::chrono::milliseconds timeout) {
  const std::string url = "http://" + kStackIp.to_string() + ":8080" + path;
  const RunResult r = run({"curl", "-sS", "--max-time", std::to_string(timeout.count() / 1000),
                           "-o", out.string(), "-w", "%{http_code}", url},
                          ns.name(), timeout + 5000ms);
  return {r.status, r.out, r.err};
}

std::string add_kernel_loss(const TestNetns& ns, double percent) {
  const auto per_10k = std::to_string(static_cast<int>(percent * 100));
  std::ostringstream p;
  p << percent << "%";
  const bool netem = run({"tc", "qdisc", "add", "dev", "synack0", "root", "netem", "loss", p.str()},
                         ns.name(), 10000ms)
                         .status == 0;
  std::string rules =
      "table inet synack_faults {\n"
      "  chain in { type filter hook input priority 0; iifname \"synack0\" "
      "numgen random mod 10000 < " +
      per_10k + " drop; }\n";
  if (!netem) {
    rules +=
        "  chain out { type filter hook output priority 0; oifname \"synack0\" "
        "numgen random mod 10000 < " +
        per_10k + " drop; }\n";
  }
  rules += "}\n";
  TempDir dir;
  write_file(dir / "rules.nft", rules);
  const RunResult nft = run({"nft", "-f", (dir / "rules.nft").string()}, ns.name(), 10000ms);
  if (nft.status != 0) return "error: nft: " + nft.err;
  return std::string(netem ? "tc netem" : "nftables") + " on egress, nftables on ingress, " +
         p.str();
}

InProcessStack::InProcessStack(const TestNetns& ns, Duration inbound_delay, bool offloads) {
  auto guard = link::NetnsGuard::enter(ns.name());
  if (!guard) {
    error_ = guard.error();
    return;
  }
  link::TunConfig config;
  config.name = "synack0";
  config.offloads = offloads;
  config.batching = tun_batching();
  auto tun = link::TunLink::open(config);
  if (!tun) {
    error_ = tun.error().message;
    return;
  }
  tun_ = std::move(*tun);
  link::Link* top = tun_.get();
  if (inbound_delay > Duration{}) {
    sim::ChannelParams inbound = link::FaultLink::no_faults();
    inbound.delay = inbound_delay;
    fault_ = std::make_unique<link::FaultLink>(*top, link::FaultLink::no_faults(), inbound, 1);
    top = fault_.get();
  }
  if (const char* dir = std::getenv("SYNACK_INTEROP_PCAP")) {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    const std::string name =
        test ? std::string(test->test_suite_name()) + "." + test->name() : "interop";
    pcap_file_.open(fs::path(dir) / (name + ".pcap"), std::ios::binary | std::ios::trunc);
    pcap_ = std::make_unique<link::PcapCapture>(pcap_file_);
    capture_ = std::make_unique<link::CaptureLink>(*top, *pcap_);
    top = capture_.get();
  }
  StackConfig stack;
  stack.address = kStackIp;
  stack.prefix_length = 24;  // the device is 198.18.0.1/24 on the kernel's side
  runtime::RuntimeOptions options;
  options.stop_grace = milliseconds(500);
  runtime_ = std::make_unique<runtime::Runtime>(*top, stack, options);
}

int kernel_tcp_socket(const TestNetns& ns) {
  auto guard = link::NetnsGuard::enter(ns.name());
  if (!guard) return -1;
  return ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

namespace {
// Closes a socket whose set-up failed, keeping the errno that says why; -1.
int close_failed(int fd) {
  const int e = errno;
  ::close(fd);
  errno = e;
  return -1;
}
}  // namespace

sockaddr ipv4_sockaddr(Ipv4Address address, std::uint16_t port) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  sin.sin_addr.s_addr = htonl(address.to_u32());
  sockaddr sa{};
  std::memcpy(&sa, &sin, sizeof sin);
  return sa;
}

int kernel_udp_socket(const TestNetns& ns, Ipv4Address address, std::uint16_t port) {
  auto guard = link::NetnsGuard::enter(ns.name());
  if (!guard) return -1;
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const sockaddr sa = ipv4_sockaddr(address, port);
  if (::bind(fd, &sa, sizeof(sockaddr_in)) < 0) return close_failed(fd);
  return fd;
}

int kernel_connect(const TestNetns& ns, Ipv4Address address, std::uint16_t port) {
  const int fd = kernel_tcp_socket(ns);
  if (fd < 0) return -1;
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const sockaddr sa = ipv4_sockaddr(address, port);
  if (::connect(fd, &sa, sizeof(sockaddr_in)) < 0) return close_failed(fd);
  return fd;
}

}  // namespace synack::interop
