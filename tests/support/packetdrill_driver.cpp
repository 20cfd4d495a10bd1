#include "support/packetdrill_driver.hpp"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace synack::testing {

// --- Checksums ---------------------------------------------------------------------------

std::uint32_t checksum_add(const std::uint8_t* data, std::size_t len, std::uint32_t sum) {
  for (std::size_t i = 0; i + 1 < len; i += 2) {
    sum += static_cast<std::uint32_t>(data[i] << 8 | data[i + 1]);
  }
  if (len % 2 == 1) sum += static_cast<std::uint32_t>(data[len - 1] << 8);
  return sum;
}

std::uint16_t checksum_fold(std::uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xffff);
}

namespace {

// --- Bytes -------------------------------------------------------------------------------

std::uint16_t be16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}
std::uint32_t be32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}
void put16(std::vector<std::uint8_t>& v, std::size_t at, std::uint32_t x) {
  v[at] = static_cast<std::uint8_t>(x >> 8);
  v[at + 1] = static_cast<std::uint8_t>(x);
}
void put32(std::vector<std::uint8_t>& v, std::size_t at, std::uint32_t x) {
  put16(v, at, x >> 16);
  put16(v, at + 2, x & 0xffff);
}
void append16(std::vector<std::uint8_t>& v, std::uint32_t x) {
  v.push_back(static_cast<std::uint8_t>(x >> 8));
  v.push_back(static_cast<std::uint8_t>(x));
}
void append32(std::vector<std::uint8_t>& v, std::uint32_t x) {
  append16(v, x >> 16);
  append16(v, x & 0xffff);
}

std::string hex(const std::uint8_t* p, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0 && i % 4 == 0) out += ' ';
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
  return out;
}

// The TCP checksum of `segment` under the IPv4 pseudo-header (0 when it is right, for a
// segment that carries its checksum).
std::uint16_t tcp_checksum(std::uint32_t src, std::uint32_t dst, const std::uint8_t* segment,
                           std::size_t len) {
  std::uint32_t sum = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff);
  sum += 6 + static_cast<std::uint32_t>(len);
  return checksum_fold(checksum_add(segment, len, sum));
}

// --- Script notation ---------------------------------------------------------------------

constexpr std::uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10, kUrg = 0x20,
                       kEce = 0x40, kCwr = 0x80;

struct Option {
  enum class Kind { nop, eol, mss, wscale, sack_permitted, sack, timestamps } kind;
  std::uint32_t value = 0;  // mss, wscale; TS val
  std::uint32_t echo = 0;   // TS ecr
  bool value_wild = false;  // TS val *
  bool echo_wild = false;   // TS ecr *
  std::vector<std::pair<std::uint32_t, std::uint32_t>> blocks;
};

struct Line {
  std::uint8_t flags = 0;
  std::uint32_t start = 0;
  std::uint32_t end = 0;
  std::optional<std::uint32_t> ack;
  std::optional<std::uint16_t> window;
  std::vector<Option> options;
};

[[noreturn]] void bad_line(std::string_view line, std::string_view why) {
  throw std::invalid_argument("bad script line \"" + std::string(line) + "\": " + std::string(why));
}

std::uint32_t number(std::string_view line, std::string_view text) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || v > 0xffffffffu) {
    bad_line(line, "not a number: \"" + std::string(text) + "\"");
  }
  return static_cast<std::uint32_t>(v);
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    const auto at = s.find(sep);
    const auto word = s.substr(0, at);
    if (!word.empty()) out.push_back(word);
    if (at == std::string_view::npos) break;
    s.remove_prefix(at + 1);
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

