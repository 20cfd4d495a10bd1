// Network namespaces for the real network: a private kernel network stack in which a TUN
// device connects the kernel's TCP to synack, with addresses nobody else uses.
//
//   link::netns_add("demo");                               // ip netns add demo
//   link::netns_make_tun("demo", "synack0", host_cidr);    // persistent TUN, kernel side up
//   { auto in = link::NetnsGuard::enter("demo"); ... }     // this thread inside, then back
//   link::netns_delete("demo");                            // ip netns del demo
//
// Named namespaces are iproute2's (/run/netns/NAME), so `ip netns exec NAME cmd` runs
// programs inside. The bookkeeping is iproute2's own, run as a helper; the device and its
// addresses are set up here with ioctls.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.hpp"
#include "link/tun/tun_link.hpp"

namespace synack::link {

// Runs a program (found on PATH) and waits for it; nullopt on exit status 0, else a
// message naming the command and how it ended.
std::optional<std::string> run_program(const std::vector<std::string>& argv);

// Namespace names: letters, digits, '-', '_' and '.', 1 to 64 characters.
bool valid_netns_name(const std::string& name);

std::optional<std::string> netns_add(const std::string& name);
std::optional<std::string> netns_delete(const std::string& name);
bool netns_exists(const std::string& name);

// Makes a persistent TUN device `tun` inside namespace `name` with the kernel side at
// `host`, brings it and the loopback up, and turns IPv6 off on it.
std::optional<std::string> netns_make_tun(const std::string& name, const std::string& tun,
                                          const InterfaceAddress& host, std::size_t mtu = 0);

// Moves the calling thread into a named namespace, and back when destroyed. Threads this
// thread starts meanwhile are born inside; sockets and TUN devices it makes stay inside.
class NetnsGuard {
 public:
  static Result<NetnsGuard, std::string> enter(const std::string& name);
  NetnsGuard(NetnsGuard&& other) noexcept : previous_(std::exchange(other.previous_, -1)) {}
  NetnsGuard& operator=(NetnsGuard&&) = delete;
  ~NetnsGuard();

 private:
  explicit NetnsGuard(int previous) : previous_(previous) {}
  int previous_;  // the namespace to return to (a file descriptor)
};

// Moves the calling thread into a named namespace for good (tools call this first thing).
std::optional<std::string> enter_netns(const std::string& name);

}  // namespace synack::link
