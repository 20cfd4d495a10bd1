// Bulk transfer between two in-process stacks: one connection (inproc_bulk) or many at once
// (inproc_bulk_per_segment, the scaling scenario).
#include <algorithm>
#include <chrono>
#include <string>

#include <sys/resource.h>

#include "bench/pattern.hpp"
#include "bench/scenarios/inproc.hpp"
#include "bench/scenarios/stack_pair.hpp"
#include "stack/counters.hpp"

namespace synack::bench {

namespace {

using Steady = std::chrono::steady_clock;

constexpr std::size_t kChunk = 256 * 1024;  // bytes per write() and per read()
// A transfer that makes no progress for this long has stalled: a failed run, not a hang.
constexpr auto kStallLimit = std::chrono::seconds(5);

// One direction of one connection: what was written, what was read and checked.
struct Stream {
  SocketId client = -1, server = -1;
  std::uint64_t length = 0, sent = 0, received = 0;
};

// Writes one chunk (what the send buffer takes of it) and reads and checks what arrived,
// for one stream. Returns false when the bytes read are not the pattern.
// One chunk a step, as an application writing 256 KiB at a time over a stack run to
// completion, which is also what the kernel's loopback does with each send(): filling the
// whole send buffer first put 4 MiB in each of the send ring, the link and the receive
// ring at once, 12 MiB that no longer fit in the core's 1 MiB L2.
bool pump(StackPair& pair, Stream& s, const Pattern& pattern, std::vector<std::uint8_t>& buffer) {
  if (s.sent < s.length) {
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, s.length - s.sent));
    std::size_t n = 0;
    if (!pair.client().write(s.client, std::span(pattern.at(s.sent), want), n)) s.sent += n;
  }
  for (;;) {
    std::size_t n = 0;
    if (pair.server().read(s.server, buffer, n) || n == 0) break;
    if (!pattern.matches(s.received, buffer.data(), n)) return false;
    s.received += n;
  }
  return true;
}

// How the loop moves the stacks between two passes over the streams.
enum class Drive {
  // One poll of each: the application is served as often as the stacks are polled.
  step,
  // Polls until neither link holds a frame: every segment already sent is received and
  // answered before the application is served again, as an event loop handles all its
  // input before its callbacks. With many connections a pass over every stream costs a
  // cache miss or two each whether it has work or not, and a poll receives at most 4,096
  // frames, so one poll a pass made the passes per round grow with the connections
  // (about 100 a round at 100,000): the application's loop, not the stack, grew.
  settle,
};

// Runs the streams to completion; the wall time in seconds, or a failed Run.
Run transfer(StackPair& pair, std::vector<Stream>& streams, Drive drive = Drive::step) {
  const Pattern pattern(kChunk);
  std::vector<std::uint8_t> buffer(kChunk);
  const auto start = Steady::now();
  auto last_progress = start;
  std::size_t done = 0;
  std::uint64_t total_received = 0;
  while (done < streams.size()) {
    done = 0;
    std::uint64_t received = 0;
    for (Stream& s : streams) {
      if (s.received < s.length && !pump(pair, s, pattern, buffer)) {
        return Run::fail("bytes read differ from the bytes written");
      }
      // Bytes written count as progress too: a first pass over 100,000 streams can take
      // longer than the stall limit before any byte has been read.
      received += s.received + s.sent;
      done += s.received == s.length;
    }
    if (drive == Drive::settle) {
      pair.settle();  // bounded; a link that never empties shows as a stall
    } else {
      pair.step();
    }
    const auto now = Steady::now();
    if (received != total_received) {
      total_received = received;
      last_progress = now;
    } else if (now - last_progress > kStallLimit) {
      return Run::fail("stalled at " + std::to_string(received) + " bytes");
    }
  }
  return Run::of(std::chrono::duration<double>(Steady::now() - start).count());
}

// Page faults this process has taken so far (minor: pages mapped at first touch).
long page_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

}  // namespace