Option parse_option(std::string_view line, std::string_view text) {
  const auto words = split(trim(text), ' ');
  if (words.empty()) bad_line(line, "an empty option");
  const auto& w = words[0];
  Option o{Option::Kind::nop};
  auto want = [&](std::size_t n) {
    if (words.size() != n) bad_line(line, "option \"" + std::string(text) + "\"");
  };
  if (w == "nop") {
    want(1);
  } else if (w == "eol") {
    want(1);
    o.kind = Option::Kind::eol;
  } else if (w == "mss") {
    want(2);
    o.kind = Option::Kind::mss;
    o.value = number(line, words[1]);
  } else if (w == "wscale") {
    want(2);
    o.kind = Option::Kind::wscale;
    o.value = number(line, words[1]);
  } else if (w == "sackOK") {
    want(1);
    o.kind = Option::Kind::sack_permitted;
  } else if (w == "sack") {
    o.kind = Option::Kind::sack;
    if (words.size() < 2) bad_line(line, "sack without blocks");
    for (std::size_t i = 1; i < words.size(); ++i) {
      const auto colon = words[i].find(':');
      if (colon == std::string_view::npos) bad_line(line, "sack block without ':'");
      o.blocks.emplace_back(number(line, words[i].substr(0, colon)),
                            number(line, words[i].substr(colon + 1)));
    }
  } else if (w == "TS") {
    want(5);
    if (words[1] != "val" || words[3] != "ecr") bad_line(line, "TS val V ecr E");
    o.kind = Option::Kind::timestamps;
    o.value_wild = words[2] == "*";
    o.echo_wild = words[4] == "*";
    if (!o.value_wild) o.value = number(line, words[2]);
    if (!o.echo_wild) o.echo = number(line, words[4]);
  } else {
    bad_line(line, "unknown option \"" + std::string(w) + "\"");
  }
  return o;
}

Line parse_line(std::string_view line) {
  Line out;
  std::string_view rest = trim(line);
  std::string_view options_text;
  const auto open = rest.find('<');
  if (open != std::string_view::npos) {
    const auto close = rest.find('>', open);
    if (close == std::string_view::npos || trim(rest.substr(close + 1)) != "") {
      bad_line(line, "options must end the line, in <...>");
    }
    options_text = rest.substr(open + 1, close - open - 1);
    rest = trim(rest.substr(0, open));
    for (const auto& text : split(options_text, ',')) {
      out.options.push_back(parse_option(line, text));
    }
  }
  const auto words = split(rest, ' ');
  if (words.size() < 2) bad_line(line, "flags and a sequence range come first");
  for (char c : words[0]) {
    switch (c) {
      case 'S':
        out.flags |= kSyn;
        break;
      case 'F':
        out.flags |= kFin;
        break;
      case 'R':
        out.flags |= kRst;
        break;
      case 'P':
        out.flags |= kPsh;
        break;
      case '.':
        out.flags |= kAck;
        break;
      case 'U':
        out.flags |= kUrg;
        break;
      case 'E':
        out.flags |= kEce;
        break;
      case 'W':
        out.flags |= kCwr;
        break;
      default:
        bad_line(line, "unknown flag");
    }
  }
  // start:end(length)
  const auto range = words[1];
  const auto colon = range.find(':');
  const auto paren = range.find('(');
  if (colon == std::string_view::npos || paren == std::string_view::npos || range.back() != ')') {
    bad_line(line, "the sequence range is start:end(length)");
  }
  out.start = number(line, range.substr(0, colon));
  out.end = number(line, range.substr(colon + 1, paren - colon - 1));
  const auto length = number(line, range.substr(paren + 1, range.size() - paren - 2));
  if (out.end - out.start != length) bad_line(line, "end - start is not the length");
  for (std::size_t i = 2; i < words.size(); i += 2) {
    if (i + 1 >= words.size()) bad_line(line, "\"" + std::string(words[i]) + "\" needs a value");
    if (words[i] == "ack") {
      out.ack = number(line, words[i + 1]);
    } else if (words[i] == "win") {
      const auto w = number(line, words[i + 1]);
      if (w > 0xffff) bad_line(line, "the window is 16 bits");
      out.window = static_cast<std::uint16_t>(w);
    } else {
      bad_line(line, "unknown field \"" + std::string(words[i]) + "\"");
    }
  }
  if ((out.flags & kAck) != 0 && !out.ack) bad_line(line, "an ACK needs \"ack N\"");
  return out;
}

std::string flags_text(std::uint8_t flags) {
  std::string s;
  if (flags & kSyn) s += 'S';
  if (flags & kFin) s += 'F';
  if (flags & kRst) s += 'R';
  if (flags & kPsh) s += 'P';
  if (flags & kUrg) s += 'U';
  if (flags & kEce) s += 'E';
  if (flags & kCwr) s += 'W';
  if (flags & kAck) s += '.';
  return s.empty() ? "-" : s;
}

