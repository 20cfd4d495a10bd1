// The I/O ceiling of a TUN device with no stack at all: what synack over TUN could reach
// if its TCP cost nothing. In a scratch namespace ("synack-bench-<pid>-tun", device
// "sbt<pid>", kernel side 198.18.0.1/24, MTU 1500):
//  - FromKernel: a kernel UDP socket sends to 198.18.0.2 with UDP_SEGMENT (64,768-byte
//    sends cut into 1472-byte segments), and user space reads the packets from the TUN
//    descriptor as fast as it can. Without vnet_hdr the kernel segments before the device
//    and each read is one 1500-byte packet; with it (IFF_VNET_HDR + TUNSETOFFLOAD) each
//    read is one 64,768-byte super-packet. Packets the reader is too slow for are dropped
//    at the device's queue and not counted.
//  - ToKernel: user space writes IPv4/UDP packets to the descriptor (1500-byte packets, or
//    with vnet_hdr 64,768-byte GSO super-packets), and a kernel UDP socket with UDP_GRO
//    bound to 198.18.0.1 receives them; datagrams its buffer has no room for are dropped
//    and not counted.
// The figure is Gbit/s of UDP payload (the application's bytes, 1472 per 1500-byte packet)
// that reached the far side and was checked there, from its first packet to `bytes`. The
// kernel-side and user-side threads are not pinned. Needs root.
#pragma once

#include <cstdint>

#include "bench/run.hpp"

namespace synack::bench {

Run raw_tun_ceiling(Direction direction, bool vnet_hdr, std::uint64_t bytes);

}  // namespace synack::bench
