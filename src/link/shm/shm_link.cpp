#include "link/shm/shm_link.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "link/shm/rendezvous.hpp"
#include "link/tcp_segmentation.hpp"

namespace synack::link::shm {
namespace {

Unexpected<RegionError> failure(int error, std::string message) {
  return Unexpected(
      RegionError{std::error_code(error, std::generic_category()), std::move(message)});
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// How long the creator waits for an attacher's Hello, which follows its connect at once.
constexpr int kHelloTimeoutMs = 200;
// Busy polling looks at the control events once per this many empty polls.
constexpr std::uint32_t kBusyServiceEvery = 1024;

}  // namespace

ShmLink::ShmLink(std::unique_ptr<Region> region, const ShmLinkOptions& options)
    : region_(std::move(region)), options_(options), rx_(&region_->rx()), tx_(&region_->tx()) {}

ShmLink::~ShmLink() {
  close_fd(peer_fd_);  // the peer sees its end close: this side is gone
  close_fd(listen_fd_);
  close_fd(peer_eventfd_);
  close_fd(own_eventfd_);
  close_fd(epoll_fd_);
}

bool ShmLink::open_descriptors() {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  own_eventfd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || own_eventfd_ < 0) return false;
  watch(own_eventfd_, true);
  return true;
}

void ShmLink::watch(int fd, bool add) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.fd = fd;
  ::epoll_ctl(epoll_fd_, add ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, fd, &ev);
}

Result<std::unique_ptr<ShmLink>, RegionError> ShmLink::create(std::string_view name,
                                                              const ShmLinkOptions& options) {
  auto region = Region::create(name, options.region);
  if (!region) return Unexpected(region.error());
  std::unique_ptr<ShmLink> link(new ShmLink(std::move(*region), options));
  if (!link->open_descriptors()) {
    return failure(errno, std::string("shm link: epoll or eventfd: ") + std::strerror(errno));
  }
  link->listen_fd_ = rendezvous_listen(name);
  if (link->listen_fd_ < 0) {
    const int e = errno;
    if (e == EADDRINUSE) {
      return failure(e, "shm " + std::string(name) +
                            ": another live process serves this name (its rendezvous socket "
                            "@" +
                            rendezvous_name(name) + " is bound)");
    }
    return failure(e, "shm " + std::string(name) + ": rendezvous socket: " + std::strerror(e));
  }
  link->watch(link->listen_fd_, true);
  return link;
}

Result<std::unique_ptr<ShmLink>, RegionError> ShmLink::attach(std::string_view name,
                                                              const ShmLinkOptions& options) {
  auto region = Region::attach(name);
  if (!region) return Unexpected(region.error());
  std::unique_ptr<ShmLink> link(new ShmLink(std::move(*region), options));
  if (!link->open_descriptors()) {
    return failure(errno, std::string("shm link: epoll or eventfd: ") + std::strerror(errno));
  }
  const std::string what = "shm " + std::string(name) + ": ";
  const int fd = rendezvous_connect(name);
  if (fd < 0) {
    const int e = errno;
    return failure(e, what + "nobody answers on @" + rendezvous_name(name) +
                          " (its creator died?): " + std::strerror(e));
  }
  link->peer_fd_ = fd;
  const Hello hello{kRegionMagic, kRegionVersion, static_cast<std::uint32_t>(::getpid())};
  if (!send_message(fd, &hello, sizeof hello, link->own_eventfd_)) {
    return failure(errno, what + "sending the hello: " + std::strerror(errno));
  }
  Welcome welcome{};
  int peer_eventfd = -1;
  if (!receive_message(fd, &welcome, sizeof welcome, peer_eventfd, options.attach_timeout_ms)) {
    const int e = errno;
    if (e == ETIMEDOUT) {
      return failure(e, what + "the creator did not answer within " +
                            std::to_string(options.attach_timeout_ms) +
                            " ms (is its runtime running?)");
    }
    return failure(e ? e : EPROTO, what + "no answer from the creator");
  }
  link->peer_eventfd_ = peer_eventfd;
  if (welcome.magic != kRegionMagic || welcome.status != Welcome::accepted || peer_eventfd < 0) {
    if (welcome.status == Welcome::busy) {
      return failure(EBUSY, what + "another process is attached");
    }
    return failure(EPROTO, what + "the creator refused the attach");
  }
  // The creator emptied the rings before it answered: start from what it left.
  link->tx_->resync();
  link->rx_->resync();
  link->watch(fd, true);
  link->state_.store(PeerState::attached, std::memory_order_release);
  return link;
}

