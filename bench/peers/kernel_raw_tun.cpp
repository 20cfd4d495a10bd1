#include "bench/peers/kernel_raw_tun.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench/peers/kernel_scratch_netns.hpp"
#include "bench/peers/kernel_tun_device.hpp"
#include "bench/peers/kernel_udp_segments.hpp"
#include "link/tun/netns.hpp"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

namespace synack::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kLimit = std::chrono::seconds(30);
constexpr std::uint32_t kKernelAddress = 0xc6120001;  // 198.18.0.1
constexpr std::uint32_t kUserAddress = 0xc6120002;    // 198.18.0.2
constexpr std::uint16_t kPort = 9000;
constexpr std::size_t kSendSize = kUdpSegment * kSegmentsPerSend;

// struct virtio_net_hdr (linux/virtio_net.h, which C++ cannot include whole): what
// precedes each packet on an IFF_VNET_HDR descriptor, in host byte order.
struct VnetHeader {
  std::uint8_t flags = 0;
  std::uint8_t gso_type = 0;
  std::uint16_t hdr_len = 0, gso_size = 0, csum_start = 0, csum_offset = 0;
};
static_assert(sizeof(VnetHeader) == 10);
constexpr std::uint8_t kNeedsCsum = 1;  // kNeedsCsum
constexpr std::uint8_t kGsoNone = 0;    // kGsoNone
constexpr std::uint8_t kGsoUdpL4 = 5;   // kGsoUdpL4 (Linux 6.2)
constexpr std::size_t kVnetHeader = sizeof(VnetHeader);

// The producing side stays at most this many segments ahead of the consuming side (under
// the TUN queue's 500 packets): a producer that floods only makes work that is dropped,
// and on a shared machine that work takes the consumer's CPU.
constexpr std::uint64_t kWindow = 400;

// Flow control between the two threads: `consumed` is what the far side checked, in
// segments. Waits (yielding the CPU) until `produced` is within the window, or `stop`.
bool wait_for_window(std::uint64_t produced, const std::atomic<std::uint64_t>& consumed,
                     const std::atomic<bool>& stop, Clock::time_point deadline) {
  while (produced - consumed.load(std::memory_order_acquire) > kWindow) {
    if (stop.load(std::memory_order_relaxed) || Clock::now() > deadline) return false;
    ::sched_yield();
  }
  return true;
}

sockaddr_in address(std::uint32_t ip, std::uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(ip);
  return sa;
}

std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

// The figure, once `counted` bytes (at least the target) arrived between first and last.
Run gbits(std::uint64_t counted, Clock::time_point first, Clock::time_point last) {
  const double seconds = std::chrono::duration<double>(last - first).count();
  if (seconds <= 0) return Run::fail("no time elapsed");
  return Run::of(static_cast<double>(counted) * 8 / seconds / 1e9);
}