// A TCP header in script notation. `seq_base` is subtracted from seq (the stack's ISN for
// a segment the stack sent, 0 for the remote's), `ack_base` from ack and `sack_base` from
// SACK blocks.
std::string render(const std::uint8_t* tcp, std::size_t header_length, std::size_t payload,
                   std::uint32_t seq_base, std::uint32_t ack_base) {
  std::ostringstream os;
  const std::uint8_t flags = tcp[13];
  const std::uint32_t start = be32(tcp + 4) - seq_base;
  os << flags_text(flags) << ' ' << start << ':' << start + payload << '(' << payload << ')';
  if (flags & kAck) os << " ack " << be32(tcp + 8) - ack_base;
  os << " win " << be16(tcp + 14);
  if (header_length > 20) {
    os << " <";
    const std::uint8_t* p = tcp + 20;
    const std::uint8_t* end = tcp + header_length;
    bool first = true;
    while (p < end) {
      if (!first) os << ',';
      first = false;
      const std::uint8_t kind = p[0];
      if (kind == 1 || kind == 0) {
        os << (kind == 1 ? "nop" : "eol");
        ++p;
        continue;
      }
      if (p + 1 >= end || p[1] < 2 || p + p[1] > end) {
        os << "bad option " << int{kind};
        break;
      }
      const std::uint8_t len = p[1];
      if (kind == 2 && len == 4) {
        os << "mss " << be16(p + 2);
      } else if (kind == 3 && len == 3) {
        os << "wscale " << int{p[2]};
      } else if (kind == 4 && len == 2) {
        os << "sackOK";
      } else if (kind == 8 && len == 10) {
        os << "TS val " << be32(p + 2) << " ecr " << be32(p + 6);
      } else if (kind == 5 && (len - 2) % 8 == 0) {
        // SACK blocks cover the remote's sequence space in what the stack sends.
        os << "sack";
        for (int i = 2; i < len; i += 8) {
          os << ' ' << be32(p + i) - ack_base << ':' << be32(p + i + 4) - ack_base;
        }
      } else {
        os << "kind " << int{kind} << " len " << int{len};
      }
      p += len;
    }
    os << '>';
  }
  return os.str();
}

// Options in wire form. `sack_base` is added to SACK blocks; `*` values come from
// `wild_value` and `wild_echo`.
std::vector<std::uint8_t> encode_options(const std::vector<Option>& options,
                                         std::uint32_t sack_base, std::uint32_t wild_value,
                                         std::uint32_t wild_echo) {
  std::vector<std::uint8_t> out;
  for (const auto& o : options) {
    switch (o.kind) {
      case Option::Kind::nop:
        out.push_back(1);
        break;
      case Option::Kind::eol:
        out.push_back(0);
        break;
      case Option::Kind::mss:
        out.insert(out.end(), {2, 4});
        append16(out, o.value);
        break;
      case Option::Kind::wscale:
        out.insert(out.end(), {3, 3, static_cast<std::uint8_t>(o.value)});
        break;
      case Option::Kind::sack_permitted:
        out.insert(out.end(), {4, 2});
        break;
      case Option::Kind::sack:
        out.push_back(5);
        out.push_back(static_cast<std::uint8_t>(2 + 8 * o.blocks.size()));
        for (const auto& [left, right] : o.blocks) {
          append32(out, left + sack_base);
          append32(out, right + sack_base);
        }
        break;
      case Option::Kind::timestamps:
        out.insert(out.end(), {8, 10});
        append32(out, o.value_wild ? wild_value : o.value);
        append32(out, o.echo_wild ? wild_echo : o.echo);
        break;
    }
  }
  return out;
}

bool has_wild_tsval(const Line& l) {
  return std::any_of(l.options.begin(), l.options.end(), [](const Option& o) {
    return o.kind == Option::Kind::timestamps && o.value_wild;
  });
}

