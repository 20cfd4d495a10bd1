#include "link/tun/tun_link.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>

#include "link/tun/tun_read_ring.hpp"
#include "link/tun/tun_ring.hpp"
#include "link/tun/vnet_header.hpp"

namespace synack::link {
namespace {

constexpr std::size_t kReadSlots = 64;    // packets one io_uring_enter takes at most
constexpr std::size_t kMinReadBatch = 4;  // reads an empty-handed batch still makes

TunError error_for(const std::string& what, const std::string& name) {
  const int e = errno;
  TunError err{{e, std::generic_category()}, what + ": " + std::strerror(e)};
  switch (e) {
    case ENOENT:
    case ENXIO:
    case ENODEV:
      if (what.find("/dev/net/tun") != std::string::npos) {
        err.message +=
            ". This system has no TUN device: load the module (modprobe tun), or in a "
            "container pass it in (docker run --device /dev/net/tun --cap-add NET_ADMIN).";
      }
      break;
    case EACCES:
    case EPERM:
      err.message +=
          ". Creating or configuring a TUN device needs CAP_NET_ADMIN: run as root (sudo), "
          "or give the binary the capability (sudo setcap cap_net_admin+ep synack), or "
          "let root make the device for you first (sudo ip tuntap add dev " +
          name + " mode tun user $USER, or sudo synack netns up NAME).";
      break;
    case EBUSY:
      err.message += ". Another process already has " + name +
                     " open (another synack serve?); stop it or use another device name.";
      break;
    case EINVAL:
      if (what.find("TUNSETIFF") != std::string::npos) {
        err.message += ". A device named " + name +
                       " exists but is not a TUN device without packet information "
                       "(IFF_TUN | IFF_NO_PI); remove it (ip link del " +
                       name + ") or pick another name.";
      }
      break;
    default:
      break;
  }
  return err;
}

bool fill_name(ifreq& ifr, const std::string& name) {
  if (name.empty() || name.size() >= IFNAMSIZ) return false;
  std::memset(&ifr, 0, sizeof ifr);
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  return true;
}

sockaddr_in to_sockaddr(Ipv4Address a) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(a.to_u32());
  return sin;
}

// The ioctls take the address inside struct ifreq's sockaddr; copying keeps to the rule of
// no casts between unrelated structs.
void put_address(ifreq& ifr, Ipv4Address a) {
  const sockaddr_in sin = to_sockaddr(a);
  static_assert(sizeof sin <= sizeof ifr.ifr_addr);
  std::memcpy(&ifr.ifr_addr, &sin, sizeof sin);
}

void disable_ipv6(const std::string& name) {
  std::ofstream f("/proc/sys/net/ipv6/conf/" + name + "/disable_ipv6");
  if (f) f << "1\n";
}

}  // namespace

