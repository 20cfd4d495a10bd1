#include "sim/world.hpp"

#include "link/sim/rng.hpp"

namespace synack::sim {

Host::Host(Network& net, SimLink& l, const StackConfig& config) : link(l), stack(l, net, config) {}

World::World(std::uint64_t seed, ChannelParams defaults) : seed_(seed), net_(seed, defaults) {}

Host& World::add_host(Ipv4Address address, std::size_t mtu) {
  StackConfig config;
  config.address = address;
  return add_host(config, mtu);
}

Host& World::add_host(const StackConfig& given, std::size_t mtu) {
  StackConfig config = given;
  if (config.secret[0] == StackConfig{}.secret[0] && config.secret[1] == StackConfig{}.secret[1]) {
    config.secret[0] = splitmix64(seed_ ^ config.address.to_u32());
    config.secret[1] = splitmix64(config.secret[0]);
  }
  SimLink& link = net_.add_host(config.address.to_u32(), mtu);
  Host& host = hosts_.emplace_back(net_, link, config);
  net_.add_node(host, &link);
  return host;
}

}  // namespace synack::sim
