// `synack netns up|down NAME`: a network namespace where the kernel and synack meet on a
// TUN device, with addresses nobody else uses (198.18.0.0/15, RFC 2544's benchmark range).
#include <iostream>

#include "link/tun/netns.hpp"
#include "tools/net_commands.hpp"
#include "tools/net_session.hpp"

namespace synack::tools {

int netns(int argc, const char* const* argv) {
  CLI::App app{"Makes or removes a network namespace with a TUN device for synack.",
               "synack netns"};
  app.require_subcommand(1);
  std::string name, tun = "synack0", host_ip = "198.18.0.1/24", stack_ip = "198.18.0.2";
  std::size_t mtu = 0;
  auto* up = app.add_subcommand(
      "up",
      "Makes namespace NAME with TUN device synack0 inside: the kernel side at --host-ip, up,\n"
      "and synack's address (--stack-ip) on its subnet. The device stays until `netns down`.");
  up->add_option("name", name, "Namespace name")->required();
  up->add_option("--tun", tun, "Device name")->capture_default_str();
  up->add_option("--host-ip", host_ip, "The kernel's address/prefix on the device")
      ->capture_default_str();
  up->add_option("--stack-ip", stack_ip, "synack's address (for `synack serve --ip`)")
      ->capture_default_str();
  up->add_option("--mtu", mtu, "The device's MTU (default 1500)");
  auto* down = app.add_subcommand("down", "Removes namespace NAME and its devices.");
  down->add_option("name", name, "Namespace name")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  if (down->parsed()) {
    if (auto e = link::netns_delete(name)) {
      std::cerr << "synack netns down: " << *e << "\n";
      return 1;
    }
    return 0;
  }
  const auto host = link::InterfaceAddress::parse(host_ip);
  const auto stack = Ipv4Address::parse(stack_ip);
  if (!host) {
    std::cerr << "synack netns up: --host-ip: '" << host_ip << "' is not ADDRESS/PREFIX\n";
    return 2;
  }
  if (!stack || *stack == host->address || !host->contains(*stack)) {
    std::cerr << "synack netns up: --stack-ip must be another address on " << host->to_string()
              << "\n";
    return 2;
  }
  if (auto e = link::netns_add(name)) {
    std::cerr << "synack netns up: " << *e << "\n";
    return 1;
  }
  if (auto e = link::netns_make_tun(name, tun, *host, mtu)) {
    std::cerr << "synack netns up: " << *e << "\n";
    link::netns_delete(name);
    return 1;
  }
  const std::string ip = stack->to_string();
  std::cout << "namespace " << name << ": " << tun << " with the kernel at " << host->to_string()
            << ", synack at " << ip << "\n"
            << "  ip netns exec " << name << " synack serve --tun " << tun << " --ip " << ip
            << " --port 8080 --http-bytes 10M &\n"
            << "  ip netns exec " << name << " curl -o /dev/null http://" << ip << ":8080/\n"
            << "  synack netns down " << name << "\n";
  return 0;
}

}  // namespace synack::tools
