// How a blocking C call sleeps: in the host's virtual time, until what it waits for
// happens, its descriptor is closed, or its timeout (SO_RCVTIMEO, SO_SNDTIMEO) passes.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>

#include "capi/host.hpp"

namespace synack::capi {

// The virtual instant a timeout started now ends at; nullopt (never) without one.
std::optional<Instant> deadline_after(const Host& host, std::optional<Duration> timeout);

// Sleeps until ready() holds after some change (host.changes() moved) or descriptor `fd`
// is no longer the one with `serial` (both: true), or `deadline` passes (false). ready()
// runs under the lock.
bool sleep_until(Host& host, std::unique_lock<std::mutex>& lock, int fd, std::uint64_t serial,
                 std::optional<Instant> deadline, const std::function<bool()>& ready);

// The descriptor again after a sleep: nullptr, with errno EBADF, when it was closed.
Descriptor* still_open(Host& host, int fd, std::uint64_t serial);

// Readiness as a blocked call needs it: anything that ends a read, a write, a handshake.
bool can_read(Host& host, const Descriptor& d);
bool can_write(Host& host, const Descriptor& d);
bool handshake_over(Host& host, const Descriptor& d);

}  // namespace synack::capi
