#include "tools/net_session.hpp"

#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>

#include "link/tun/netns.hpp"
#include "trace/ladder_model.hpp"
#include "trace/ladder_text.hpp"

namespace synack::tools {

void add_net_options(CLI::App& app, NetOptions& o) {
  app.add_option("--tun", o.tun, "TUN device to use (made by `synack netns up`, or created)")
      ->capture_default_str();
  app.add_option("--shm", o.shm,
                 "Run over a shared-memory region of this name instead of a TUN device: `serve` "
                 "creates it, `connect` and `get` attach to it (no root needed)");
  app.add_option("--ip", o.ip,
                 "synack's IPv4 address (default 198.18.0.2; with --shm, 198.18.0.1 for "
                 "connect and get)");
  app.add_option("--host-ip", o.host_ip,
                 "Give the kernel side this address/prefix (for a device netns up did not make)");
  app.add_option("--netns", o.netns, "Run inside this network namespace (setns)");
  app.add_option("--pcap", o.pcap, "Write every packet synack sends or receives to FILE (pcap)");
  app.add_option("--json", o.json, "Write every trace event to FILE as JSON lines");
  app.add_option("--counters", o.counters,
                 "Write the stack's counters (\"name value\" lines, like netstat -s) to FILE "
                 "when the session ends");
  app.add_flag("--ladder", o.ladder,
               "Print the ladder diagram of the run on standard error when it ends (keeps "
               "every packet in memory: for short runs)");
  app.add_option("--mtu", o.mtu, "Set the device's MTU");
  app.add_flag("--batching", o.batching,
               "Send frames to the TUN device through io_uring, many per system call, instead "
               "of a writev each");
  app.add_option("--loss", o.loss, "Inject loss: probability each frame is dropped, both ways")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--reorder", o.reorder, "Inject reordering: probability a frame is held back")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--duplicate", o.duplicate, "Inject duplication: probability a frame is doubled")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--corrupt", o.corrupt, "Inject corruption: probability a bit of a frame flips")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--delay", o.delay_ms, "Inject one-way delay, milliseconds, both ways")
      ->check(CLI::Range(0.0, 10000.0));
  app.add_option("--jitter", o.jitter_ms, "Inject jitter up to this many milliseconds")
      ->check(CLI::Range(0.0, 10000.0));
  app.add_option("--seed", o.seed, "Seed of the injected faults")->capture_default_str();
  app.add_flag("-v,--verbose", o.verbose, "Say what happens on standard error");
}

std::unique_ptr<NetSession> NetSession::open(const NetOptions& o, std::string& error) {
  std::unique_ptr<NetSession> s(new NetSession);
  const std::string ip =
      !o.ip.empty() ? o.ip : (!o.shm.empty() && !o.shm_creates ? "198.18.0.1" : "198.18.0.2");
  auto address = Ipv4Address::parse(ip);
  if (!address) {
    error = "--ip: '" + ip + "' is not an IPv4 address";
    return nullptr;
  }
  s->address_ = *address;
  s->counters_path_ = o.counters;
  if (!o.netns.empty()) {
    if (auto e = link::enter_netns(o.netns)) {
      error = *e;
      return nullptr;
    }
  }
  std::optional<link::InterfaceAddress> host;
  if (!o.host_ip.empty()) {
    host = link::InterfaceAddress::parse(o.host_ip);
    if (!host || !o.shm.empty()) {
      error = !o.shm.empty() ? "--host-ip names the kernel's side of a TUN device, not of --shm"
                             : "--host-ip: '" + o.host_ip + "' is not ADDRESS/PREFIX";
      return nullptr;
    }
  }
  if (!s->open_medium(o, host, error)) return nullptr;
  link::Link* top = s->tun_ ? static_cast<link::Link*>(s->tun_.get()) : s->shm_.get();

  const bool faults = o.loss > 0 || o.reorder > 0 || o.duplicate > 0 || o.corrupt > 0 ||
                      o.delay_ms > 0 || o.jitter_ms > 0;
  if (faults) {
    sim::ChannelParams p = link::FaultLink::no_faults();
    p.loss = o.loss;
    p.reorder = o.reorder;
    p.duplicate = o.duplicate;
    p.corrupt = o.corrupt;
    p.delay = nanoseconds(static_cast<std::int64_t>(o.delay_ms * 1e6));
    p.jitter = nanoseconds(static_cast<std::int64_t>(o.jitter_ms * 1e6));
    p.reorder_delay = std::max(milliseconds(2), p.delay);
    s->fault_ = std::make_unique<link::FaultLink>(*top, p, p, o.seed);
    top = s->fault_.get();
  }

  // The runtime's clock starts when it is made; the capture's epoch is read just before.
  const auto wall_epoch = std::chrono::system_clock::now().time_since_epoch();
  if (!o.pcap.empty()) {
    s->pcap_file_.open(o.pcap, std::ios::binary | std::ios::trunc);
    if (!s->pcap_file_) {
      error = "--pcap: cannot write " + o.pcap;
      return nullptr;
    }
    s->pcap_ = std::make_unique<link::PcapCapture>(
        s->pcap_file_, std::chrono::duration_cast<std::chrono::nanoseconds>(wall_epoch).count());
    s->capture_ = std::make_unique<link::CaptureLink>(*top, *s->pcap_);
    top = s->capture_.get();
  }

  if (!o.json.empty()) {
    s->json_file_.open(o.json, std::ios::trunc);
    if (!s->json_file_) {
      error = "--json: cannot write " + o.json;
      return nullptr;
    }
    s->json_ = std::make_unique<trace::JsonLines>(s->json_file_);
    s->tee_.add(*s->json_);
  }
  if (o.ladder) {
    s->recording_ = std::make_unique<trace::Recording>();
    s->recording_->name_host(*address, "synack");
    s->tee_.add(*s->recording_);
  }

  StackConfig stack_config;
  stack_config.address = *address;
  // The device's subnet: the kernel side's prefix if we set it, else `netns up`'s /24.
  stack_config.prefix_length =
      static_cast<std::uint8_t>(host ? host->prefix : link::InterfaceAddress{}.prefix);
  std::random_device random;
  for (auto& word : stack_config.secret) {
    word = (std::uint64_t{random()} << 32) | random();
  }
  s->runtime_ = std::make_unique<runtime::Runtime>(*top, stack_config);
  if (s->tee_.size() > 0) {
    s->runtime_->with_stack([&](auto& stack) { stack.set_trace(&s->tee_); });
  }
  return s;
}

