// One bulk TCP transfer between two kernel sockets, the core of the loopback and veth
// peers: a sender thread writes `bytes` of the Pattern in 128 KiB writes, a receiver
// thread reads and checks every byte, then sees the sender's FIN (so nothing extra came).
// The figure is Gbit/s of payload from the sender's first write to the receiver's last
// byte.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "bench/peers/kernel_tcp.hpp"
#include "bench/run.hpp"

namespace synack::bench {

struct BulkPlan {
  std::string listen_address = "127.0.0.1";
  std::string connect_address = "127.0.0.1";
  std::string receiver_netns, sender_netns;     // named namespaces; empty: the caller's
  std::optional<int> receiver_cpu, sender_cpu;  // nullopt: not pinned
  bool cubic = true;
  std::uint64_t bytes = 0;
  std::chrono::milliseconds limit{30000};  // a run that takes longer fails
};

Run tcp_bulk(const BulkPlan& plan);

// The two ends' loops, for peers that run them in threads (tcp_bulk) or in processes
// (kernel_process_pair). The receiver reads `bytes` of the Pattern from `fd`, checking
// every byte, notes when the last one came in `last_byte`, and expects the sender's FIN.
// The sender notes `first_write`, writes `bytes` of the Pattern in 128 KiB writes, shuts
// down writing, and waits for the receiver to close. Both fail at `deadline`.
std::optional<std::string> receive_pattern(int fd, std::uint64_t bytes, Deadline deadline,
                                           Deadline& last_byte);
std::optional<std::string> send_pattern(int fd, std::uint64_t bytes, Deadline deadline,
                                        Deadline& first_write);

}  // namespace synack::bench