// Kernel -> user: a UDP sender in the namespace, the reader on the TUN descriptor.
Run from_kernel(const std::string& netns, int tun, bool vnet_hdr, std::uint64_t bytes) {
  const auto deadline = Clock::now() + kLimit;
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> consumed{0};
  std::optional<std::string> sender_error;

  std::thread sender([&] {
    auto inside = link::NetnsGuard::enter(netns);
    if (!inside) {
      sender_error = inside.error();
      return;
    }
    Fd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    const int segment = static_cast<int>(kUdpSegment);
    const sockaddr_in to = address(kUserAddress, kPort);
    if (!fd || ::setsockopt(fd.get(), SOL_UDP, UDP_SEGMENT, &segment, sizeof segment) != 0 ||
        ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
      sender_error = errno_text("UDP sender socket");
      return;
    }
    std::vector<std::uint8_t> datagram(kSendSize);
    fill_segments(datagram.data(), kSegmentsPerSend);
    std::uint64_t seq = 0;
    while (wait_for_window(seq, consumed, stop, deadline)) {
      set_sequence(datagram.data(), kSegmentsPerSend, seq);
      if (::send(fd.get(), datagram.data(), datagram.size(), 0) < 0) {
        if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) continue;
        sender_error = errno_text("UDP send");
        return;
      }
      seq += kSegmentsPerSend;
    }
  });

  std::optional<std::string> reader_error;
  std::vector<std::uint8_t> buffer(kVnetHeader + 65536);
  std::uint64_t counted = 0, last_seq = 0;
  bool seen_any = false;
  Clock::time_point first{}, last{};
  while (counted < bytes) {
    if (Clock::now() > deadline) {
      reader_error = "timed out after " + std::to_string(counted) + " bytes";
      break;
    }
    const ssize_t n = ::read(tun, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EAGAIN) {
        pollfd p{tun, POLLIN, 0};
        ::poll(&p, 1, 100);
        continue;
      }
      if (errno == EINTR) continue;
      reader_error = errno_text("read from the TUN device");
      break;
    }
    const std::size_t header = vnet_hdr ? kVnetHeader : 0;
    const auto size = static_cast<std::size_t>(n);
    if (size < header) continue;
    const auto packet = parse_ip_udp(buffer.data() + header, size - header);
    if (!packet || packet->destination_port != kPort) continue;  // not ours (IGMP, ...)
    if (vnet_hdr) {
      VnetHeader vh;
      std::memcpy(&vh, buffer.data(), sizeof vh);
      if (vh.gso_type != kGsoNone && (vh.gso_type != kGsoUdpL4 || vh.gso_size != kUdpSegment)) {
        reader_error = "unexpected GSO type " + std::to_string(vh.gso_type) + " size " +
                       std::to_string(vh.gso_size);
        break;
      }
    }
    if ((reader_error = check_segments(packet->payload, packet->size, last_seq, seen_any))) break;
    if (counted == 0) first = Clock::now();
    counted += packet->size;
    consumed.store(last_seq + 1, std::memory_order_release);
    last = Clock::now();
  }
  stop = true;
  sender.join();
  if (sender_error) return Run::fail("kernel sender: " + *sender_error);
  if (reader_error) return Run::fail("TUN reader: " + *reader_error);
  return gbits(counted, first, last);
}

