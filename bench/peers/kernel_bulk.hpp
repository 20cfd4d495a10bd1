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

}  // namespace synack::bench
