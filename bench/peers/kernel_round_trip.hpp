// Peer of the latency scenario: the kernel's one-core loopback ping-pong. One TCP
// connection over 127.0.0.1 with TCP_NODELAY on both ends, client and server threads
// pinned to one core; the client writes one byte, the server answers with the next byte
// value, the client checks it. The figure is the mean round trip in microseconds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "bench/peers/kernel_tcp.hpp"
#include "bench/run.hpp"

namespace synack::bench {

// Microseconds per round trip (lower is better); `iterations` at most 10,000,000.
Run kernel_round_trip(std::uint64_t iterations);

// The two ends' loops, for peers that run them in threads (above) or in processes
// (kernel_process_pair). The server answers `total` requests, each byte with the next
// value. The client makes `warm_up` untimed round trips, then `iterations` timed ones, and
// gives their mean in microseconds in `us`; it fails at `deadline`.
std::optional<std::string> answer_round_trips(int fd, std::uint64_t total);
std::optional<std::string> ask_round_trips(int fd, std::uint64_t warm_up, std::uint64_t iterations,
                                           Deadline deadline, double& us);

}  // namespace synack::bench