std::optional<InterfaceAddress> InterfaceAddress::parse(std::string_view text) {
  const auto slash = text.find('/');
  auto address = Ipv4Address::parse(text.substr(0, slash));
  if (!address) return std::nullopt;
  InterfaceAddress out{*address, 24};
  if (slash != std::string_view::npos) {
    const auto digits = text.substr(slash + 1);
    int prefix = -1;
    auto [next, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (ec != std::errc{} || next != digits.data() + digits.size() || prefix < 0 || prefix > 32) {
      return std::nullopt;
    }
    out.prefix = prefix;
  }
  return out;
}

std::string InterfaceAddress::to_string() const {
  return address.to_string() + "/" + std::to_string(prefix);
}

bool InterfaceAddress::contains(Ipv4Address other) const {
  const std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
  return (address.to_u32() & mask) == (other.to_u32() & mask);
}

std::optional<TunError> configure_interface(const std::string& name, std::size_t mtu,
                                            const std::optional<InterfaceAddress>& address,
                                            bool up) {
  ifreq ifr;
  if (!fill_name(ifr, name)) {
    return TunError{std::make_error_code(std::errc::invalid_argument),
                    "interface name '" + name + "' must be 1 to 15 characters"};
  }
  const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return error_for("socket(AF_INET) for interface ioctls", name);
  auto fail = [&](const std::string& what) {
    TunError e = error_for(what + " on " + name, name);
    ::close(s);
    return e;
  };
  if (mtu != 0) {
    ifr.ifr_mtu = static_cast<int>(mtu);
    if (::ioctl(s, SIOCSIFMTU, &ifr) < 0) return fail("SIOCSIFMTU " + std::to_string(mtu));
  }
  if (address) {
    fill_name(ifr, name);
    put_address(ifr, address->address);
    if (::ioctl(s, SIOCSIFADDR, &ifr) < 0) return fail("SIOCSIFADDR " + address->to_string());
    fill_name(ifr, name);
    const std::uint32_t mask =
        address->prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - address->prefix);
    put_address(ifr, Ipv4Address(mask));
    if (::ioctl(s, SIOCSIFNETMASK, &ifr) < 0) {
      return fail("SIOCSIFNETMASK " + address->to_string());
    }
  }
  if (up) {
    fill_name(ifr, name);
    if (::ioctl(s, SIOCGIFFLAGS, &ifr) < 0) return fail("SIOCGIFFLAGS");
    if ((ifr.ifr_flags & IFF_UP) == 0) {
      ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
      if (::ioctl(s, SIOCSIFFLAGS, &ifr) < 0) return fail("SIOCSIFFLAGS IFF_UP");
    }
  }
  ::close(s);
  return std::nullopt;
}

Result<std::unique_ptr<TunLink>, TunError> TunLink::open(const TunConfig& config) {
  ifreq ifr;
  if (!fill_name(ifr, config.name)) {
    return Unexpected(TunError{std::make_error_code(std::errc::invalid_argument),
                               "TUN device name '" + config.name + "' must be 1 to 15 characters"});
  }
  const int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return Unexpected(error_for("cannot open /dev/net/tun", config.name));
  ifr.ifr_flags = static_cast<short>(IFF_TUN | IFF_NO_PI | (config.offloads ? IFF_VNET_HDR : 0));
  if (::ioctl(fd, TUNSETIFF, &ifr) < 0) {
    TunError e = error_for("TUNSETIFF " + config.name, config.name);
    ::close(fd);
    return Unexpected(std::move(e));
  }
  const std::string name(ifr.ifr_name);  // the kernel's, if the name was a pattern (tun%d)
  if (config.offloads) {
    // The header without num_buffers; the kernel may then send us checksums to complete
    // (which we trust) and TCP super-segments, and takes both from us.
    int size = static_cast<int>(kVnetHeaderSize);
    const unsigned offload = TUN_F_CSUM | TUN_F_TSO4;
    if (::ioctl(fd, TUNSETVNETHDRSZ, &size) < 0 || ::ioctl(fd, TUNSETOFFLOAD, offload) < 0) {
      TunError e = error_for("TUNSETVNETHDRSZ/TUNSETOFFLOAD " + name, name);
      ::close(fd);
      return Unexpected(std::move(e));
    }
  }
  if (config.persist && ::ioctl(fd, TUNSETPERSIST, 1) < 0) {
    TunError e = error_for("TUNSETPERSIST " + name, name);
    ::close(fd);
    return Unexpected(std::move(e));
  }
  if (config.disable_ipv6) disable_ipv6(name);
  if (auto e = configure_interface(name, config.mtu, config.host, config.bring_up)) {
    ::close(fd);
    return Unexpected(std::move(*e));
  }
  // The MTU in force, whether we set it or found it.
  std::size_t mtu = 1500;
  const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s >= 0) {
    ifreq q;
    fill_name(q, name);
    if (::ioctl(s, SIOCGIFMTU, &q) == 0 && q.ifr_mtu > 0) mtu = static_cast<std::size_t>(q.ifr_mtu);
    ::close(s);
  }
  std::unique_ptr<TunLink> link(new TunLink(fd, name, mtu, config.offloads));
  link->start_batching(config.batching);
  return link;
}