// The timestamp in a header's options, if any.
std::optional<std::uint32_t> tsval_of(const std::uint8_t* tcp, std::size_t header_length) {
  const std::uint8_t* p = tcp + 20;
  const std::uint8_t* end = tcp + header_length;
  while (p < end) {
    if (p[0] == 0) break;
    if (p[0] == 1) {
      ++p;
      continue;
    }
    if (p + 1 >= end || p[1] < 2) break;
    if (p[0] == 8 && p[1] == 10 && p + 10 <= end) return be32(p + 2);
    p += p[1];
  }
  return std::nullopt;
}

std::size_t data_offset_bytes(const std::uint8_t* tcp) {
  return std::size_t{tcp[12]} >> 4 << 2;
}

long long usecs_of(const timeval& tv) {
  return static_cast<long long>(tv.tv_sec) * 1'000'000 + tv.tv_usec;
}

}  // namespace

std::string address_text(const sockaddr_storage& a) {
  char text[INET6_ADDRSTRLEN] = {};
  if (a.ss_family == AF_INET) {
    sockaddr_in sin{};
    std::memcpy(&sin, &a, sizeof sin);
    ::inet_ntop(AF_INET, &sin.sin_addr, text, sizeof text);
    return std::string(text) + ':' + std::to_string(ntohs(sin.sin_port));
  }
  if (a.ss_family == AF_INET6) {
    sockaddr_in6 sin6{};
    std::memcpy(&sin6, &a, sizeof sin6);
    ::inet_ntop(AF_INET6, &sin6.sin6_addr, text, sizeof text);
    return '[' + std::string(text) + "]:" + std::to_string(ntohs(sin6.sin6_port));
  }
  return "family " + std::to_string(a.ss_family);
}

// --- Packets ----------------------------------------------------------------------------

std::vector<std::uint8_t> tcp_packet(const TcpPacket& t) {
  const std::size_t tcp_length = 20 + t.options.size() + t.payload.size();
  std::vector<std::uint8_t> p(20 + tcp_length, 0);
  // IPv4 as Linux sends TCP: no options, DF, TTL 64.
  p[0] = 0x45;
  put16(p, 2, static_cast<std::uint32_t>(p.size()));
  put16(p, 6, 0x4000);
  p[8] = 64;
  p[9] = 6;
  put32(p, 12, t.src);
  put32(p, 16, t.dst);
  put16(p, 10, checksum_fold(checksum_add(p.data(), 20)));
  put16(p, 20, t.src_port);
  put16(p, 22, t.dst_port);
  put32(p, 24, t.seq);
  put32(p, 28, t.ack);
  p[32] = static_cast<std::uint8_t>((20 + t.options.size()) / 4 << 4);
  p[33] = t.flags;
  put16(p, 34, t.window);
  std::copy(t.options.begin(), t.options.end(), p.begin() + 40);
  std::copy(t.payload.begin(), t.payload.end(),
            p.begin() + 40 + static_cast<long>(t.options.size()));
  put16(p, 36, tcp_checksum(t.src, t.dst, p.data() + 20, tcp_length));
  return p;
}

// --- BlockingCall ------------------------------------------------------------------------

namespace {
std::atomic<int> g_outstanding{0};
}

struct BlockingCall::Shared {
  std::mutex mu;
  std::condition_variable cv;
  bool started = false;
  bool done = false;
  long result = 0;
  int error = 0;
  pid_t tid = 0;
  std::thread thread;
};

BlockingCall::BlockingCall(std::function<long()> call) : shared_(std::make_shared<Shared>()) {
  ++g_outstanding;
  shared_->thread = std::thread([s = shared_, call = std::move(call)] {
    {
      std::lock_guard lock(s->mu);
      s->tid = static_cast<pid_t>(::syscall(SYS_gettid));
      s->started = true;
    }
    s->cv.notify_all();
    errno = 0;
    const long r = call();
    const int e = errno;
    {
      std::lock_guard lock(s->mu);
      s->result = r;
      s->error = e;
      s->done = true;
    }
    s->cv.notify_all();
    --g_outstanding;
  });
}

BlockingCall::~BlockingCall() {
  if (wait()) {
    shared_->thread.join();
  } else {
    ADD_FAILURE() << "a blocking call never returned; its thread is left running";
    shared_->thread.detach();
  }
}

