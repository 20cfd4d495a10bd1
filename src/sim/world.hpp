// A simulated world: a Network and the hosts on it, each a full Stack driven in virtual
// time. Scenario tests, the demo and the benchmarks all start here.
//
//   sim::World world(seed);
//   auto& client = world.add_host(Ipv4Address(198, 18, 0, 1));
//   auto& server = world.add_host(Ipv4Address(198, 18, 0, 2));
//   ... socket calls on client.stack / server.stack ...
//   world.run_until([&] { return done; }, seconds(10));
#pragma once

#include <deque>
#include <memory>

#include "link/sim/network.hpp"
#include "synack/stack.hpp"
#include "tcp/config.hpp"

namespace synack::sim {

class Host final : public Node {
 public:
  Host(Network& net, SimLink& link, const StackConfig& config);
  void poll(Instant now) override { stack.poll(now); }
  std::optional<Instant> next_deadline() const override { return stack.next_deadline(); }

  SimLink& link;
  Stack stack;
};

class World {
 public:
  explicit World(std::uint64_t seed, ChannelParams defaults = {});

  // A host with its own stack; the stack's secret is drawn from the world's seed.
  Host& add_host(Ipv4Address address, std::size_t mtu = 1500);
  // A host with a config of the test's own (an ephemeral port range, ...); a secret left
  // at the default is drawn from the seed as above.
  Host& add_host(const StackConfig& config, std::size_t mtu = 1500);

  Network& net() { return net_; }
  Instant now() const { return net_.now(); }
  RunResult run_for(Duration d) { return net_.run_for(d); }
  RunResult run_until(const std::function<bool()>& done, Duration limit) {
    return net_.run_until(done, limit);
  }

 private:
  std::uint64_t seed_;
  Network net_;
  std::deque<Host> hosts_;  // stable addresses: stacks hold references to their links
};

}  // namespace synack::sim
