// A Link over a datagram socket: each send() one datagram, each receive() the datagrams
// waiting, read until EAGAIN. `DatagramLink::pair()` joins two stacks in one process through
// a socketpair(AF_UNIX, SOCK_DGRAM), so the real-time runtime can be tested without root or a
// TUN device. The descriptor is non-blocking and is the link's poll_fd().
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "link/link.hpp"

namespace synack::link {

class DatagramLink final : public Link {
 public:
  // Two links, each the other's peer. Throws std::system_error if the socketpair fails.
  static std::pair<std::unique_ptr<DatagramLink>, std::unique_ptr<DatagramLink>> pair(
      std::size_t mtu = 1500);
  ~DatagramLink() override;
  DatagramLink(const DatagramLink&) = delete;
  DatagramLink& operator=(const DatagramLink&) = delete;

  void send(wire::Bytes frame, Instant now) override;
  std::size_t receive(Instant now, FrameSink& sink, std::size_t budget) override;
  std::size_t mtu() const override { return mtu_; }
  int poll_fd() const override { return fd_; }

  std::uint64_t send_dropped() const { return send_dropped_; }

 private:
  DatagramLink(int fd, std::size_t mtu);

  int fd_;
  std::size_t mtu_;
  std::uint64_t send_dropped_ = 0;
  std::vector<std::uint8_t> buffer_;
};

}  // namespace synack::link