Run inproc_bulk(std::uint64_t bytes, std::uint16_t mss) {
  StackPair pair({.mtu = std::size_t{mss} + 40u});
  const SocketId listener = pair.listen(StackPair::kServerPort, 16);
  const auto conns = pair.open(listener, StackPair::kServerPort, 1);
  if (conns.size() != 1) return Run::fail("could not open the connection");
  std::vector<Stream> streams{{conns[0].first, conns[0].second, bytes, 0, 0}};
  const Run secs = transfer(pair, streams);
  if (!secs.ok()) return secs;
  if (pair.client().counters().tcp.retrans_segs != 0) {
    return Run::fail("retransmissions on a lossless link");
  }
  return Run::of(static_cast<double>(bytes) * 8 / secs.value / 1e9);
}

Run inproc_bulk_per_segment(std::uint64_t bytes, std::size_t connections) {
  // Buffers small enough that 100,000 connections fit, large enough for a few segments.
  constexpr std::size_t kBuffer = 16 * 1024, kMss = 1460;
  const std::uint64_t each = std::max<std::uint64_t>(bytes / connections, 1);
  // Room in the link for every connection's whole window at once: one poll sends them all,
  // and a frame dropped for want of room would measure loss recovery, not the stack.
  const std::size_t in_flight = std::min<std::uint64_t>(kBuffer, each) / kMss + 3;
  StackPair pair({.buffer = kBuffer,
                  .link_slots = connections * in_flight,
                  .max_sockets = 2 * connections + 16,
                  .max_buffer_memory = std::size_t{16} << 30,
                  .virtual_time = true});
  std::vector<Stream> streams;
  // One peer's 4-tuples run out past 28,232 connections (the ephemeral ports): spread
  // the connections over several server ports.
  constexpr std::size_t kPerPort = 20000;
  for (std::size_t port_index = 0; streams.size() < connections; ++port_index) {
    const auto port = static_cast<std::uint16_t>(StackPair::kServerPort + port_index);
    const SocketId listener = pair.listen(port, 128);
    if (listener < 0) return Run::fail("listen failed");
    const std::size_t n = std::min(kPerPort, connections - streams.size());
    const auto conns = pair.open(listener, port, n);
    if (conns.size() != n) return Run::fail("opened only " + std::to_string(conns.size()));
    for (const auto& [c, s] : conns) streams.push_back({c, s, each, 0, 0});
  }
  // Rounds of warm-up until the memory every connection's buffers take has been touched
  // (page faults), as in a stack that has been serving them a while; the next is measured.
  // One round is not enough: a buffer is a heap block of which a round writes only the
  // first few KB, and the next round's blocks lie elsewhere in the freed heap, so at
  // 100,000 connections the second round still took 130,000 page faults (a third of its
  // time, in the kernel) and the third 38,000; the fourth takes none.
  constexpr int kMaxWarmUps = 6;
  constexpr long kSettledFaults = 64;  // a round faulting no more than this is warm
  for (int round = 0; round < kMaxWarmUps; ++round) {
    const long faults = page_faults();
    const Run warm_up = transfer(pair, streams, Drive::settle);
    if (!warm_up.ok()) return warm_up;
    for (Stream& s : streams) s.length += each;
    if (page_faults() - faults <= kSettledFaults) break;
  }
  const std::uint64_t segments_before = pair.client().counters().tcp.out_segs;
  const Run secs = transfer(pair, streams, Drive::settle);
  if (!secs.ok()) return secs;
  const std::uint64_t segments = pair.client().counters().tcp.out_segs - segments_before;
  if (segments == 0) return Run::fail("no segments sent");
  if (pair.client().counters().tcp.retrans_segs != 0) {
    return Run::fail("retransmissions on a lossless link");
  }
  return Run::of(secs.value * 1e9 / static_cast<double>(segments));
}

}  // namespace synack::bench
