#include "bench/peers/kernel_tun_device.hpp"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "link/tun/tun_link.hpp"

// Linux 6.2 (UDP segmentation across TUN); older user-space headers lack them.
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif

namespace synack::bench {

synack::Result<Fd, std::string> open_tun(const std::string& name, const std::string& cidr,
                                         bool vnet_hdr) {
  const auto host = link::InterfaceAddress::parse(cidr);
  if (!host) return synack::Unexpected("bad address " + cidr);
  Fd fd(::open("/dev/net/tun", O_RDWR | O_CLOEXEC));
  if (!fd) return synack::Unexpected(std::string("open /dev/net/tun: ") + std::strerror(errno));
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  ifr.ifr_flags = static_cast<short>(IFF_TUN | IFF_NO_PI | (vnet_hdr ? IFF_VNET_HDR : 0));
  if (::ioctl(fd.get(), TUNSETIFF, &ifr) != 0) {
    return synack::Unexpected("TUNSETIFF " + name + ": " + std::strerror(errno));
  }
  if (vnet_hdr) {
    // USO (UDP segmentation) needs both families named; the kernel refuses one alone.
    const unsigned offloads =
        TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN | TUN_F_USO4 | TUN_F_USO6;
    if (::ioctl(fd.get(), TUNSETOFFLOAD, offloads) != 0) {
      return synack::Unexpected(std::string("TUNSETOFFLOAD: ") + std::strerror(errno));
    }
  }
  // No IPv6 on the device: the kernel would send router solicitations into the ceiling.
  std::ofstream("/proc/sys/net/ipv6/conf/" + name + "/disable_ipv6") << "1\n";
  if (auto e = link::configure_interface(name, 1500, *host, true)) {
    return synack::Unexpected(e->message);
  }
  return fd;
}

}  // namespace synack::bench