bool BlockingCall::returned() const {
  std::lock_guard lock(shared_->mu);
  return shared_->done;
}

int BlockingCall::error() const {
  std::lock_guard lock(shared_->mu);
  return shared_->error;
}

std::optional<long> BlockingCall::wait(std::chrono::milliseconds limit) {
  std::unique_lock lock(shared_->mu);
  if (!shared_->cv.wait_for(lock, limit, [&] { return shared_->done; })) return std::nullopt;
  return shared_->result;
}

bool BlockingCall::sleeping(std::chrono::milliseconds limit) const {
  pid_t tid = 0;
  {
    std::unique_lock lock(shared_->mu);
    if (!shared_->cv.wait_for(lock, limit, [&] { return shared_->started; })) return false;
    tid = shared_->tid;
  }
  const std::string path = "/proc/self/task/" + std::to_string(tid) + "/syscall";
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int in_a_row = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (returned()) return false;
    std::ifstream file(path);
    long number = -1;
    file >> number;  // "202 0x..." while in futex(2); "running" while running
    in_a_row = (file && number == SYS_futex) ? in_a_row + 1 : 0;
    if (in_a_row >= 5) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return false;
}

int BlockingCall::outstanding() {
  return g_outstanding.load();
}

// --- Packetdrill -------------------------------------------------------------------------

Packetdrill::Packetdrill(const char* so_path, Mode mode, const char* flags) : mode_(mode) {
  // The tool's flags. RTLD_DEEPBIND makes the library prefer its own symbols, and
  // AddressSanitizer refuses to run with it (it must interpose malloc everywhere).
  int dl_flags = RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE;
#if !defined(__SANITIZE_ADDRESS__)
  dl_flags |= RTLD_DEEPBIND;
#endif
  library_ = ::dlopen(so_path, dl_flags);
  if (library_ == nullptr) throw std::runtime_error(std::string("dlopen: ") + ::dlerror());
  ::dlerror();
  void* init = ::dlsym(library_, "packetdrill_interface_init");
  if (const char* error = ::dlerror(); error != nullptr || init == nullptr) {
    throw std::runtime_error(std::string("dlsym: ") + (error ? error : "null"));
  }
  auto init_fn = reinterpret_cast<packetdrill_interface_init_t>(init);
  init_fn(flags, &ifc_);
  timeval tv{};
  if (ifc_.gettimeofday(ifc_.userdata, &tv, nullptr) != 0) {
    throw std::runtime_error("gettimeofday failed");
  }
  start_ = now_ = microseconds(usecs_of(tv));
}

Packetdrill::~Packetdrill() {
  close_leftovers_with_libc();
  if (BlockingCall::outstanding() == 0) {
    ifc_.free(ifc_.userdata);
  } else {
    ADD_FAILURE() << "a blocking call is still out: the host is not freed";
  }
  if (library_ != nullptr) ::dlclose(library_);
}

std::set<int> Packetdrill::open_descriptors() {
  std::lock_guard lock(open_mu_);
  return open_;
}

int Packetdrill::close_leftovers_with_libc() {
  std::lock_guard lock(open_mu_);
  int closed = 0;
  for (int fd : open_) {
    if (::close(fd) == 0) ++closed;
  }
  open_.clear();
  return closed;
}

void Packetdrill::track(int fd) {
  open_.insert(fd);
}

void Packetdrill::saw_time(long long usecs) {
  now_ = std::max(now_, microseconds(usecs));
}

