// The host behind a synack_host: the packet queue, the virtual clock's movements, the
// descriptor table and the waiting of blocking calls.
#include "capi/host.hpp"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

#include "tcp/config.hpp"

namespace synack::capi {
namespace {

StackConfig stack_config(const HostFlags& flags) {
  StackConfig c;
  c.address = flags.local;
  c.secret[0] = flags.secret[0];
  c.secret[1] = flags.secret[1];
  c.max_sockets = flags.max_sockets;
  c.max_buffer_memory = flags.max_buffer_memory;
  return c;
}

// The longest IPv4 packet: the queue takes unsegmented packets of any legal size.
constexpr std::size_t kMaxPacket = 65535;

// What names one open eventfd: "eventfd" followed by the kernel's eventfd-id from
// /proc/self/fdinfo (Linux 6.3 and later give every eventfd its own), or "" when the
// descriptor is not an open eventfd or /proc cannot say.
std::string eventfd_identity(int fd) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  char target[64];
  const ssize_t n = ::readlink(path, target, sizeof target - 1);
  if (n < 0) return {};
  target[n] = '\0';
  if (std::strcmp(target, "anon_inode:[eventfd]") != 0) return {};
  std::string identity = "eventfd";
  std::snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
  const int info = ::open(path, O_RDONLY | O_CLOEXEC);
  if (info < 0) return identity;
  char text[512];
  const ssize_t got = ::read(info, text, sizeof text - 1);
  ::close(info);
  if (got <= 0) return identity;
  text[got] = '\0';
  if (const char* id = std::strstr(text, "eventfd-id:")) {
    const char* end = std::strchr(id, '\n');
    identity.append(id + 11, end ? end : text + got);
  }
  return identity;
}

bool kernel_has(int fd) {
  return fd >= 0 && ::fcntl(fd, F_GETFD) >= 0;
}

}  // namespace

// --- PacketQueue -----------------------------------------------------------------------------

void PacketQueue::send(wire::Bytes frame, Instant now) {
  sent_.push_back({now, std::vector<std::uint8_t>(frame.begin(), frame.end())});
}

std::size_t PacketQueue::receive(Instant now, link::FrameSink& sink, std::size_t budget) {
  std::size_t n = 0;
  while (n < budget && !inbound_.empty()) {
    const std::vector<std::uint8_t> frame = std::move(inbound_.front());
    inbound_.pop_front();
    sink.on_frame(frame, now);
    ++n;
  }
  return n;
}

void PacketQueue::inject(wire::Bytes frame) {
  inbound_.emplace_back(frame.begin(), frame.end());
}

std::optional<PacketQueue::Packet> PacketQueue::take_sent() {
  if (sent_.empty()) return std::nullopt;
  Packet p = std::move(sent_.front());
  sent_.pop_front();
  return p;
}

// --- Host ------------------------------------------------------------------------------------

Host::Host(const HostFlags& flags) : link_(flags.mtu), stack_(link_, clock_, stack_config(flags)) {
  tcp::Config& tcp = stack_.tcp_defaults();
  tcp.window_scaling = flags.window_scaling;
  tcp.sack = flags.sack;
  tcp.timestamps = flags.timestamps;
  tcp.mss = static_cast<std::uint16_t>(std::min<std::size_t>(flags.mtu - 40, 0xffff));
}

Host::~Host() {
  // Residual risk: on a kernel that names no eventfd-id, an eventfd the C library closed
  // and someone else opened again under the same number looks like ours, and is closed.
  for (const auto& [fd, d] : table_) {
    if (still_ours(fd)) ::close(fd);
  }
}

bool Host::still_ours(int fd) const {
  const auto it = identities_.find(fd);
  if (it == identities_.end() || it->second.empty()) return kernel_has(fd);
  return eventfd_identity(fd) == it->second;
}

Descriptor* Host::find(int fd) {
  const auto it = table_.find(fd);
  return it == table_.end() ? nullptr : &it->second;
}

int Host::fail_unknown(int fd) const {
  errno = kernel_has(fd) ? ENOTSOCK : EBADF;
  return -1;
}

void Host::release(Descriptor& d) {
  if (d.kind != Descriptor::Kind::epoll && d.socket >= 0) stack_.close(d.socket);
  d.socket = -1;
}