TunLink::TunLink(int fd, std::string name, std::size_t mtu, bool vnet)
    : fd_(fd), name_(std::move(name)), mtu_(mtu), vnet_(vnet) {}

TunLink::~TunLink() {
  ring_.reset();  // what was queued still goes
  read_ring_.reset();
  ::close(fd_);
}

void TunLink::start_batching(bool wanted) {
  buffer_.resize(kVnetHeaderSize + 65536);
  if (!wanted) {
    batching_ = "writev (batching off)";
    return;
  }
  TunRing::Sizes sizes;
  // A write holds the virtio-net header and, with offloads, a 64 KiB super-segment.
  sizes.write_capacity = vnet_ ? kVnetHeaderSize + 65535 : mtu_;
  std::string why;
  ring_ = TunRing::create(fd_, sizes, stats_, why);
  batching_ = ring_ ? "io_uring writes (" + std::to_string(ring_->sizes().write_slots) +
                          " per call, " +
                          (ring_->registered_buffers() ? "registered" : "unregistered") +
                          " buffers), reads (up to " + std::to_string(kReadSlots) +
                          " per call, on the first thread to receive)"
                    : "writev (" + why + ")";
  read_batching_ = ring_ != nullptr;
}

void TunLink::start_read_ring() {
  read_batching_ = false;  // one attempt
  TunReadRing::Sizes sizes;
  // A packet and its virtio-net header: with offloads up to 64 KiB; without, the MTU
  // (rounded up; a packet beyond it, after the MTU was raised, is a counted read error).
  sizes.capacity = vnet_ ? kVnetHeaderSize + 65535 : (mtu_ + 2047) / 2048 * 2048;
  sizes.slots = kReadSlots;
  std::string why;
  read_ring_ = TunReadRing::create(fd_, sizes, stats_, why);
  if (!read_ring_) batching_ += "; reads through read(2) (" + why + ")";
}

void TunLink::flush(Instant /*now*/) {
  if (ring_) ring_->submit();
}

bool TunLink::write_packet(const iovec* iov, int count, std::size_t bytes) {
  for (;;) {
    const ssize_t n = ::writev(fd_, iov, count);
    if (n >= 0) {
      ++stats_.frames_out;
      stats_.bytes_out += bytes;
      return true;
    }
    if (errno == EINTR) continue;
    // EAGAIN (the kernel's backlog is full), EIO (the device is down): the medium drops.
    ++stats_.send_dropped;
    return false;
  }
}

// iovec's base is a void*, not const: the kernel only reads it on a write.
void TunLink::send(wire::Bytes frame, Instant /*now*/) {
  if (frame.size() > mtu_) {
    ++stats_.oversize;
    return;
  }
  if (ring_) {
    const std::size_t header = vnet_ ? kVnetHeaderSize : 0;
    const auto buf = ring_->write_buffer();
    if (buf.empty()) return;             // counted
    std::memset(buf.data(), 0, header);  // no offload asked
    std::memcpy(buf.data() + header, frame.data(), frame.size());
    ring_->queue_write(header + frame.size(), frame.size(), false);
    return;
  }
  const std::array<std::uint8_t, kVnetHeaderSize> none{};  // no offload asked
  iovec iov[2];
  int count = 0;
  if (vnet_) iov[count++] = {const_cast<std::uint8_t*>(none.data()), none.size()};
  iov[count++] = {const_cast<std::uint8_t*>(frame.data()), frame.size()};
  write_packet(iov, count, frame.size());
}

