#include "bench/peers/kernel_offloads.hpp"

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "bench/peers/kernel_fd.hpp"

namespace synack::bench {
namespace {

struct Setting {
  std::uint32_t set, get;
  const char* name;
};

// Checksumming goes first: with it off the kernel would refuse TSO anyway.
constexpr Setting kSettings[] = {
    {ETHTOOL_STXCSUM, ETHTOOL_GTXCSUM, "tx-checksumming"},
    {ETHTOOL_STSO, ETHTOOL_GTSO, "tcp-segmentation-offload"},
    {ETHTOOL_SGSO, ETHTOOL_GGSO, "generic-segmentation-offload"},
    {ETHTOOL_SGRO, ETHTOOL_GGRO, "generic-receive-offload"},
};

int ethtool(int fd, const std::string& device, ethtool_value& value) {
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, device.c_str(), IFNAMSIZ - 1);
  ifr.ifr_data = reinterpret_cast<char*>(&value);
  return ::ioctl(fd, SIOCETHTOOL, &ifr);
}

}  // namespace

std::optional<std::string> offloads_off(const std::string& device) {
  Fd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) return std::string("socket: ") + std::strerror(errno);
  for (const auto& s : kSettings) {
    ethtool_value value{s.set, 0};
    if (ethtool(fd.get(), device, value) != 0) {
      return device + ": cannot turn " + s.name + " off: " + std::strerror(errno);
    }
    ethtool_value check{s.get, 1};
    if (ethtool(fd.get(), device, check) != 0 || check.data != 0) {
      return device + ": " + s.name + " is still on";
    }
  }
  return std::nullopt;
}

}  // namespace synack::bench
