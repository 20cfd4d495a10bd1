#include "bench/scenarios/stack_pair.hpp"

#include <algorithm>
#include <unordered_map>

#include "tcp/config.hpp"

namespace synack::bench {

namespace {

constexpr Ipv4Address kClientAddress(198, 18, 0, 1);
constexpr Ipv4Address kServerAddress(198, 18, 0, 2);

std::unique_ptr<Stack> make_stack(link::Link& link, const Clock& clock, Ipv4Address address,
                                  const PairConfig& config) {
  StackConfig sc;
  sc.address = address;
  sc.max_sockets = config.max_sockets;
  sc.max_buffer_memory = config.max_buffer_memory;
  auto stack = std::make_unique<Stack>(link, clock, sc);
  tcp::Config& tcp = stack->tcp_defaults();
  tcp.send_buffer = config.buffer;
  tcp.receive_buffer = config.buffer;
  tcp.mss = static_cast<std::uint16_t>(config.mtu - 40);
  tcp.nodelay = config.nodelay;
  return stack;
}

}  // namespace

StackPair::StackPair(const PairConfig& config) : virtual_time_(config.virtual_time) {
  // Room for a whole window in flight each way, so the medium never drops: a bench of the
  // stacks, not of loss recovery.
  const std::size_t slots = std::max(config.link_slots, 2 * config.buffer / (config.mtu - 40) + 64);
  auto [a, b] = link::MemoryLink::pair(config.mtu, slots);
  client_link_ = std::move(a);
  server_link_ = std::move(b);
  const Clock& clock = virtual_time_ ? static_cast<const Clock&>(virtual_) : wall_;
  client_ = make_stack(*client_link_, clock, kClientAddress, config);
  server_ = make_stack(*server_link_, clock, kServerAddress, config);
}

Endpoint StackPair::server_endpoint(std::uint16_t port) const {
  return Endpoint{kServerAddress, port};
}

Instant StackPair::now() {
  if (!virtual_time_) return wall_.now();
  virtual_.set(virtual_.now() + microseconds(1));
  return virtual_.now();
}

void StackPair::step() {
  const Instant now = this->now();
  client_->poll(now);
  server_->poll(now);
}

bool StackPair::settle() {
  for (int i = 0; i < 100000; ++i) {
    step();
    if (!client_link_->has_pending() && !server_link_->has_pending()) return true;
  }
  return false;
}

SocketId StackPair::listen(std::uint16_t port, int backlog) {
  SocketId l{};
  if (server_->tcp_socket(l) || server_->bind(l, server_endpoint(port)) ||
      server_->listen(l, backlog)) {
    return -1;
  }
  return l;
}

std::vector<std::pair<SocketId, SocketId>> StackPair::open(SocketId listener, std::uint16_t port,
                                                           std::size_t n) {
  std::vector<std::pair<SocketId, SocketId>> out;
  out.reserve(n);
  // In batches no larger than the backlog the caller gave, so none is refused.
  constexpr std::size_t kBatch = 64;
  for (std::size_t done = 0; done < n;) {
    const std::size_t batch = std::min(kBatch, n - done);
    std::vector<SocketId> clients;
    for (std::size_t i = 0; i < batch; ++i) {
      SocketId c{};
      if (client_->tcp_socket(c) ||
          client_->connect(c, server_endpoint(port)) != std::errc::operation_in_progress) {
        return out;
      }
      clients.push_back(c);
    }
    if (!settle()) return out;
    // Paired by port: accept() returns connections in the order their handshakes ended,
    // which need not be the order of the connect() calls. A stream that wrote to one
    // connection and read another's peer stopped writing when its reads were done, and
    // stalled the stream reading the connection it left unfinished.
    std::unordered_map<std::uint16_t, SocketId> by_port;
    for (const SocketId c : clients) {
      Endpoint local{};
      if (client_->getsockname(c, local)) return out;
      by_port.emplace(local.port, c);
    }
    for (std::size_t i = 0; i < batch; ++i) {
      SocketId s{};
      Endpoint peer{};
      if (server_->accept(listener, s, &peer)) return out;
      const auto c = by_port.find(peer.port);
      if (c == by_port.end()) return out;
      out.emplace_back(c->second, s);
    }
    done += batch;
  }
  return out;
}

}  // namespace synack::bench
