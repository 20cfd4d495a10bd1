// The host itself, the wire and the clock: synack_host_new and _free, the packets in and
// out (synack_netdev_send, synack_netdev_receive), and virtual time (synack_usleep,
// synack_gettimeofday).
#include <new>

#include "capi/call.hpp"

using namespace synack;
using namespace synack::capi;

extern "C" {

synack_host* synack_host_new(const char* flags) {
  const auto parsed = parse_host_flags(flags);
  if (!parsed) {
    errno = EINVAL;
    return nullptr;
  }
  try {
    return new synack_host(*parsed);
  } catch (const std::bad_alloc&) {
    errno = ENOMEM;
    return nullptr;
  }
}

void synack_host_free(synack_host* h) {
  delete h;
}

int synack_netdev_send(synack_host* h, const void* buf, size_t count) {
  Host* host = host_of(h);
  if (!host) return -1;
  return host->netdev_send(buf, count);
}

int synack_netdev_receive(synack_host* h, void* buf, size_t* count, long long* time_usecs) {
  Host* host = host_of(h);
  if (!host) return -1;
  return host->netdev_receive(buf, count, time_usecs);
}

int synack_usleep(synack_host* h, useconds_t usecs) {
  Host* host = host_of(h);
  if (!host) return -1;
  host->usleep(usecs);
  return 0;
}

int synack_gettimeofday(synack_host* h, timeval* tv, void* tz) {
  Host* host = host_of(h);
  if (!host) return -1;
  const std::int64_t usecs = host->gettimeofday_usecs();
  if (tv) {
    tv->tv_sec = static_cast<time_t>(usecs / 1'000'000);
    tv->tv_usec = static_cast<suseconds_t>(usecs % 1'000'000);
  }
  if (tz) {
    // The obsolete struct timezone: UTC, no daylight saving time.
    *static_cast<struct timezone*>(tz) = {};
  }
  return 0;
}

}  // extern "C"