void Packetdrill::at(microseconds t) {
  const microseconds target = start_ + t;
  if (target < now_) {
    ADD_FAILURE() << "script time " << t.count() << " us is in the past (now "
                  << (now_ - start_).count() << " us)";
    return;
  }
  auto left = (target - now_).count();
  while (left > 0) {
    const auto step = static_cast<useconds_t>(std::min<long long>(left, 1'000'000'000));
    EXPECT_EQ(ifc_.usleep(ifc_.userdata, step), 0);
    left -= step;
  }
  now_ = target;
}

void Packetdrill::inject_packet(const std::vector<std::uint8_t>& packet) {
  const int r = ifc_.netdev_send(ifc_.userdata, packet.data(), packet.size());
  EXPECT_EQ(r, 0) << "netdev_send: " << std::strerror(errno);
}

void Packetdrill::inject(std::string_view text, std::string_view payload) {
  const Line line = parse_line(text);
  const std::uint32_t length = line.end - line.start;
  if (!payload.empty() && payload.size() != length) {
    ADD_FAILURE() << "the payload is " << payload.size() << " bytes, the line says " << length;
    return;
  }
  if (line.ack && !local_isn_ && (line.flags & kAck)) {
    ADD_FAILURE() << "\"" << text << "\" acknowledges the stack before its SYN was seen";
  }
  const auto options = encode_options(line.options, local_isn(), 0, last_tsval_);
  if (options.size() % 4 != 0 || options.size() > 40) {
    ADD_FAILURE() << "options of " << options.size() << " bytes: pad them with nop to 4";
    return;
  }
  if (40 + options.size() + length > 65535) {
    ADD_FAILURE() << "a packet of " << 40 + options.size() + length << " bytes does not fit IPv4";
    return;
  }
  inject_packet(tcp_packet(TcpPacket{
      .src = kRemote,
      .dst = kLocal,
      .src_port = remote_port_,
      .dst_port = local_port_,
      .seq = line.start,
      .ack = (line.flags & kAck) ? *line.ack + local_isn() : 0,
      .flags = line.flags,
      .window = line.window.value_or(65535),
      .options = options,
      .payload = payload.empty() ? std::string(length, '\0') : std::string(payload),
  }));
}

std::optional<SentSegment> Packetdrill::receive() {
  std::vector<std::uint8_t> buf(70'000);
  std::size_t count = buf.size();
  long long usecs = -1;
  const int r = ifc_.netdev_receive(ifc_.userdata, buf.data(), &count, &usecs);
  if (r != 0) {
    ADD_FAILURE() << "netdev_receive returned " << r << ": " << std::strerror(errno);
    return std::nullopt;
  }
  if (count == 0) return std::nullopt;
  buf.resize(count);
  saw_time(usecs);
  SentSegment seg;
  seg.at = microseconds(usecs) - start_;
  seg.packet = std::move(buf);
  // The IPv4 header, as Linux writes it for TCP: no options, TOS 0, DF, TTL 64.
  const auto& p = seg.packet;
  EXPECT_GE(p.size(), 40u);
  if (p.size() < 40) return seg;
  EXPECT_EQ(p[0], 0x45) << "IPv4 with a 20-byte header";
  EXPECT_EQ(p[1], 0) << "TOS";
  EXPECT_EQ(be16(p.data() + 2), p.size()) << "IPv4 total length";
  EXPECT_EQ(be16(p.data() + 6), 0x4000) << "DF set, not a fragment";
  EXPECT_EQ(p[8], 64) << "TTL";
  EXPECT_EQ(p[9], 6) << "protocol TCP";
  EXPECT_EQ(checksum_fold(checksum_add(p.data(), 20)), 0) << "IPv4 header checksum";
  EXPECT_EQ(be32(p.data() + 12), kLocal) << "source address";
  EXPECT_EQ(be32(p.data() + 16), kRemote) << "destination address";
  const std::uint8_t* tcp = p.data() + 20;
  const std::size_t tcp_length = p.size() - 20;
  const std::size_t header_length = data_offset_bytes(tcp);
  EXPECT_TRUE(header_length >= 20 && header_length <= tcp_length) << "data offset";
  if (header_length < 20 || header_length > tcp_length) return seg;
  EXPECT_EQ(tcp_checksum(kLocal, kRemote, tcp, tcp_length), 0) << "TCP checksum";
  EXPECT_EQ(tcp[12] & 0x0f, 0) << "reserved bits";
  EXPECT_EQ(be16(tcp + 18), 0) << "urgent pointer";
  seg.payload.assign(tcp + header_length, tcp + tcp_length);
  seg.line = render(tcp, header_length, tcp_length - header_length, local_isn(), 0);
  if (const auto ts = tsval_of(tcp, header_length)) last_tsval_ = *ts;
  return seg;
}

std::optional<SentSegment> Packetdrill::expect(std::string_view line) {
  return expect_at(now(), line);
}

std::optional<SentSegment> Packetdrill::expect_at(microseconds t, std::string_view text) {
  const Line line = parse_line(text);
  auto seg = receive();
  if (!seg) {
    ADD_FAILURE() << "expected at " << t.count() << " us: " << text
                  << "\n  but the stack sent nothing";
    return seg;
  }
  const auto& p = seg->packet;
  if (p.size() < 40) return seg;
  const std::uint8_t* tcp = p.data() + 20;
  const std::size_t header_length = data_offset_bytes(tcp);
  if (header_length < 20 || header_length > p.size() - 20) return seg;

  // What the stack's numbers are relative to: its ISN (learned from its first SYN, as the
  // tool does) and, for an active open, the port it picked.
  if ((line.flags & kSyn) && !local_isn_) {
    local_isn_ = be32(tcp + 4) - line.start;
    if (!(line.flags & kAck)) {
      local_port_ = be16(tcp);
      remote_port_ = kPort;
    }
    seg->line = render(tcp, header_length, p.size() - 20 - header_length, local_isn(), 0);
  }
  const long long abs_usecs = absolute(seg->at);
  const auto clock_ms = static_cast<std::uint32_t>(abs_usecs / 1000);
  if (has_wild_tsval(line) && !ts_base_) {
    if (const auto ts = tsval_of(tcp, header_length)) ts_base_ = *ts - clock_ms;
  }
  const std::uint32_t wild_tsval = ts_base_.value_or(0) + clock_ms;

  // The expected header, byte for byte; its checksum taken from the one received (which
  // receive() checked), and its window too when the line leaves it open.
  const auto options = encode_options(line.options, 0, wild_tsval, 0);
  std::vector<std::uint8_t> want(20 + options.size(), 0);
  put16(want, 0, local_port_);
  put16(want, 2, remote_port_);
  put32(want, 4, line.start + local_isn());
  put32(want, 8, (line.flags & kAck) ? *line.ack : 0);
  want[12] = static_cast<std::uint8_t>(want.size() / 4 << 4);
  want[13] = line.flags;
  put16(want, 14, line.window ? *line.window : be16(tcp + 14));
  put16(want, 16, be16(tcp + 16));
  std::copy(options.begin(), options.end(), want.begin() + 20);
  const std::uint32_t want_payload = line.end - line.start;
  const std::size_t got_payload = p.size() - 20 - header_length;

  const bool same = header_length == want.size() && std::equal(want.begin(), want.end(), tcp) &&
                    got_payload == want_payload;
  EXPECT_TRUE(same) << "at " << t.count() << " us\n  expected: "
                    << render(want.data(), want.size(), want_payload, local_isn(), 0)
                    << "\n  received: " << seg->line
                    << "\n  expected header: " << hex(want.data(), want.size())
                    << "\n  received header: " << hex(tcp, header_length);
  EXPECT_EQ(seg->at, t) << "sent at " << seg->at.count() << " us, expected at " << t.count()
                        << " us: " << seg->line;
  return seg;
}

void Packetdrill::expect_nothing() {
  std::vector<std::uint8_t> buf(70'000);
  std::size_t count = buf.size();
  long long usecs = -1;
  const int r = ifc_.netdev_receive(ifc_.userdata, buf.data(), &count, &usecs);
  EXPECT_EQ(r, 0) << std::strerror(errno);
  EXPECT_EQ(count, 0u) << "the stack sent "
                       << (count >= 40 ? render(buf.data() + 20, data_offset_bytes(buf.data() + 20),
                                                count - 20 - data_offset_bytes(buf.data() + 20),
                                                local_isn(), 0)
                                       : std::string("a short packet"));
  timeval tv{};
  EXPECT_EQ(ifc_.gettimeofday(ifc_.userdata, &tv, nullptr), 0);
  now_ = microseconds(usecs_of(tv));
}

// --- Calls -------------------------------------------------------------------------------

namespace {
// Runs a call and keeps its errno past the driver's own bookkeeping.
template <class F>
auto keeping_errno(F&& f) {
  const auto r = f();
  return std::pair{r, errno};
}
}  // namespace

int Packetdrill::socket(int domain, int type, int protocol) {
  auto [r, e] = keeping_errno([&] { return ifc_.socket(ifc_.userdata, domain, type, protocol); });
  if (r >= 0) track(r);
  errno = e;
  return r;
}

socklen_t Packetdrill::address_length() const {
  return mode_ == Mode::ipv4 ? socklen_t{sizeof(sockaddr_in)} : socklen_t{sizeof(sockaddr_in6)};
}

sockaddr_storage Packetdrill::address(std::uint32_t ipv4, std::uint16_t port) const {
  sockaddr_storage ss{};
  if (mode_ == Mode::ipv4) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(ipv4);
    std::memcpy(&ss, &sin, sizeof sin);
  } else {
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(port);
    sin6.sin6_addr.s6_addr[10] = 0xff;
    sin6.sin6_addr.s6_addr[11] = 0xff;
    sin6.sin6_addr.s6_addr[12] = static_cast<std::uint8_t>(ipv4 >> 24);
    sin6.sin6_addr.s6_addr[13] = static_cast<std::uint8_t>(ipv4 >> 16);
    sin6.sin6_addr.s6_addr[14] = static_cast<std::uint8_t>(ipv4 >> 8);
    sin6.sin6_addr.s6_addr[15] = static_cast<std::uint8_t>(ipv4);
    std::memcpy(&ss, &sin6, sizeof sin6);
  }
  return ss;
}

int Packetdrill::bind(int fd) {
  const auto a = address(kLocal, kPort);
  return ifc_.bind(ifc_.userdata, fd, reinterpret_cast<const sockaddr*>(&a), address_length());
}

int Packetdrill::listen(int fd, int backlog) {
  return ifc_.listen(ifc_.userdata, fd, backlog);
}

int Packetdrill::accept(int fd, sockaddr* addr, socklen_t* len) {
  auto [r, e] = keeping_errno([&] { return ifc_.accept(ifc_.userdata, fd, addr, len); });
  if (r >= 0) track(r);
  errno = e;
  return r;
}

int Packetdrill::connect(int fd) {
  const auto a = address(kRemote, kPort);
  return ifc_.connect(ifc_.userdata, fd, reinterpret_cast<const sockaddr*>(&a), address_length());
}

ssize_t Packetdrill::read(int fd, void* buf, std::size_t count) {
  return ifc_.read(ifc_.userdata, fd, buf, count);
}

ssize_t Packetdrill::write(int fd, const void* buf, std::size_t count) {
  return ifc_.write(ifc_.userdata, fd, buf, count);
}

int Packetdrill::shutdown(int fd, int how) {
  return ifc_.shutdown(ifc_.userdata, fd, how);
}

int Packetdrill::close(int fd) {
  auto [r, e] = keeping_errno([&] { return ifc_.close(ifc_.userdata, fd); });
  if (r == 0) {
    std::lock_guard lock(open_mu_);
    open_.erase(fd);
  }
  errno = e;
  return r;
}

int Packetdrill::set_int_option(int fd, int level, int name, int value) {
  return ifc_.setsockopt(ifc_.userdata, fd, level, name, &value, socklen_t{sizeof value});
}

int Packetdrill::get_int_option(int fd, int level, int name, int* value) {
  socklen_t len = sizeof *value;
  const int r = ifc_.getsockopt(ifc_.userdata, fd, level, name, value, &len);
  const int e = errno;
  if (r == 0) {
    EXPECT_EQ(len, socklen_t{sizeof *value});
  }
  errno = e;
  return r;
}

int Packetdrill::fcntl(int fd, int cmd) {
  return ifc_.fcntl(ifc_.userdata, fd, cmd);
}
int Packetdrill::fcntl(int fd, int cmd, int arg) {
  return ifc_.fcntl(ifc_.userdata, fd, cmd, arg);
}

int Packetdrill::poll(pollfd* fds, nfds_t n, int timeout_ms) {
  return ifc_.poll(ifc_.userdata, fds, n, timeout_ms);
}

}  // namespace synack::testing