bool NetSession::open_medium(const NetOptions& o, const std::optional<link::InterfaceAddress>& host,
                             std::string& error) {
  if (!o.shm.empty()) {
    link::shm::ShmLinkOptions options;
    if (o.mtu != 0) options.region.mtu = static_cast<std::uint32_t>(o.mtu);
    // A region left by a creator that died is replaced: its name is ours to serve again.
    options.region.replace = true;
    auto shm = o.shm_creates ? link::shm::ShmLink::create(o.shm, options)
                             : link::shm::ShmLink::attach(o.shm, options);
    if (!shm) {
      error = "--shm " + o.shm + ": " + shm.error().message;
      return false;
    }
    shm_ = std::move(*shm);
    medium_ = "shm region " + o.shm;
    return true;
  }
  link::TunConfig config;
  config.name = o.tun;
  config.mtu = o.mtu;
  config.host = host;
  config.batching = o.batching;
  auto tun = link::TunLink::open(config);
  if (!tun) {
    error = tun.error().message;
    return false;
  }
  tun_ = std::move(*tun);
  medium_ = o.tun + (o.netns.empty() ? "" : " in " + o.netns) + ", " + tun_->batching();
  return true;
}

NetSession::~NetSession() {
  if (runtime_) {
    runtime_->stop();
    // The driver thread has ended; nothing else emits events once the sink is detached.
    if (tee_.size() > 0) runtime_->with_stack([](auto& stack) { stack.set_trace(nullptr); });
    if (!counters_path_.empty()) {
      // Written once the stack has stopped: the run's final figures.
      std::ofstream(counters_path_, std::ios::trunc) << to_text(runtime_->counters());
    }
  }
  runtime_.reset();
  if (json_file_.is_open()) json_file_.close();
  if (recording_) {
    const trace::LadderModel model = trace::build_ladder(*recording_);
    trace::render_text_ladder(model, {}, std::cerr);
  }
  capture_.reset();
  pcap_.reset();
  if (pcap_file_.is_open()) pcap_file_.close();
}

std::string NetSession::summary() {
  const Counters c = runtime_->counters();
  std::ostringstream out;
  if (tun_) {
    const auto& t = tun_->stats();
    out << tun_->name() << ": " << t.frames_in << " frames in, " << t.frames_out << " out, "
        << t.send_dropped << " refused";
  } else {
    const auto& t = shm_->stats();
    out << medium_ << ": " << t.frames_in << " frames in, " << t.frames_out << " out, "
        << t.send_dropped_full + t.send_dropped_no_peer << " dropped";
  }
  out << "; tcp: " << c.tcp.out_segs << " segments out, " << c.tcp.retrans_segs
      << " retransmitted, " << c.tcp.in_segs << " in";
  if (fault_) {
    const auto& o = fault_->outbound().stats();
    const auto& i = fault_->inbound().stats();
    out << "; injected: " << o.lost + i.lost << " lost, " << o.reordered + i.reordered
        << " reordered, " << o.duplicated + i.duplicated << " duplicated, "
        << o.corrupted + i.corrupted << " corrupted";
  }
  return out.str();
}

std::optional<std::uint64_t> parse_size(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::size_t used = 0;
  std::uint64_t value = 0;
  try {
    value = std::stoull(text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  const std::string suffix = text.substr(used);
  std::uint64_t scale = 1;
  if (suffix == "K" || suffix == "k") {
    scale = 1024;
  } else if (suffix == "M") {
    scale = 1024 * 1024;
  } else if (suffix == "G") {
    scale = 1024ull * 1024 * 1024;
  } else if (!suffix.empty()) {
    return std::nullopt;
  }
  return value * scale;
}

void block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);  // stdout to a closed pipe is an error from write, not a death
}

void on_stop_signal(std::function<void()> on_stop) {
  std::thread([on_stop = std::move(on_stop)] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    int sig = 0;
    sigwait(&set, &sig);
    on_stop();
  }).detach();
}

}  // namespace synack::tools
