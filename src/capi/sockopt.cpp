// getsockopt / setsockopt with the host's option numbers and Linux's rules for values and
// lengths (net/core/sock.c sk_setsockopt/sk_getsockopt, net/ipv4/tcp.c do_tcp_*sockopt,
// net/ipv4/ip_sockglue.c for any other level), checked against the kernel by
// tests/unit/capi_sockopt_test.cpp.
//
// Where the stack keeps the value it is the truth; what Linux reports and the stack has no
// use for (the doubled buffer sizes, l_linger while lingering is off, TCP_MAXSEG before a
// connection) is kept in the descriptor's ReportedOptions.
//
// Buffer sizes: Linux doubles what SO_RCVBUF/SO_SNDBUF ask (overhead of its sk_buffs) and
// reports the doubled size; its TCP then advertises about half of that (tcp_adv_win_scale,
// the scaling ratio's starting 50%), so the window is what the application asked for. The
// stack has no such overhead, so it gets the size asked (half the reported value) and
// advertises all of it: the same window on the wire, the same number from getsockopt.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstring>

#include "capi/call.hpp"
#include "capi/fail.hpp"
#include "capi/host.hpp"
#include "synack/synack.h"
#include "tcp/config.hpp"
#include "tcp/state.hpp"

namespace synack::capi {
namespace {

// Linux's limits, for a host whose sysctls are the defaults.
constexpr int kBufferMax = 212992;       // net.core.rmem_max and wmem_max
constexpr int kMinReceiveBuffer = 2304;  // SOCK_MIN_RCVBUF: 2048 + an aligned sk_buff
constexpr int kMinSendBuffer = 4608;     // SOCK_MIN_SNDBUF: twice that
constexpr int kUdpBuffer = 212992;       // net.core.rmem_default and wmem_default
constexpr int kDefaultMss = 536;         // TCP_MSS_DEFAULT: the MSS before a connection
constexpr int kMinMss = 88;              // TCP_MIN_MSS
constexpr int kMaxMss = 32767;           // MAX_TCP_WINDOW
constexpr int kMaxKeepIdle = 32767;      // MAX_TCP_KEEPIDLE
constexpr int kMaxKeepInterval = 32767;  // MAX_TCP_KEEPINTVL
constexpr int kMaxKeepCount = 127;       // MAX_TCP_KEEPCNT
// A timeout past this many seconds is for ever (the stack's nanoseconds end near 292 years;
// Linux's own "for ever" starts at MAX_SCHEDULE_TIMEOUT jiffies).
constexpr std::int64_t kForeverSeconds = std::int64_t{1} << 32;

static_assert(sizeof(timeval) == 16, "SO_RCVTIMEO takes a 64-bit struct timeval");
static_assert(sizeof(linger) == 8);

bool is_tcp(const Descriptor& d) {
  return d.kind == Descriptor::Kind::tcp;
}

// A TCP socket with no connection yet (nor a listener): Linux's TCP_CLOSE before connect().
bool unconnected(Host& host, const Descriptor& d) {
  Stack& stack = host.stack();
  return stack.tcp_state(d.socket) == tcp::State::Closed && !stack.readiness(d.socket).readable;
}

bool listening(Host& host, const Descriptor& d) {
  return d.listening || (is_tcp(d) && host.stack().tcp_state(d.socket) == tcp::State::Listen);
}

// --- setsockopt --------------------------------------------------------------------------------

int set_stack(Host& host, const Descriptor& d, Option opt, int value) {
  if (auto ec = host.stack().setsockopt(d.socket, opt, value)) return fail_with(errno_from(ec));
  host.run();
  return 0;
}

// SO_RCVBUF / SO_SNDBUF: __sock_set_rcvbuf / __sock_set_sndbuf.
int set_buffer(Host& host, Descriptor& d, bool receive, int value) {
  // min_t(u32, val, max): a negative value is a huge one, capped like any other.
  const std::uint32_t asked =
      std::min<std::uint32_t>(static_cast<std::uint32_t>(value), kBufferMax);
  const int reported =
      std::max(static_cast<int>(asked) * 2, receive ? kMinReceiveBuffer : kMinSendBuffer);
  (receive ? d.options.receive_buffer : d.options.send_buffer) = reported;
  if (!is_tcp(d)) return 0;  // the stack's UDP queue is the host's, as rmem_default would be
  // The stack sizes its buffers (and so its window scale) when the connection is made and
  // refuses a change after: Linux takes it, and so do we, reporting the new size while the
  // connection keeps its buffer.
  if (!unconnected(host, d) && !listening(host, d)) return 0;
  return set_stack(host, d, receive ? Option::receive_buffer : Option::send_buffer, reported / 2);
}

int set_linger(Host& host, Descriptor& d, const void* value, socklen_t len) {
  if (len < sizeof(linger)) return fail_with(EINVAL);
  linger l;
  std::memcpy(&l, value, sizeof l);
  if (!l.l_onoff) return set_stack(host, d, Option::linger, -1);
  // A negative l_linger is an unsigned one on Linux: longer than anyone waits.
  const int seconds = l.l_linger < 0 ? INT_MAX : l.l_linger;
  d.options.linger_seconds = seconds;
  return set_stack(host, d, Option::linger, seconds);
}

// SO_RCVTIMEO / SO_SNDTIMEO: sock_set_timeout.
int set_timeout(std::optional<Duration>& timeout, const void* value, socklen_t len) {
  if (len < sizeof(timeval)) return fail_with(EINVAL);
  timeval tv;
  std::memcpy(&tv, value, sizeof tv);
  if (tv.tv_usec < 0 || tv.tv_usec >= 1'000'000) return fail_with(EDOM);
  if (tv.tv_sec < 0) {
    timeout = Duration::zero();  // Linux: a zero timeout, which gives up at once
  } else if ((tv.tv_sec == 0 && tv.tv_usec == 0) || tv.tv_sec >= kForeverSeconds) {
    timeout.reset();
  } else {
    timeout = seconds(tv.tv_sec) + microseconds(tv.tv_usec);
  }
  return 0;
}

int set_socket_level(Host& host, Descriptor& d, int name, const void* value, socklen_t len) {
  // sk_setsockopt reads an int before it looks at the name.
  if (len < sizeof(int)) return fail_with(EINVAL);
  if (!value) return fail_with(EFAULT);
  int v;
  std::memcpy(&v, value, sizeof v);
  switch (name) {
    case SO_REUSEADDR:
      return set_stack(host, d, Option::reuse_addr, v != 0);
    case SO_KEEPALIVE:
      if (!is_tcp(d)) {
        d.options.keepalive = v != 0;
        return 0;
      }
      return set_stack(host, d, Option::keepalive, v != 0);
    case SO_RCVBUF:
      return set_buffer(host, d, true, v);
    case SO_SNDBUF:
      return set_buffer(host, d, false, v);
    case SO_LINGER:
      return set_linger(host, d, value, len);
    case SO_RCVTIMEO:
#ifdef SO_RCVTIMEO_NEW
    case SO_RCVTIMEO_NEW:  // the same struct on a 64-bit host
#endif
      return set_timeout(d.receive_timeout, value, len);
    case SO_SNDTIMEO:
#ifdef SO_SNDTIMEO_NEW
    case SO_SNDTIMEO_NEW:
#endif
      return set_timeout(d.send_timeout, value, len);
    default:
      // Read-only (SO_TYPE, SO_ERROR, SO_ACCEPTCONN ...) as on Linux, or not supported
      // (SO_REUSEPORT, SO_RCVBUFFORCE ...): never taken silently.
      return fail_with(ENOPROTOOPT);
  }
}

int set_tcp_level(Host& host, Descriptor& d, int name, const void* value, socklen_t len) {
  if (len < sizeof(int)) return fail_with(EINVAL);
  if (!value) return fail_with(EFAULT);
  int v;
  std::memcpy(&v, value, sizeof v);
  auto in = [&](int low, int high) { return v >= low && v <= high; };
  switch (name) {
    case TCP_NODELAY:
      return set_stack(host, d, Option::nodelay, v != 0);
    case TCP_MAXSEG:
      if (v != 0 && !in(kMinMss, kMaxMss)) return fail_with(EINVAL);
      d.options.max_segment = v;
      // Linux uses it when the connection is made: after, it is only reported.
      if (!unconnected(host, d) && !listening(host, d)) return 0;
      return set_stack(host, d, Option::max_segment, v ? v : host.stack().tcp_defaults().mss);
    case TCP_KEEPIDLE:
      if (!in(1, kMaxKeepIdle)) return fail_with(EINVAL);
      return set_stack(host, d, Option::keep_idle, v);
    case TCP_KEEPINTVL:
      if (!in(1, kMaxKeepInterval)) return fail_with(EINVAL);
      return set_stack(host, d, Option::keep_interval, v);
    case TCP_KEEPCNT:
      if (!in(1, kMaxKeepCount)) return fail_with(EINVAL);
      return set_stack(host, d, Option::keep_count, v);
    case TCP_USER_TIMEOUT:
      if (v < 0) return fail_with(EINVAL);
      return set_stack(host, d, Option::user_timeout, v);
    default:
      return fail_with(ENOPROTOOPT);  // TCP_CORK, TCP_CONGESTION, TCP_MD5SIG ...
  }
}

// --- getsockopt --------------------------------------------------------------------------------

// What one option reads as: up to 16 bytes, of which `length` are the value.
struct Value {
  unsigned char bytes[16] = {};
  socklen_t length = 0;

