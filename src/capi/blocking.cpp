#include "capi/blocking.hpp"

#include <cerrno>

#include "tcp/state.hpp"

namespace synack::capi {

std::optional<Instant> deadline_after(const Host& host, std::optional<Duration> timeout) {
  if (!timeout) return std::nullopt;
  return host.now() + *timeout;
}

bool sleep_until(Host& host, std::unique_lock<std::mutex>& lock, int fd, std::uint64_t serial,
                 std::optional<Instant> deadline, const std::function<bool()>& ready) {
  // The call found nothing ready just now: only a change can make it so. Waiting for one
  // also keeps a predicate that disagrees with the call it guards from spinning.
  const std::uint64_t seen = host.changes();
  return host.wait_until(lock, deadline, [&] {
    const Descriptor* d = host.find(fd);
    if (!d || d->serial != serial) return true;
    return host.changes() != seen && ready();
  });
}

Descriptor* still_open(Host& host, int fd, std::uint64_t serial) {
  Descriptor* d = host.find(fd);
  if (d && d->serial == serial) return d;
  errno = EBADF;
  return nullptr;
}

bool can_read(Host& host, const Descriptor& d) {
  const Readiness r = host.stack().readiness(d.socket);
  return r.readable || r.error || r.hangup || d.shut_read;
}

bool can_write(Host& host, const Descriptor& d) {
  const Readiness r = host.stack().readiness(d.socket);
  return r.writable || r.error || r.hangup;
}

bool handshake_over(Host& host, const Descriptor& d) {
  const tcp::State s = host.stack().tcp_state(d.socket);
  return s != tcp::State::SynSent && s != tcp::State::SynReceived;
}

}  // namespace synack::capi
