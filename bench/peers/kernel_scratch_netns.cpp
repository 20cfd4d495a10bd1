#include "bench/peers/kernel_scratch_netns.hpp"

#include <unistd.h>

#include "link/tun/netns.hpp"

namespace synack::bench {

std::optional<std::string> ScratchNetns::make(const std::string& prefix,
                                              const std::vector<std::string>& suffixes) {
  for (const auto& suffix : suffixes) {
    std::string name = prefix + "-" + std::to_string(::getpid()) + "-" + suffix;
    if (auto e = link::netns_add(name)) return e;
    names_.push_back(std::move(name));
  }
  return std::nullopt;
}

ScratchNetns::~ScratchNetns() {
  // Deleting a namespace destroys its devices: the veth pair, the TUN device.
  for (const auto& name : names_) {
    [[maybe_unused]] auto e = link::netns_delete(name);
  }
}

std::string pid_name(const std::string& prefix, const std::string& suffix) {
  return prefix + std::to_string(::getpid()) + suffix;
}

std::optional<std::string> needs_root() {
  if (::geteuid() != 0) return "needs root (network namespaces)";
  return std::nullopt;
}

}  // namespace synack::bench