std::uint32_t ShmLink::attacher_generation() const {
  return region_->header().attacher.generation.load(std::memory_order_acquire);
}

bool ShmLink::peer_alive() const {
  if (peer_state() != PeerState::attached) return false;
  const auto pid = region_->peer_liveness().pid.load(std::memory_order_acquire);
  return pid != 0 && !(::kill(static_cast<pid_t>(pid), 0) < 0 && errno == ESRCH);
}

void ShmLink::send(wire::Bytes frame, Instant /*now*/) {
  push(frame, false);
}

std::span<std::uint8_t> ShmLink::lend(std::size_t size) {
  if (size > region_->mtu() || state_.load(std::memory_order_relaxed) != PeerState::attached) {
    return {};
  }
  return tx_->reserve(size);
}

void ShmLink::send_segmented(wire::Bytes frame, Instant now, std::size_t segment_size) {
  const TcpFrameLayout layout = tcp_frame_layout(frame);
  if (layout.tcp_header == 0 || layout.payload > segment_size) {
    // Pieces, each summed, through send(): from a copy, as the frame may lie where the
    // pieces go (built in place in a loan, lend()).
    scratch_.assign(frame.begin(), frame.end());
    Link::send_segmented(scratch_, now, segment_size);
    return;
  }
  push(frame, true);
}

void ShmLink::push(wire::Bytes frame, bool checksum_left) {
  if (frame.size() > region_->mtu()) {
    ++stats_.oversize;
    return;
  }
  if (state_.load(std::memory_order_relaxed) != PeerState::attached) {
    ++stats_.send_dropped_no_peer;
    return;
  }
  if (!tx_->try_push(frame, checksum_left)) {
    ++stats_.send_dropped_full;  // the peer's queue is full: dropped, as a device would
    return;
  }
  ++stats_.frames_out;
  stats_.bytes_out += frame.size();
  if (options_.busy_poll) return;
  // Publishing the frame, then looking at the flag: the fence pairs with the consumer's
  // between raising the flag and looking at the ring (shm_link.hpp).
  std::atomic_thread_fence(std::memory_order_seq_cst);
  auto& waiting = region_->tx_waiting();
  if (waiting.load(std::memory_order_relaxed) != 0 &&
      waiting.exchange(0, std::memory_order_relaxed) != 0) {
    const std::uint64_t one = 1;
    // A full counter still leaves the eventfd readable: nothing is lost.
    [[maybe_unused]] const ssize_t n = ::write(peer_eventfd_, &one, sizeof one);
    ++stats_.wakeups_sent;
  }
}