void TunLink::send_segmented(wire::Bytes frame, Instant now, std::size_t segment_size) {
  if (!vnet_) {
    Link::send_segmented(frame, now, segment_size);  // the software fallback
    return;
  }
  if (frame.size() > 65535) {
    ++stats_.oversize;
    return;
  }
  const VnetHeader h = vnet_header_for_tcp(frame, segment_size);
  if (h.flags == 0) {  // not TCP: its checksum was never left to the kernel
    send(frame, now);
    return;
  }
  const auto header = encode_vnet_header(h);
  if (ring_) {
    const auto buf = ring_->write_buffer();
    if (buf.empty()) return;  // counted
    std::memcpy(buf.data(), header.data(), header.size());
    std::memcpy(buf.data() + header.size(), frame.data(), frame.size());
    ring_->queue_write(header.size() + frame.size(), frame.size(), h.gso_type != kVnetGsoNone);
    return;
  }
  iovec iov[2] = {{const_cast<std::uint8_t*>(header.data()), header.size()},
                  {const_cast<std::uint8_t*>(frame.data()), frame.size()}};
  if (write_packet(iov, 2, frame.size()) && h.gso_type != kVnetGsoNone) ++stats_.segmented_out;
}

std::size_t TunLink::receive(Instant now, FrameSink& sink, std::size_t budget) {
  if (read_batching_) start_read_ring();  // lazily: the ring belongs to this thread
  // The ring's owner reads through it; another thread (the runtime polls from the
  // application's threads), or every thread once the kernel refused a batched read, with
  // read(2). Either way the device's queue is read from its head and no read is left
  // outstanding, so frames come up in the order the device produced them.
  if (read_ring_ && read_ring_->usable() && read_ring_->owned_by_caller()) {
    return receive_batched(now, sink, budget);
  }
  std::size_t delivered = 0;
  while (delivered < budget) {
    ++stats_.receive_calls;
    const ssize_t n = ::read(fd_, buffer_.data(), buffer_.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) ++stats_.read_errors;
      break;
    }
    if (n == 0) break;
    ++delivered;
    deliver(wire::Bytes(buffer_.data(), static_cast<std::size_t>(n)), now, sink);
  }
  return delivered;
}

std::size_t TunLink::receive_batched(Instant now, FrameSink& sink, std::size_t budget) {
  std::size_t delivered = 0;
  // Bounded: each batch takes at least one packet or ends the loop.
  while (delivered < budget) {
    const std::size_t want = std::min(budget - delivered, read_batch_);
    const std::size_t got = read_ring_->read(want);
    for (std::size_t i = 0; i < got; ++i) deliver(read_ring_->packet(i), now, sink);
    delivered += got;
    if (got < want) {
      // The queue ran dry: next time about what came, so that an idle poll costs few
      // empty reads, and a burst is met again within a few doublings.
      read_batch_ = std::clamp(2 * got, kMinReadBatch, kReadSlots);
      break;
    }
    read_batch_ = std::min(2 * read_batch_, kReadSlots);
  }
  return delivered;
}

void TunLink::deliver(wire::Bytes packet, Instant now, FrameSink& sink) {
  if (!vnet_) {
    ++stats_.frames_in;
    stats_.bytes_in += packet.size();
    sink.on_frame(packet, now);
    return;
  }
  if (packet.size() < kVnetHeaderSize) {
    ++stats_.bad_vnet;
    return;
  }
  const VnetHeader h = decode_vnet_header(wire::Bytes(packet.data(), kVnetHeaderSize));
  const wire::Bytes frame(packet.data() + kVnetHeaderSize, packet.size() - kVnetHeaderSize);
  ++stats_.frames_in;
  stats_.bytes_in += frame.size();
  if ((h.gso_type & ~kVnetGsoEcn) != kVnetGsoNone) ++stats_.coalesced_in;
  // A super-segment is one segment to TCP (RFC 9293 sets no size on a segment), and its
  // IPv4 total length covers it all; only the checksum needs the header's word.
  if (vnet_checksum_trusted(h)) {
    sink.on_trusted_frame(frame, now);
  } else {
    sink.on_frame(frame, now);
  }
}

}  // namespace synack::link
