// Random socket calls on two stacks on the simulator, with random segments from a third
// address and random time steps, driven by the input (FuzzedDataProvider). After every
// step each stack's connection count agrees with its per-state counters (and the stack's
// own debug invariant checks run inside it); at the end, with every socket closed, all
// connections and timers drain, and LeakSanitizer sees nothing left allocated.
//
// Every choice is one byte from the end of the input (ConsumeIntegralInRange over fewer
// than 256 values); only injected segments take bytes from the front. gen_corpus writes
// seeds in that encoding (Op below is the first byte of each step).
#include <fuzzer/FuzzedDataProvider.h>

#include <array>
#include <vector>

#include "fuzz_check.hpp"
#include "packet_link.hpp"
#include "sim/world.hpp"
#include "sim_api_ops.hpp"
#include "stack/counters.hpp"
#include "synack/stack.hpp"
#include "tcp/state.hpp"

using namespace synack;
using namespace synack::fuzz;

namespace {

constexpr std::size_t kMaxOps = 200;
constexpr std::size_t kMaxSockets = 12;
constexpr std::array<std::uint16_t, 4> kPorts = {0, 80, 81, 5000};
constexpr std::array<Ipv4Address, 3> kAddresses = {
    Ipv4Address(198, 18, 0, 1), Ipv4Address(198, 18, 0, 2), Ipv4Address(198, 18, 0, 3)};

struct Side {
  sim::Host* host = nullptr;
  std::vector<SocketId> sockets;
};

void check_counts(const Stack& s) {
  std::uint64_t connections = 0;
  const auto& in_state = s.counters().tcp.in_state;
  for (std::size_t i = 0; i < in_state.size(); ++i) {
    if (i != static_cast<std::size_t>(tcp::State::Listen)) connections += in_state[i];
  }
  FUZZ_CHECK(connections == s.connection_count());
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  return fuzz::entropic_off(argc, argv);
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  sim::World world(1);
  std::array<Side, 2> sides;
  sides[0].host = &world.add_host(kAddresses[0]);
  sides[1].host = &world.add_host(kAddresses[1]);
  sim::SimLink& attacker = world.net().add_host(kAddresses[2].to_u32());
  std::vector<std::uint8_t> buffer(16384, 'a');

  for (std::size_t step = 0; step < kMaxOps && in.remaining_bytes() > 0; ++step) {
    const auto op = in.ConsumeIntegralInRange<std::uint8_t>(0, std::uint8_t{kOpCount - 1});
    Side& side = sides[in.ConsumeIntegralInRange<std::uint8_t>(0, 1)];
    Stack& stack = side.host->stack;
    auto& socks = side.sockets;
    const auto pick = in.ConsumeIntegralInRange<std::uint8_t>(0, kMaxSockets - 1);
    const SocketId s = socks.empty() ? pick : socks[pick % socks.size()];
    const auto arg = in.ConsumeIntegralInRange<std::uint8_t>(0, 255);
    const Endpoint remote{kAddresses[arg % 3], kPorts[(arg >> 2) % 4]};
    std::size_t n = 0;
    switch (op) {
      case kTcpSocket:
      case kUdpSocket: {
        SocketId id = -1;
        if (socks.size() < kMaxSockets &&
            !(op == kTcpSocket ? stack.tcp_socket(id) : stack.udp_socket(id))) {
          socks.push_back(id);
        }
        break;
      }
      case kBind:
        (void)stack.bind(s, {Ipv4Address(), kPorts[arg % 4]});
        break;
      case kListen:
        (void)stack.listen(s, arg % 5);
        break;
      case kAccept: {
        SocketId id = -1;
        if (!stack.accept(s, id)) {
          if (socks.size() < kMaxSockets) {
            socks.push_back(id);
          } else {
            (void)stack.close(id);
          }
        }
        break;
      }
      case kConnect:
        (void)stack.connect(s, remote);
        break;
      case kRead:
        (void)stack.read(s, std::span(buffer).first(std::size_t{arg} * 64), n);
        break;
      case kWrite:
        (void)stack.write(s, std::span(buffer).first(std::size_t{arg} * 64), n);
        break;
      case kShutdown:
        (void)stack.shutdown(s, static_cast<Shutdown>(arg % 3));
        break;
      case kClose:
        (void)stack.close(s);
        std::erase(socks, s);
        break;
      case kSetsockopt: {
        const auto opt = static_cast<Option>(arg % 11);
        const int values[] = {-1, 0, 1, 2, 100, 536, 4096, 100000};
        (void)stack.setsockopt(s, opt, values[(arg >> 4) % 8]);
        break;
      }
      case kSendTo:
        (void)stack.send_to(s, std::span(buffer).first(std::size_t{arg} * 8), remote);
        break;
      case kReceiveFrom: {
        Endpoint from;
        bool truncated = false;
        (void)stack.receive_from(s, std::span(buffer).first(arg), n, &from, &truncated);
        break;
      }
      case kObserve: {
        Stack::Queued q;
        (void)stack.queued(s, q);
        (void)stack.readiness(s);
        (void)stack.tcp_state(s);
        (void)stack.socket_error(s);
        (void)stack.peek(s, std::span(buffer).first(arg), n);
        int value = 0;
        (void)stack.getsockopt(s, static_cast<Option>(arg % 11), value);
        Endpoint e;
        (void)stack.getsockname(s, e);
        (void)stack.getpeername(s, e);
        break;
      }
      case kRun: {
        const Duration d = arg < 128 ? milliseconds(arg) : seconds(arg - 127);
        world.run_for(d);
        break;
      }
      case kInject: {
        // A frame from the third address, or seeming to come from the other host.
        auto frame = in.ConsumeBytes<std::uint8_t>(arg);
        if (frame.size() >= 20) {
          const Ipv4Address other = &side == &sides[0] ? kAddresses[1] : kAddresses[0];
          if (arg & 1) other.store(&frame[12]);
          side.host->stack.address().store(&frame[16]);
          if (arg & 2) fuzz::fix_checksums(frame);
        }
        attacker.send_to_host(side.host->stack.address().to_u32(), frame, world.now());
        break;
      }
      default:
        break;
    }
    check_counts(sides[0].host->stack);
    check_counts(sides[1].host->stack);
  }

  // Everything closes and frees.
  for (Side& side : sides) {
    for (SocketId s : side.sockets) (void)side.host->stack.close(s);
  }
  const auto open = [&] {
    return sides[0].host->stack.connection_count() + sides[1].host->stack.connection_count();
  };
  world.run_until([&] { return open() == 0; }, seconds(3600));
  FUZZ_CHECK(open() == 0);
  world.run_for(seconds(1));
  FUZZ_CHECK(sides[0].host->stack.timers_armed() + sides[1].host->stack.timers_armed() == 0);
  return 0;
}