int Host::add(Descriptor d) {
  const int fd = ::eventfd(0, EFD_NONBLOCK | (d.cloexec ? EFD_CLOEXEC : 0));
  if (fd < 0) return -1;
  if (const auto stale = table_.find(fd); stale != table_.end()) {
    // The C library's close() released this number behind our back and the kernel gave
    // it out again: what it stood for is gone for good.
    release(stale->second);
    table_.erase(stale);
    for (auto& [number, other] : table_) other.interests.erase(fd);
    run();
  }
  d.kernel_fd = fd;
  d.serial = ++next_serial_;
  table_.emplace(fd, std::move(d));
  identities_[fd] = eventfd_identity(fd);
  return fd;
}

void Host::remove(int fd) {
  if (table_.erase(fd) == 0) return;
  for (auto& [number, other] : table_) other.interests.erase(fd);
  if (still_ours(fd)) ::close(fd);
  identities_.erase(fd);
  notify();
}

// --- Time ------------------------------------------------------------------------------------

void Host::run() {
  stack_.poll(clock_.now());
  notify();
}

std::optional<Instant> Host::next_deadline() const {
  return stack_.next_deadline();
}

void Host::advance_to(Instant t) {
  t = std::max(t, clock_.now());
  // A deadline the wheel names may be early (never late): stepping to it fires nothing
  // and names the next. One that stays at the present after a poll would loop for ever:
  // stop there, as nothing more can happen at this instant.
  bool polled_now = false;
  for (;;) {
    const auto next = stack_.next_deadline();
    if (!next || *next > t) break;
    if (*next > clock_.now()) {
      clock_.set(*next);
      polled_now = false;
    } else if (polled_now) {
      break;
    }
    run();
    polled_now = true;
  }
  clock_.set(t);
  run();
}

bool Host::wait_until(std::unique_lock<std::mutex>& lock, std::optional<Instant> deadline,
                      const std::function<bool()>& ready) {
  for (;;) {
    if (ready()) return true;
    if (deadline && clock_.now() >= *deadline) return false;
    changed_.wait(lock);
  }
}

// --- The wire and the clock --------------------------------------------------------------------

int Host::netdev_send(const void* buf, std::size_t count) {
  if (count == 0 || count > kMaxPacket) {
    errno = EINVAL;
    return -1;
  }
  if (!buf) {
    errno = EFAULT;
    return -1;
  }
  auto held = lock();
  link_.inject(wire::Bytes(static_cast<const std::uint8_t*>(buf), count));
  run();
  return 0;
}

int Host::netdev_receive(void* buf, std::size_t* count, long long* time_usecs) {
  if (!count || (!buf && *count > 0)) {
    errno = EFAULT;
    return -1;
  }
  auto held = lock();
  const Instant limit = clock_.now() + receive_limit;
  bool polled_now = false;
  for (;;) {
    if (auto packet = link_.take_sent()) {
      const std::size_t length = packet->bytes.size();
      if (length > *count) ++truncated_;
      *count = std::min(*count, length);
      if (*count > 0) std::memcpy(buf, packet->bytes.data(), *count);
      if (time_usecs) {
        *time_usecs = epoch_usecs + std::chrono::duration_cast<std::chrono::microseconds>(
                                        packet->sent.time_since_epoch())
                                        .count();
      }
      return 0;
    }
    // Nothing waiting: on to the next timer, if one falls within the limit. Time stays
    // where the last timer left it when none does (the caller's clock is not ours to jump).
    const auto next = stack_.next_deadline();
    if (!next || *next > limit || (*next <= clock_.now() && polled_now)) {
      *count = 0;
      return 0;
    }
    if (*next > clock_.now()) {
      clock_.set(*next);
      polled_now = false;
    }
    run();
    polled_now = true;
    // Let a thread that run() woke take the lock before time moves on.
    held.unlock();
    std::this_thread::yield();
    held.lock();
  }
}

void Host::usleep(std::uint64_t usecs) {
  auto held = lock();
  advance_to(clock_.now() + microseconds(static_cast<std::int64_t>(usecs)));
}

std::int64_t Host::gettimeofday_usecs() {
  auto held = lock();
  advance_to(clock_.now() + microseconds(1));
  return epoch_usecs +
         std::chrono::duration_cast<std::chrono::microseconds>(clock_.now().time_since_epoch())
             .count();
}

}  // namespace synack::capi
