// A TUN device for the raw TUN ceiling, opened in the calling thread's namespace: IFF_TUN
// and IFF_NO_PI, and with vnet_hdr also IFF_VNET_HDR with the offloads (TUNSETOFFLOAD:
// checksum, TSO, UDP segmentation) that let 64 KiB super-packets cross the descriptor.
// Not persistent: the device goes when the descriptor closes.
#pragma once

#include <string>

#include "base/result.hpp"
#include "bench/peers/kernel_fd.hpp"

namespace synack::bench {

// `cidr` is the kernel side's address ("198.18.0.1/24"); the MTU is 1500.
synack::Result<Fd, std::string> open_tun(const std::string& name, const std::string& cidr,
                                         bool vnet_hdr);

}  // namespace synack::bench