std::size_t ShmLink::receive(Instant now, FrameSink& sink, std::size_t budget) {
  std::size_t delivered = 0;
  for (int round = 0; round < 2; ++round) {
    while (delivered < budget) {
      bool checksum_left = false;
      const auto frame = rx_->peek(&checksum_left);
      if (!frame) break;
      ++stats_.frames_in;
      stats_.bytes_in += frame->size();
      if (checksum_left) {
        sink.on_trusted_frame(wire::Bytes(frame->data(), frame->size()), now);
      } else {
        sink.on_frame(wire::Bytes(frame->data(), frame->size()), now);
      }
      rx_->pop();
      ++delivered;
    }
    rx_->publish();
    stats_.corrupt = rx_->corrupt();
    if (delivered == budget) return delivered;  // maybe more: next_arrival() says now
    if (options_.busy_poll) {
      if (++idle_polls_ % kBusyServiceEvery == 0) service();
      return delivered;
    }
    // Going idle. Clear the eventfd first, then raise the flag, then look again: a frame
    // published after the look finds the flag raised and writes the eventfd, which stays
    // readable until the next time here.
    service();
    auto& waiting = region_->rx_waiting();
    waiting.store(1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (rx_->empty()) return delivered;
  }
  return delivered;
}

std::optional<Instant> ShmLink::next_arrival() const {
  if (options_.busy_poll && peer_state() == PeerState::attached) return kEpoch;
  if (!rx_->empty()) return kEpoch;  // frames left behind by a bounded poll: due at once
  return std::nullopt;
}

void ShmLink::service() {
  epoll_event events[4];
  const int n = ::epoll_wait(epoll_fd_, events, 4, 0);
  for (int i = 0; i < n; ++i) {
    const int fd = events[i].data.fd;
    if (fd == own_eventfd_) {
      std::uint64_t count;
      [[maybe_unused]] const ssize_t r = ::read(own_eventfd_, &count, sizeof count);
    } else if (fd == listen_fd_) {
      accept_peers();
    } else if (fd == peer_fd_) {
      // The peer sends nothing after its hello: readable means its end closed.
      char byte;
      const ssize_t r = ::recv(peer_fd_, &byte, 1, MSG_DONTWAIT);
      if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR) ||
          (events[i].events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR))) {
        lose_peer();
      }
    }
  }
}

void ShmLink::lose_peer() {
  watch(peer_fd_, false);
  close_fd(peer_fd_);
  close_fd(peer_eventfd_);
  ++stats_.peers_lost;
  if (region_->role() == Region::Role::creator) {
    region_->header().attacher.pid.store(0, std::memory_order_release);
    state_.store(PeerState::waiting, std::memory_order_release);
  } else {
    state_.store(PeerState::gone, std::memory_order_release);
  }
}

void ShmLink::accept_peers() {
  for (int i = 0; i < 4; ++i) {
    const int connection = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (connection < 0) return;  // EAGAIN: no more (or a transient error; retried on the next)
    admit(connection);
  }
}

void ShmLink::admit(int connection) {
  Hello hello{};
  int peer_eventfd = -1;
  const bool hello_ok =
      receive_message(connection, &hello, sizeof hello, peer_eventfd, kHelloTimeoutMs) &&
      hello.magic == kRegionMagic && hello.version == kRegionVersion && peer_eventfd >= 0;
  // A peer we believe attached may have died just now: its socket says so.
  if (hello_ok && peer_fd_ >= 0) {
    pollfd p{peer_fd_, POLLIN, 0};
    if (::poll(&p, 1, 0) > 0) lose_peer();
  }
  if (!hello_ok || peer_fd_ >= 0) {
    const Welcome no{kRegionMagic, hello_ok ? Welcome::busy : Welcome::refused, 0};
    send_message(connection, &no, sizeof no, -1);
    if (peer_eventfd >= 0) ::close(peer_eventfd);
    ::close(connection);
    ++stats_.peers_refused;
    return;
  }
  ucred credentials{};
  socklen_t length = sizeof credentials;
  const bool have_pid =
      ::getsockopt(connection, SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0;
  // No process uses the rings now (the previous attacher is gone, the new one waits for
  // this answer): empty them, then hand the side over with a new generation.
  region_->reset_rings();
  Liveness& side = region_->header().attacher;
  const std::uint32_t generation = side.generation.load(std::memory_order_relaxed) + 1;
  side.pid.store(have_pid ? static_cast<std::uint32_t>(credentials.pid) : hello.pid,
                 std::memory_order_relaxed);
  side.generation.store(generation, std::memory_order_release);
  const Welcome yes{kRegionMagic, Welcome::accepted, generation};
  if (!send_message(connection, &yes, sizeof yes, own_eventfd_)) {
    ::close(peer_eventfd);
    ::close(connection);
    side.pid.store(0, std::memory_order_release);
    ++stats_.peers_refused;
    return;
  }
  peer_fd_ = connection;
  peer_eventfd_ = peer_eventfd;
  watch(peer_fd_, true);
  ++stats_.peers_attached;
  state_.store(PeerState::attached, std::memory_order_release);
}

}  // namespace synack::link::shm
