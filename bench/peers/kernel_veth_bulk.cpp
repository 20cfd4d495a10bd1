#include "bench/peers/kernel_veth_bulk.hpp"

#include "bench/peers/kernel_bulk.hpp"
#include "bench/peers/kernel_offloads.hpp"
#include "bench/peers/kernel_scratch_netns.hpp"
#include "bench/peers/kernel_tcp.hpp"
#include "link/tun/netns.hpp"

namespace synack::bench {
namespace {

// Address, MTU and up for one end, inside its namespace; offloads off when asked.
std::optional<std::string> set_up_end(const std::string& netns, const std::string& device,
                                      const std::string& cidr, bool offloads) {
  for (const auto& argv : std::vector<std::vector<std::string>>{
           {"ip", "-n", netns, "link", "set", "lo", "up"},
           {"ip", "-n", netns, "link", "set", device, "mtu", "1500"},
           {"ip", "-n", netns, "addr", "add", cidr, "dev", device},
           {"ip", "-n", netns, "link", "set", device, "up"}}) {
    if (auto e = link::run_program(argv)) return e;
  }
  if (offloads) return std::nullopt;
  auto inside = link::NetnsGuard::enter(netns);
  if (!inside) return inside.error();
  return offloads_off(device);
}

}  // namespace

Run veth_bulk(bool offloads, std::uint64_t bytes) {
  if (auto why = needs_root()) return Run::skip(*why);
  if (auto why = cubic_missing()) return Run::skip(*why);
  ScratchNetns netns;
  if (auto e = netns.make("synack-bench", {"a", "b"})) return Run::fail(*e);
  const std::string a = pid_name("sbv", "a"), b = pid_name("sbv", "b");
  if (auto e = link::run_program({"ip", "link", "add", a, "netns", netns.name(0), "type", "veth",
                                  "peer", "name", b, "netns", netns.name(1)})) {
    return Run::fail(*e);
  }
  if (auto e = set_up_end(netns.name(0), a, "198.18.0.1/30", offloads)) return Run::fail(*e);
  if (auto e = set_up_end(netns.name(1), b, "198.18.0.2/30", offloads)) return Run::fail(*e);

  BulkPlan plan;
  plan.listen_address = plan.connect_address = "198.18.0.2";
  plan.sender_netns = netns.name(0);
  plan.receiver_netns = netns.name(1);
  plan.bytes = bytes;
  return tcp_bulk(plan);
}

}  // namespace synack::bench
