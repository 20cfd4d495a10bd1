// The simulated network: any number of hosts, each with one IPv4 address and one Link,
// joined so that every ordered pair of hosts has its own Channel (one direction of a
// path, with its own delay and faults). Time is virtual and jumps straight to the next
// event, so a minute of idle time costs nothing. Runs are deterministic for a seed.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <vector>

#include "link/link.hpp"
#include "link/sim/channel.hpp"
#include "link/sim/node.hpp"

namespace synack::sim {

class Network;

// Told about every frame the network drops, for traces ("✗ dropped by link: loss").
class NetworkObserver {
 public:
  virtual void on_drop(std::uint32_t from, std::uint32_t to, wire::Bytes frame, DropReason reason,
                       Instant at) = 0;

 protected:
  ~NetworkObserver() = default;
};

// A host's attachment to the network.
class SimLink final : public link::Link {
 public:
  void send(wire::Bytes frame, Instant now) override;
  std::size_t receive(Instant now, link::FrameSink& sink, std::size_t budget) override;
  std::size_t mtu() const override { return mtu_; }

  // Puts a frame on the wire to the host at `host` whatever its IPv4 header says, as a
  // link layer addresses a frame to a station: for raw test nodes that send frames no
  // router would forward (truncated headers, another destination, random bytes). The
  // path's channel applies as for any frame. No such host: dropped as no_route.
  void send_to_host(std::uint32_t host, wire::Bytes frame, Instant now);

  std::uint32_t address() const { return address_; }
  bool has_pending(Instant now) const { return !rx_.empty() && rx_.front().arrival <= now; }

 private:
  friend class Network;
  struct Frame {
    Instant arrival;
    std::vector<std::uint8_t> bytes;
  };
  SimLink(Network& net, std::size_t index, std::uint32_t address, std::size_t mtu)
      : net_(net), index_(index), address_(address), mtu_(mtu) {}

  Network& net_;
  std::size_t index_;
  std::uint32_t address_;
  std::size_t mtu_;
  std::deque<Frame> rx_;  // arrived, not yet received by the host
};

struct RunResult {
  bool done = false;     // the condition held (or the end time was reached)
  bool stalled = false;  // a node kept asking for work at one instant without progress
};

class Network final : public Clock {
 public:
  explicit Network(std::uint64_t seed, ChannelParams defaults = {});
  ~Network();
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  // Adds a host with an IPv4 address (host byte order). The link lives as long as the
  // network.
  SimLink& add_host(std::uint32_t address, std::size_t mtu = 1500);
  // Registers a node to drive; `link` (optional) is the host link whose arrivals wake it.
  void add_node(Node& node, SimLink* link = nullptr);

  // The channel from one host to another, created with the defaults on first use.
  Channel& channel(std::uint32_t from, std::uint32_t to);
  // Sets the parameters of both directions between two hosts.
  void set_path(std::uint32_t a, std::uint32_t b, const ChannelParams& params);

  void set_observer(NetworkObserver* observer) { observer_ = observer; }

  Instant now() const override { return now_; }
  // The next instant at which anything happens, or nullopt when the network is idle.
  std::optional<Instant> next_event() const;

  // Runs every event up to and including `end`, then sets the clock to `end`.
  RunResult run_until(Instant end);
  RunResult run_for(Duration d) { return run_until(now_ + d); }
  // Runs until `done()` holds (checked after each step) or `limit` of virtual time passes.
  RunResult run_until(const std::function<bool()>& done, Duration limit);

  // Steps taken so far: a step is one instant at which something happened.
  std::uint64_t steps() const { return steps_; }
  std::uint64_t no_route_drops() const { return no_route_; }

 private:
  friend class SimLink;
  struct InFlight {
    Instant arrival;
    std::uint64_t order;  // ties deliver in send order
    std::size_t to;
    std::vector<std::uint8_t> bytes;
  };
  struct Later {
    bool operator()(const InFlight& a, const InFlight& b) const {
      return a.arrival != b.arrival ? a.arrival > b.arrival : a.order > b.order;
    }
  };
  struct NodeEntry {
    Node* node;
    SimLink* link;
  };

  void transmit(std::size_t from, wire::Bytes frame, Instant now);
  void transmit_to(std::size_t from, std::uint32_t dst, wire::Bytes frame, Instant now);
  void step(Instant t);
  std::vector<std::uint8_t> take_buffer(wire::Bytes frame);
  void recycle(std::vector<std::uint8_t>&& buffer);

  std::uint64_t seed_;
  ChannelParams defaults_;
  Instant now_{};
  std::vector<std::unique_ptr<SimLink>> links_;
  std::map<std::uint32_t, std::size_t> by_address_;
  std::map<std::pair<std::size_t, std::size_t>, Channel> channels_;
  std::vector<NodeEntry> nodes_;
  std::priority_queue<InFlight, std::vector<InFlight>, Later> in_flight_;
  std::vector<std::vector<std::uint8_t>> pool_;  // frame buffers reused, not reallocated
  NetworkObserver* observer_ = nullptr;
  std::uint64_t order_ = 0;
  std::uint64_t steps_ = 0;
  std::uint64_t no_route_ = 0;
};

}  // namespace synack::sim
