// poll and epoll over a host's descriptors. Each descriptor's readiness is the mask Linux's
// tcp_poll (or udp_poll) would give it, worked out from the stack's Readiness and the TCP
// state; tests/unit/capi_poll_test.cpp holds it against the kernel's, state by state.
// Waiting is in the host's virtual time (Host::wait_until).
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>

#include <climits>
#include <cstdint>
#include <optional>

#include "capi/call.hpp"
#include "capi/fail.hpp"
#include "capi/host.hpp"
#include "stack/counters.hpp"
#include "tcp/state.hpp"

namespace synack::capi {
namespace {

using tcp::State;

constexpr std::uint32_t kIn = POLLIN | POLLRDNORM;
constexpr std::uint32_t kOut = POLLOUT | POLLWRNORM;
// EP_MAX_NESTS: how deep epoll instances may watch one another.
constexpr int kMaxNesting = 4;

bool kernel_has(int fd) {
  pollfd p{fd, 0, 0};
  return ::poll(&p, 1, 0) >= 0 && !(p.revents & POLLNVAL);
}

std::uint32_t mask_of(Host& host, const Descriptor& d, int depth);

// tcp_poll (net/ipv4/tcp.c).
std::uint32_t tcp_mask(Stack& stack, const Descriptor& d) {
  const State state = stack.tcp_state(d.socket);
  const Readiness r = stack.readiness(d.socket);
  // inet_csk_listen_poll: readable when accept() has a connection.
  if (d.listening || state == State::Listen) return r.readable ? kIn : 0;
  // Before connect(): TCP_CLOSE with nothing shut down, which tcp_poll reports as hung up
  // and writable.
  if (state == State::Closed && !r.readable) return kOut | POLLHUP;
  Stack::Queued queued;
  stack.queued(d.socket, queued);
  // sk_shutdown, as the states imply it: RCV_SHUTDOWN once the peer's FIN is in (or the
  // connection is over, which sets both), SEND_SHUTDOWN once ours is queued.
  bool read_shut = state == State::CloseWait || state == State::LastAck ||
                   state == State::Closing || state == State::TimeWait || state == State::Closed;
  const bool write_shut = state == State::FinWait1 || state == State::FinWait2 ||
                          state == State::Closing || state == State::LastAck ||
                          state == State::TimeWait || state == State::Closed;
  // shutdown(SHUT_RD) leaves the state alone: it shows as end of stream with no FIN.
  if ((state == State::Established || state == State::FinWait1 || state == State::FinWait2) &&
      r.readable && !r.error && queued.readable == 0) {
    read_shut = true;
  }
  std::uint32_t mask = 0;
  if ((read_shut && write_shut) || state == State::Closed) mask |= POLLHUP;
  if (read_shut) mask |= kIn | POLLRDHUP;
  if (state != State::SynSent && state != State::SynReceived) {
    if (queued.readable > 0) mask |= kIn;
    if (write_shut || r.writable) mask |= kOut;
  }
  if (r.error) mask |= POLLERR;
  return mask;
}

// udp_poll / datagram_poll (net/ipv4/udp.c, net/core/datagram.c): always writable.
std::uint32_t udp_mask(Stack& stack, const Descriptor& d) {
  const Readiness r = stack.readiness(d.socket);
  Stack::Queued queued;
  stack.queued(d.socket, queued);
  std::uint32_t mask = kOut;
  // Readable means a datagram waits; an error alone makes the socket readable to the stack
  // (a read collects it) but not to datagram_poll. (A zero-length datagram waiting behind
  // an error is the one case this misses.)
  if (r.readable && (!r.error || queued.readable > 0)) mask |= kIn;
  if (r.error) mask |= POLLERR;
  // shutdown() marks the socket even when unconnected (inet_shutdown).
  if (d.shut_read) mask |= kIn | POLLRDHUP;
  if (d.shut_read && d.shut_write) mask |= POLLHUP;
  return mask;
}

std::uint64_t arrivals(Host& host) {
  return host.stack().counters().ip.in_receives;
}

// The events (with EPOLLERR and EPOLLHUP, always watched) the watched descriptor has now.
std::uint32_t watched_ready(Host& host, int fd, const EpollInterest& interest, int depth) {
  const Descriptor* target = host.find(fd);
  if (!target) return 0;
  return mask_of(host, *target, depth + 1) & (interest.events | EPOLLERR | EPOLLHUP);
}

// What an interest reports, given what is ready: nothing once EPOLLONESHOT has fired, and
// under EPOLLET nothing unless a new edge came since the last report.
std::uint32_t due(Host& host, const EpollInterest& interest, std::uint32_t ready) {
  if (interest.disabled || !ready || !(interest.events & EPOLLET)) {
    return interest.disabled ? 0 : ready;
  }
  // Edge: a bit it did not have at the last report, or a packet since (which may have
  // been more data for a socket still readable: Linux wakes for it).
  const bool edge = (ready & ~interest.reported) || arrivals(host) != interest.arrivals;
  return edge ? ready : 0;
}

// ep_eventpoll_poll: an epoll instance is readable when epoll_wait would report something.
std::uint32_t epoll_mask(Host& host, const Descriptor& ep, int depth) {
  if (depth > kMaxNesting) return 0;
  for (const auto& [fd, interest] : ep.interests) {
    if (due(host, interest, watched_ready(host, fd, interest, depth))) return kIn;
  }
  return 0;
}

std::uint32_t mask_of(Host& host, const Descriptor& d, int depth) {
  switch (d.kind) {
    case Descriptor::Kind::tcp:
      return tcp_mask(host.stack(), d);
    case Descriptor::Kind::udp:
      return udp_mask(host.stack(), d);
    case Descriptor::Kind::epoll:
      return epoll_mask(host, d, depth);
  }
  return 0;
}

// Whether epoll instance `from` watches `to`, directly or through others.
bool watches(Host& host, const Descriptor& from, int to, int depth) {
  if (depth > kMaxNesting) return true;  // too deep counts as a loop, as ELOOP does
  for (const auto& [fd, interest] : from.interests) {
    if (fd == to) return true;
    const Descriptor* inner = host.find(fd);
    if (inner && inner->kind == Descriptor::Kind::epoll && watches(host, *inner, to, depth + 1))
      return true;
  }
  return false;
}

std::optional<Instant> deadline_after(Host& host, int timeout_ms) {
  if (timeout_ms < 0) return std::nullopt;
  return host.now() + milliseconds(timeout_ms);
}

// Fills revents for every entry; returns how many have any.
int scan(Host& host, pollfd* fds, nfds_t nfds) {
  int ready = 0;
  for (nfds_t i = 0; i < nfds; ++i) {
    pollfd& p = fds[i];
    p.revents = 0;
    if (p.fd < 0) continue;  // ignored, as poll(2) says
    const std::uint32_t watched =
        static_cast<std::uint32_t>(static_cast<std::uint16_t>(p.events)) | POLLERR | POLLHUP;
    if (const Descriptor* d = host.find(p.fd)) {
      p.revents = static_cast<short>(mask_of(host, *d, 0) & watched);
    } else {
      // The kernel's own descriptors (a pipe for splice) are asked as they are now: a wait
      // wakes for the host's changes and its clock, not for theirs.
      pollfd k{p.fd, p.events, 0};
      if (::poll(&k, 1, 0) >= 0) p.revents = k.revents;
    }
    if (p.revents) ++ready;
  }
  return ready;
}

}  // namespace

int poll(Host& host, pollfd* fds, nfds_t nfds, int timeout_ms) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && nfds > limit.rlim_cur) return fail_with(EINVAL);
  if (!fds && nfds > 0) return fail_with(EFAULT);
  auto held = host.lock();
  int ready = 0;
  host.wait_until(held, deadline_after(host, timeout_ms), [&] {
    ready = scan(host, fds, nfds);
    return ready > 0;
  });
  return ready;
}