  static Value of_int(int v) {
    Value out;
    std::memcpy(out.bytes, &v, sizeof v);
    out.length = sizeof v;
    return out;
  }
  template <typename T>
  static Value of(const T& v) {
    static_assert(sizeof(T) <= sizeof(bytes));
    Value out;
    std::memcpy(out.bytes, &v, sizeof v);
    out.length = sizeof v;
    return out;
  }
};

int get_stack(Host& host, const Descriptor& d, Option opt, Value& out) {
  int v = 0;
  if (auto ec = host.stack().getsockopt(d.socket, opt, v)) return fail_with(errno_from(ec));
  out = Value::of_int(v);
  return 0;
}

timeval timeval_of(const std::optional<Duration>& timeout) {
  timeval tv{};
  if (!timeout) return tv;  // for ever reads as zero
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(*timeout).count();
  tv.tv_sec = us / 1'000'000;
  tv.tv_usec = us % 1'000'000;
  return tv;
}

int get_socket_level(Host& host, const Descriptor& d, int name, Value& out) {
  Stack& stack = host.stack();
  switch (name) {
    case SO_TYPE:
      out = Value::of_int(is_tcp(d) ? SOCK_STREAM : SOCK_DGRAM);
      return 0;
    case SO_DOMAIN:
      out = Value::of_int(d.domain);
      return 0;
    case SO_PROTOCOL:
      out = Value::of_int(is_tcp(d) ? IPPROTO_TCP : IPPROTO_UDP);
      return 0;
    case SO_ACCEPTCONN:
      out = Value::of_int(listening(host, d));
      return 0;
    case SO_ERROR:
      out = Value::of_int(errno_from(stack.socket_error(d.socket)));
      host.run();  // the error read may change readiness (POLLERR)
      return 0;
    case SO_REUSEADDR:
      return get_stack(host, d, Option::reuse_addr, out);
    case SO_KEEPALIVE:
      if (!is_tcp(d)) {
        out = Value::of_int(d.options.keepalive);
        return 0;
      }
      return get_stack(host, d, Option::keepalive, out);
    case SO_RCVBUF:
    case SO_SNDBUF: {
      const bool receive = name == SO_RCVBUF;
      const int set = receive ? d.options.receive_buffer : d.options.send_buffer;
      if (set) {
        out = Value::of_int(set);
      } else if (!is_tcp(d)) {
        out = Value::of_int(kUdpBuffer);
      } else {
        // Not set here (a default, or inherited from a listener): twice what the stack holds.
        if (get_stack(host, d, receive ? Option::receive_buffer : Option::send_buffer, out) < 0)
          return -1;
        int held;
        std::memcpy(&held, out.bytes, sizeof held);
        out = Value::of_int(held > INT_MAX / 2 ? INT_MAX : held * 2);
      }
      return 0;
    }
    case SO_LINGER: {
      Value seconds;
      if (get_stack(host, d, Option::linger, seconds) < 0) return -1;
      int held;
      std::memcpy(&held, seconds.bytes, sizeof held);
      const linger l{held >= 0 ? 1 : 0, held >= 0 ? held : d.options.linger_seconds};
      out = Value::of(l);
      return 0;
    }
    case SO_RCVTIMEO:
#ifdef SO_RCVTIMEO_NEW
    case SO_RCVTIMEO_NEW:
#endif
      out = Value::of(timeval_of(d.receive_timeout));
      return 0;
    case SO_SNDTIMEO:
#ifdef SO_SNDTIMEO_NEW
    case SO_SNDTIMEO_NEW:
#endif
      out = Value::of(timeval_of(d.send_timeout));
      return 0;
    default:
      return fail_with(ENOPROTOOPT);
  }
}

int get_tcp_level(Host& host, const Descriptor& d, int name, Value& out) {
  switch (name) {
    case TCP_NODELAY:
      return get_stack(host, d, Option::nodelay, out);
    case TCP_MAXSEG:
      // do_tcp_getsockopt: the connection's MSS; before one (or on a listener) the MSS set,
      // else TCP_MSS_DEFAULT.
      if (unconnected(host, d) || listening(host, d)) {
        out = Value::of_int(d.options.max_segment ? d.options.max_segment : kDefaultMss);
        return 0;
      }
      return get_stack(host, d, Option::max_segment, out);
    case TCP_KEEPIDLE:
      return get_stack(host, d, Option::keep_idle, out);
    case TCP_KEEPINTVL:
      return get_stack(host, d, Option::keep_interval, out);
    case TCP_KEEPCNT:
      return get_stack(host, d, Option::keep_count, out);
    case TCP_USER_TIMEOUT:
      return get_stack(host, d, Option::user_timeout, out);
    default:
      return fail_with(ENOPROTOOPT);  // TCP_INFO, TCP_CONGESTION ...
  }
}

}  // namespace

int setsockopt(Host& host, int fd, int level, int name, const void* value, socklen_t len) {
  auto held = host.lock();
  Descriptor* d = host.find(fd);
  if (!d) return host.fail_unknown(fd);
  if (d->kind == Descriptor::Kind::epoll) return fail_with(ENOTSOCK);
  // The kernel takes optlen as an int.
  if (static_cast<int>(len) < 0) return fail_with(EINVAL);
  if (level == SOL_SOCKET) return set_socket_level(host, *d, name, value, len);
  if (level == IPPROTO_TCP && is_tcp(*d)) return set_tcp_level(host, *d, name, value, len);
  // Any other level (IPPROTO_TCP on UDP included) goes to ip_setsockopt, which knows only
  // SOL_IP; its options (IP_TOS, IP_TTL ...) are not supported here.
  return fail_with(ENOPROTOOPT);
}

int getsockopt(Host& host, int fd, int level, int name, void* value, socklen_t* len) {
  auto held = host.lock();
  Descriptor* d = host.find(fd);
  if (!d) return host.fail_unknown(fd);
  if (d->kind == Descriptor::Kind::epoll) return fail_with(ENOTSOCK);
  const bool tcp_level = level == IPPROTO_TCP && is_tcp(*d);
  if (level != SOL_SOCKET && !tcp_level) {
    // Any other level (IPPROTO_TCP on UDP included) goes to the address family: IPv4's
    // ip_getsockopt answers EOPNOTSUPP for a level not its own, IPv6's ENOPROTOOPT. Their
    // own options (IP_TOS, IPV6_V6ONLY ...) are not supported here.
    const bool own = level == (d->domain == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP);
    return fail_with(own || d->domain == AF_INET6 ? ENOPROTOOPT : EOPNOTSUPP);
  }
  if (!len) return fail_with(EFAULT);
  int room;
  std::memcpy(&room, len, sizeof room);  // the kernel reads optlen as an int
  if (room < 0) return fail_with(EINVAL);
  Value v;
  if ((tcp_level ? get_tcp_level(host, *d, name, v) : get_socket_level(host, *d, name, v)) < 0)
    return -1;
  // A short buffer gets the value cut to its length, and the length it got.
  const socklen_t n = std::min(static_cast<socklen_t>(room), v.length);
  if (tcp_level) *len = n;  // TCP writes optlen first, sockets after the value
  if (n > 0 && !value) return fail_with(EFAULT);
  if (n > 0) std::memcpy(value, v.bytes, n);
  *len = n;
  return 0;
}

}  // namespace synack::capi

// --- The C calls -------------------------------------------------------------------------------

extern "C" {

int synack_getsockopt(synack_host* h, int fd, int level, int name, void* value, socklen_t* len) {
  synack::capi::Host* host = synack::capi::host_of(h);
  return host ? synack::capi::getsockopt(*host, fd, level, name, value, len) : -1;
}

int synack_setsockopt(synack_host* h, int fd, int level, int name, const void* value,
                      socklen_t len) {
  synack::capi::Host* host = synack::capi::host_of(h);
  return host ? synack::capi::setsockopt(*host, fd, level, name, value, len) : -1;
}

}  // extern "C"
