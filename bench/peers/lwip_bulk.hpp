// The lwIP peer of the in-process bulk scenario: Debian's lwIP 2.1.3 (liblwip-dev) sends
// `bytes` from a client to a server in the same process over its netif loopback, with the
// MSS (1460) and checksums (generated and checked) its build fixes, using the raw callback
// TCP API. Built only when bench/CMakeLists.txt finds the package (SYNACK_HAVE_LWIP);
// otherwise every call is skipped.
//
// Debian builds lwIP with NO_SYS=0: its loopback hands each packet to lwIP's tcpip thread
// through a mailbox, so all the lwIP work runs there, run to completion on that one thread;
// the calling thread only waits for the end (one cross-thread wake-up per run).
#pragma once

#include <cstdint>

#include "bench/run.hpp"

namespace synack::bench {

struct LwipBulkDetail {
  Run run;                     // Gbit/s of payload the server read (or why not)
  std::uint64_t segments = 0;  // data segments the server's TCP delivered
  double seconds = 0;          // from the client's first write to the server's last read
  double cpu_seconds = 0;      // of those, the CPU time of the thread doing lwIP's work
};

// Moves `bytes` client to server, checking every byte against a known pattern: fails on a
// wrong byte, an error from lwIP, or a stall (no progress for 3 s, or the whole run over its
// time limit).
LwipBulkDetail lwip_bulk_detail(std::uint64_t bytes);

// The same, as Gbit/s of payload.
Run lwip_bulk(std::uint64_t bytes);

}  // namespace synack::bench