int epoll_create(Host& host, int size) {
  if (size <= 0) return fail_with(EINVAL);
  auto held = host.lock();
  Descriptor d;
  d.kind = Descriptor::Kind::epoll;
  return host.add(std::move(d));
}

int epoll_ctl(Host& host, int epfd, int op, int fd, epoll_event* event) {
  if (op != EPOLL_CTL_DEL && !event) return fail_with(EFAULT);
  auto held = host.lock();
  Descriptor* ep = host.find(epfd);
  if (!ep && !kernel_has(epfd)) return fail_with(EBADF);
  Descriptor* target = host.find(fd);
  if (!target) {
    // A kernel descriptor: Linux would watch a pipe, but a host's wait cannot wake for it;
    // EPERM is Linux's answer for a descriptor epoll cannot watch.
    return fail_with(kernel_has(fd) ? EPERM : EBADF);
  }
  if (!ep || ep->kind != Descriptor::Kind::epoll || epfd == fd) return fail_with(EINVAL);
  std::uint32_t events = 0;
  if (event) {
    events = event->events;
    // ep_ctl: EPOLLEXCLUSIVE only on ADD, with a few events, and not on an epoll file.
    if (events & EPOLLEXCLUSIVE) {
      constexpr std::uint32_t allowed = EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP |
                                        EPOLLET | EPOLLEXCLUSIVE | EPOLLRDNORM | EPOLLWRNORM;
      if (op == EPOLL_CTL_MOD || (events & ~allowed) || target->kind == Descriptor::Kind::epoll) {
        return fail_with(EINVAL);
      }
    }
  }
  if (target->kind == Descriptor::Kind::epoll && op == EPOLL_CTL_ADD &&
      watches(host, *target, epfd, 1)) {
    return fail_with(ELOOP);
  }
  auto it = ep->interests.find(fd);
  switch (op) {
    case EPOLL_CTL_ADD:
      if (it != ep->interests.end()) return fail_with(EEXIST);
      ep->interests.emplace(fd, EpollInterest{.events = events, .data = event->data.u64});
      break;
    case EPOLL_CTL_MOD:
      if (it == ep->interests.end()) return fail_with(ENOENT);
      // EPOLLEXCLUSIVE stays as ADD set it, and cannot be asked for by MOD.
      if (it->second.events & EPOLLEXCLUSIVE) return fail_with(EINVAL);
      it->second = EpollInterest{.events = events, .data = event->data.u64};
      break;
    case EPOLL_CTL_DEL:
      if (it == ep->interests.end()) return fail_with(ENOENT);
      ep->interests.erase(it);
      break;
    default:
      return fail_with(EINVAL);
  }
  host.notify();  // a waiter may now have something to report
  return 0;
}