// User -> kernel: the writer on the TUN descriptor, a UDP receiver in the namespace.
Run to_kernel(const std::string& netns, int tun, bool vnet_hdr, std::uint64_t bytes) {
  const auto deadline = Clock::now() + kLimit;
  Fd receiver;
  {
    auto inside = link::NetnsGuard::enter(netns);
    if (!inside) return Run::fail(inside.error());
    receiver = Fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    const int one = 1, buffer = 64 << 20;
    const timeval timeout{5, 0};
    const sockaddr_in at = address(kKernelAddress, kPort);
    if (!receiver || ::setsockopt(receiver.get(), SOL_UDP, UDP_GRO, &one, sizeof one) != 0 ||
        ::setsockopt(receiver.get(), SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer) != 0 ||
        ::setsockopt(receiver.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) != 0 ||
        ::bind(receiver.get(), reinterpret_cast<const sockaddr*>(&at), sizeof at) != 0) {
      return Run::fail(errno_text("UDP receiver socket"));
    }
  }

  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> consumed{0};
  std::optional<std::string> writer_error;
  std::thread writer([&] {
    // One packet per write: a 1500-byte packet, or with vnet_hdr a GSO super-packet the
    // kernel takes whole (the UDP_GRO socket accepts it unsegmented).
    const std::size_t payload = vnet_hdr ? kSendSize : kUdpSegment;
    const std::size_t header = vnet_hdr ? kVnetHeader : 0;
    std::vector<std::uint8_t> frame(header + kIpUdpHeaders + payload);
    if (vnet_hdr) {
      VnetHeader vh{};
      vh.flags = kNeedsCsum;
      vh.gso_type = kGsoUdpL4;
      vh.hdr_len = kIpUdpHeaders;
      vh.gso_size = kUdpSegment;
      vh.csum_start = 20;
      vh.csum_offset = 6;
      std::memcpy(frame.data(), &vh, sizeof vh);
    }
    write_ip_udp_header(frame.data() + header, kUserAddress, kKernelAddress, kPort, kPort, payload,
                        vnet_hdr);
    std::uint8_t* data = frame.data() + header + kIpUdpHeaders;
    const std::size_t segments = payload / kUdpSegment;
    fill_segments(data, segments);
    std::uint64_t seq = 0;
    while (wait_for_window(seq, consumed, stop, deadline)) {
      set_sequence(data, segments, seq);
      if (::write(tun, frame.data(), frame.size()) < 0) {
        if (errno == EINTR || errno == EAGAIN || errno == ENOBUFS) continue;
        writer_error = errno_text("write to the TUN device");
        return;
      }
      seq += segments;
    }
  });

  // recvmmsg: up to kBatch datagrams (or GRO super-datagrams) per call.
  constexpr std::size_t kBatch = 32, kBufferSize = 65536;
  std::vector<std::uint8_t> buffers(kBatch * kBufferSize);
  std::vector<iovec> iov(kBatch);
  std::vector<mmsghdr> messages(kBatch);
  for (std::size_t i = 0; i < kBatch; ++i) {
    iov[i] = {buffers.data() + i * kBufferSize, kBufferSize};
    messages[i].msg_hdr.msg_iov = &iov[i];
    messages[i].msg_hdr.msg_iovlen = 1;
  }
  std::optional<std::string> receiver_error;
  std::uint64_t counted = 0, last_seq = 0;
  bool seen_any = false;
  Clock::time_point first{}, last{};
  while (counted < bytes && !receiver_error) {
    if (Clock::now() > deadline) {
      receiver_error = "timed out after " + std::to_string(counted) + " bytes";
      break;
    }
    const int n = ::recvmmsg(receiver.get(), messages.data(), kBatch, MSG_WAITFORONE, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      receiver_error = errno_text("recvmmsg");  // EAGAIN: 5 s without a datagram
      break;
    }
    if (counted == 0) first = Clock::now();
    for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) {
      const std::size_t size = messages[i].msg_len;
      if ((receiver_error =
               check_segments(buffers.data() + i * kBufferSize, size, last_seq, seen_any))) {
        break;
      }
      counted += size;
    }
    consumed.store(last_seq + 1, std::memory_order_release);
    last = Clock::now();
  }
  stop = true;
  writer.join();
  if (writer_error) return Run::fail("TUN writer: " + *writer_error);
  if (receiver_error) return Run::fail("kernel receiver: " + *receiver_error);
  return gbits(counted, first, last);
}

}  // namespace

Run raw_tun_ceiling(Direction direction, bool vnet_hdr, std::uint64_t bytes) {
  if (auto why = needs_root()) return Run::skip(*why);
  if (bytes == 0) return Run::fail("a ceiling run needs at least one byte");
  ScratchNetns netns;
  if (auto e = netns.make("synack-bench", {"tun"})) return Run::fail(*e);
  Fd tun;
  {
    auto inside = link::NetnsGuard::enter(netns.name(0));
    if (!inside) return Run::fail(inside.error());
    auto device = open_tun(pid_name("sbt", ""), "198.18.0.1/24", vnet_hdr);
    if (!device) return Run::fail(device.error());
    tun = std::move(*device);
  }
  if (direction == Direction::FromKernel) {
    if (::fcntl(tun.get(), F_SETFL, O_NONBLOCK) != 0) return Run::fail(errno_text("O_NONBLOCK"));
    return from_kernel(netns.name(0), tun.get(), vnet_hdr, bytes);
  }
  return to_kernel(netns.name(0), tun.get(), vnet_hdr, bytes);
}

}  // namespace synack::bench
