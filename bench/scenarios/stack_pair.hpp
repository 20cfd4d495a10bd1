// Two synack stacks in one process on a MemoryLink, driven by one thread in real time: the
// fixture of the in-process scenarios. No medium cost, no thread hand-off: what is measured
// is the stacks themselves (both ends), checksums computed and verified as on any link.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "link/memory_link.hpp"
#include "synack/stack.hpp"

namespace synack::bench {

// The monotonic clock, as the runtime uses (bench/ may read clocks; the stack may not).
class WallClock final : public Clock {
 public:
  Instant now() const override {
    return kEpoch + std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - start_);
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

struct PairConfig {
  std::size_t mtu = 1500;                     // MSS = mtu - 40
  std::size_t buffer = std::size_t{4} << 20;  // SO_SNDBUF and SO_RCVBUF on both sides
  std::size_t link_slots = 1024;              // frames each way; raised to hold two windows
  std::size_t max_sockets = 65536;
  std::size_t max_buffer_memory = std::size_t{256} << 20;
  bool nodelay = false;
  // The stacks' clock moves 1 µs per step instead of with the wall: for thousands of
  // connections, where one round of the loop can outlast an RTO and time out segments that
  // merely wait their turn. What is measured is still wall time.
  bool virtual_time = false;
};

class StackPair {
 public:
  static constexpr std::uint16_t kServerPort = 5001;

  explicit StackPair(const PairConfig& config = {});

  Stack& client() { return *client_; }
  Stack& server() { return *server_; }
  Endpoint server_endpoint(std::uint16_t port = kServerPort) const;

  // Polls both stacks until neither link holds a frame (bounded); returns false on no
  // progress within the bound.
  bool settle();
  // One poll of each stack at the current time.
  void step();

  // Listens on `port` on the server (backlog `backlog`); -1 when that fails.
  SocketId listen(std::uint16_t port, int backlog);
  // Opens `n` connections to `port`, accepted on the server; returns them as (client,
  // server) pairs, or fewer when something failed.
  std::vector<std::pair<SocketId, SocketId>> open(SocketId listener, std::uint16_t port,
                                                  std::size_t n);

 private:
  Instant now();

  WallClock wall_;
  ManualClock virtual_;
  bool virtual_time_;
  std::unique_ptr<link::MemoryLink> client_link_, server_link_;
  std::unique_ptr<Stack> client_, server_;
};

}  // namespace synack::bench