int epoll_wait(Host& host, int epfd, epoll_event* events, int maxevents, int timeout_ms) {
  if (maxevents <= 0 || maxevents > INT_MAX / static_cast<int>(sizeof(epoll_event)))
    return fail_with(EINVAL);
  if (!events) return fail_with(EFAULT);
  auto held = host.lock();
  const Descriptor* found = host.find(epfd);
  if (!found) return fail_with(kernel_has(epfd) ? EINVAL : EBADF);
  if (found->kind != Descriptor::Kind::epoll) return fail_with(EINVAL);
  const std::uint64_t serial = found->serial;
  int n = 0;
  host.wait_until(held, deadline_after(host, timeout_ms), [&] {
    // The instance may have been closed by another thread while this one waited.
    Descriptor* ep = host.find(epfd);
    if (!ep || ep->serial != serial) return true;
    const std::uint64_t now_arrived = arrivals(host);
    // Round robin: start after the last descriptor reported, so that with maxevents
    // smaller than what is ready, each ready descriptor gets its turn.
    auto it = ep->interests.upper_bound(ep->last_reported);
    for (std::size_t seen = 0; seen < ep->interests.size() && n < maxevents; ++seen) {
      if (it == ep->interests.end()) it = ep->interests.begin();
      const int fd = it->first;
      EpollInterest& interest = it->second;
      const std::uint32_t now_ready = watched_ready(host, fd, interest, 0);
      const std::uint32_t ready = due(host, interest, now_ready);
      // An edge is a bit gained since the last report: forget the bits lost since.
      interest.reported &= now_ready;
      if (ready) {
        events[n].events = ready;
        events[n].data.u64 = interest.data;
        ++n;
        ep->last_reported = fd;
        interest.reported = ready;
        interest.arrivals = now_arrived;
        if (interest.events & EPOLLONESHOT) interest.disabled = true;
      }
      ++it;
    }
    return n > 0;
  });
  return n;
}

}  // namespace synack::capi

// --- The C calls -------------------------------------------------------------------------------

extern "C" {

int synack_poll(synack_host* h, struct pollfd* fds, nfds_t nfds, int timeout_ms) {
  synack::capi::Host* host = synack::capi::host_of(h);
  return host ? synack::capi::poll(*host, fds, nfds, timeout_ms) : -1;
}

int synack_epoll_create(synack_host* h, int size) {
  synack::capi::Host* host = synack::capi::host_of(h);
  return host ? synack::capi::epoll_create(*host, size) : -1;
}

int synack_epoll_ctl(synack_host* h, int epfd, int op, int fd, struct epoll_event* event) {
  synack::capi::Host* host = synack::capi::host_of(h);
  return host ? synack::capi::epoll_ctl(*host, epfd, op, fd, event) : -1;
}

int synack_epoll_wait(synack_host* h, int epfd, struct epoll_event* events, int maxevents,
                      int timeout_ms) {
  synack::capi::Host* host = synack::capi::host_of(h);
  return host ? synack::capi::epoll_wait(*host, epfd, events, maxevents, timeout_ms) : -1;
}

}  // extern "C"
