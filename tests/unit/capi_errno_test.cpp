// The C ABI's errno values, case by case, against the real kernel: every error of the
// socket lifecycle runs twice, once through synack_* on a synack host and once through the
// C library on the kernel's own sockets over loopback (127.0.0.1, loopback traffic only),
// and both must give the same return value and errno. Where they must differ, the table
// says why.
//
// Each case is written once, against Api: the calls, plus the few things that need a peer
// (a connected socket, a connect that stays in progress, a refused one, a peer's reset).
// On the kernel the peer is another kernel socket on loopback; on synack the test plays it,
// injecting the segments with synack_netdev_send.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/packetdrill_driver.hpp"
#include "synack/synack.h"

namespace synack::testing {
namespace {

// A setup step that did not work: the case cannot say anything.
struct SetupFailed : std::runtime_error {
  using std::runtime_error::runtime_error;
};
void require(bool ok, const std::string& what) {
  if (!ok) throw SetupFailed(what + " (errno " + std::strerror(errno) + ")");
}

sockaddr_in ipv4(std::uint32_t address, std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(address);
  return a;
}
const sockaddr* sa(const sockaddr_in& a) {
  return reinterpret_cast<const sockaddr*>(&a);
}
sockaddr* sa(sockaddr_in& a) {
  return reinterpret_cast<sockaddr*>(&a);
}
constexpr socklen_t kInLen = sizeof(sockaddr_in);

// A number nobody has open (kernel or synack).
constexpr int kBadFd = 1'000'000;

// The socket calls of one implementation, and the peer it plays against.
class Api {
 public:
  virtual ~Api() {
    for (int fd : kernel_fds_) ::close(fd);
  }
  virtual const char* name() const = 0;

  virtual int socket(int domain, int type, int protocol) = 0;
  virtual int bind(int fd, const sockaddr* a, socklen_t len) = 0;
  virtual int listen(int fd, int backlog) = 0;
  virtual int accept(int fd, sockaddr* a, socklen_t* len) = 0;
  virtual int connect(int fd, const sockaddr* a, socklen_t len) = 0;
  virtual ssize_t read(int fd, void* buf, std::size_t n) = 0;
  virtual ssize_t write(int fd, const void* buf, std::size_t n) = 0;
  virtual ssize_t send(int fd, const void* buf, std::size_t n, int flags) = 0;
  virtual ssize_t recv(int fd, void* buf, std::size_t n, int flags) = 0;
  virtual ssize_t sendto(int fd, const void* buf, std::size_t n, int flags, const sockaddr* a,
                         socklen_t len) = 0;
  virtual int shutdown(int fd, int how) = 0;
  virtual int close(int fd) = 0;
  virtual int getsockopt(int fd, int level, int name, void* v, socklen_t* len) = 0;
  virtual int setsockopt(int fd, int level, int name, const void* v, socklen_t len) = 0;
  virtual int getsockname(int fd, sockaddr* a, socklen_t* len) = 0;
  virtual int getpeername(int fd, sockaddr* a, socklen_t* len) = 0;
  virtual int fcntl(int fd, int cmd, int arg) = 0;
  virtual int ioctl(int fd, unsigned long request, int* arg) = 0;
  virtual int poll(pollfd* fds, nfds_t n, int timeout_ms) = 0;
  virtual int epoll_create(int size) = 0;
  virtual int epoll_ctl(int epfd, int op, int fd, epoll_event* e) = 0;
  virtual int epoll_wait(int epfd, epoll_event* events, int max, int timeout_ms) = 0;

  // The host's own address: 127.0.0.1 for the kernel, 192.168.0.1 for synack.
  virtual std::uint32_t local() const = 0;
  // A blocking TCP socket connected to a peer.
  virtual int connected() = 0;
  // The peer of the last connected() aborts: its RST has arrived when this returns.
  virtual void peer_resets() = 0;
  // A non-blocking TCP socket whose connect() said EINPROGRESS and stays in SYN_SENT.
  virtual int connecting() = 0;
  // A non-blocking TCP socket whose connect() said EINPROGRESS and whose SYN was answered
  // by a reset, which has arrived.
  virtual int refused() = 0;
  // Where connected(), connecting() or refused() last connected to.
  sockaddr_in peer() const { return peer_; }

  // --- Shared steps -----------------------------------------------------------------------
  int tcp() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    require(fd >= 0, "socket(SOCK_STREAM)");
    return fd;
  }
  int udp() {
    const int fd = socket(AF_INET, SOCK_DGRAM, 0);
    require(fd >= 0, "socket(SOCK_DGRAM)");
    return fd;
  }
  // A TCP socket bound to the local address on a port the stack picked; its port.
  int bound(std::uint16_t* port = nullptr) {
    const int fd = tcp();
    auto a = ipv4(local(), 0);
    require(bind(fd, sa(a), kInLen) == 0, "bind(port 0)");
    socklen_t len = kInLen;
    require(getsockname(fd, sa(a), &len) == 0, "getsockname");
    if (port != nullptr) *port = ntohs(a.sin_port);
    return fd;
  }
  int listener(int backlog = 8) {
    const int fd = bound();
    require(listen(fd, backlog) == 0, "listen");
    return fd;
  }
  void nonblocking(int fd) { require(fcntl(fd, F_SETFL, O_RDWR | O_NONBLOCK) == 0, "O_NONBLOCK"); }
  // A kernel descriptor that is not a socket (a pipe's read end).
  int not_a_socket() {
    int fds[2];
    require(::pipe(fds) == 0, "pipe");
    kernel_fds_.push_back(fds[0]);
    kernel_fds_.push_back(fds[1]);
    return fds[0];
  }

 protected:
  sockaddr_in peer_{};
  std::vector<int> kernel_fds_;  // closed with the C library at the end
};

// --- The kernel, over loopback ---------------------------------------------------------------

class KernelApi final : public Api {
 public:
  ~KernelApi() override {
    for (int fd : sockets_) ::close(fd);
  }
  const char* name() const override { return "kernel"; }

  int socket(int d, int t, int p) override { return track(::socket(d, t, p)); }
  int bind(int fd, const sockaddr* a, socklen_t l) override { return ::bind(fd, a, l); }
  int listen(int fd, int b) override { return ::listen(fd, b); }
  int accept(int fd, sockaddr* a, socklen_t* l) override { return track(::accept(fd, a, l)); }
  int connect(int fd, const sockaddr* a, socklen_t l) override { return ::connect(fd, a, l); }
  ssize_t read(int fd, void* b, std::size_t n) override { return ::read(fd, b, n); }
  ssize_t write(int fd, const void* b, std::size_t n) override { return ::write(fd, b, n); }
  ssize_t send(int fd, const void* b, std::size_t n, int f) override { return ::send(fd, b, n, f); }
  ssize_t recv(int fd, void* b, std::size_t n, int f) override { return ::recv(fd, b, n, f); }
  ssize_t sendto(int fd, const void* b, std::size_t n, int f, const sockaddr* a,
                 socklen_t l) override {
    return ::sendto(fd, b, n, f, a, l);
  }
  int shutdown(int fd, int how) override { return ::shutdown(fd, how); }
  int close(int fd) override { return ::close(fd); }
  int getsockopt(int fd, int lv, int n, void* v, socklen_t* l) override {
    return ::getsockopt(fd, lv, n, v, l);
  }
  int setsockopt(int fd, int lv, int n, const void* v, socklen_t l) override {
    return ::setsockopt(fd, lv, n, v, l);
  }
  int getsockname(int fd, sockaddr* a, socklen_t* l) override { return ::getsockname(fd, a, l); }
  int getpeername(int fd, sockaddr* a, socklen_t* l) override { return ::getpeername(fd, a, l); }
  int fcntl(int fd, int cmd, int arg) override { return ::fcntl(fd, cmd, arg); }
  int ioctl(int fd, unsigned long r, int* arg) override { return ::ioctl(fd, r, arg); }
  int poll(pollfd* fds, nfds_t n, int t) override { return ::poll(fds, n, t); }
  int epoll_create(int size) override { return track(::epoll_create(size)); }
  int epoll_ctl(int epfd, int op, int fd, epoll_event* e) override {
    return ::epoll_ctl(epfd, op, fd, e);
  }
  int epoll_wait(int epfd, epoll_event* e, int max, int t) override {
    return ::epoll_wait(epfd, e, max, t);
  }

  std::uint32_t local() const override { return INADDR_LOOPBACK; }

  int connected() override {
    const int l = listener();
    socklen_t len = kInLen;
    require(getsockname(l, sa(peer_), &len) == 0, "getsockname");
    const int fd = tcp();
    require(connect(fd, sa(peer_), kInLen) == 0, "connect over loopback");
    peer_fd_ = accept(l, nullptr, nullptr);
    require(peer_fd_ >= 0, "accept over loopback");
    return fd;
  }
  void peer_resets() override {
    const linger abort{.l_onoff = 1, .l_linger = 0};
    require(::setsockopt(peer_fd_, SOL_SOCKET, SO_LINGER, &abort, sizeof abort) == 0, "linger");
    require(::close(peer_fd_) == 0, "close the peer");
    peer_fd_ = -1;
    settle();
  }
  // A listener whose accept queue is full drops SYNs: backlog 1 takes two connections
  // (Linux queues one more than the backlog), the third stays in SYN_SENT.
  int connecting() override {
    const int l = listener(1);
    socklen_t len = kInLen;
    require(getsockname(l, sa(peer_), &len) == 0, "getsockname");
    for (int i = 0; i < 2; ++i) {
      require(connect(tcp(), sa(peer_), kInLen) == 0, "fill the accept queue");
    }
    settle();
    const int fd = tcp();
    nonblocking(fd);
    require(connect(fd, sa(peer_), kInLen) == -1 && errno == EINPROGRESS, "connect");
    return fd;
  }
  // A port nobody listens on answers with a reset.
  int refused() override {
    std::uint16_t port = 0;
    close(bound(&port));
    peer_ = ipv4(local(), port);
    const int fd = tcp();
    nonblocking(fd);
    require(connect(fd, sa(peer_), kInLen) == -1 && errno == EINPROGRESS, "connect");
    pollfd p{.fd = fd, .events = POLLOUT, .revents = 0};
    require(::poll(&p, 1, 2000) == 1, "the reset arrives");
    return fd;
  }

 private:
  int track(int fd) {
    if (fd >= 0) sockets_.push_back(fd);
    return fd;
  }
  // Loopback delivers at once, but on the kernel's time: give it a moment.
  static void settle() { std::this_thread::sleep_for(std::chrono::milliseconds(20)); }
  std::vector<int> sockets_;
  int peer_fd_ = -1;
};

// --- synack, the test playing the peer ----------------------------------------------------------

class SynackApi final : public Api {
 public:
  static constexpr std::uint32_t kLocal = 0xc0a80001;   // 192.168.0.1
  static constexpr std::uint32_t kRemote = 0xc0000201;  // 192.0.2.1
  static constexpr std::uint16_t kRemotePort = 8080;
  static constexpr std::uint32_t kPeerIss = 5000;

  SynackApi() : h_(synack_host_new("local=192.168.0.1")) {
    require(h_ != nullptr, "synack_host_new");
  }
  ~SynackApi() override { synack_host_free(h_); }
  const char* name() const override { return "synack"; }

  int socket(int d, int t, int p) override { return synack_socket(h_, d, t, p); }
  int bind(int fd, const sockaddr* a, socklen_t l) override { return synack_bind(h_, fd, a, l); }
  int listen(int fd, int b) override { return synack_listen(h_, fd, b); }
  int accept(int fd, sockaddr* a, socklen_t* l) override { return synack_accept(h_, fd, a, l); }
  int connect(int fd, const sockaddr* a, socklen_t l) override {
    return synack_connect(h_, fd, a, l);
  }
  ssize_t read(int fd, void* b, std::size_t n) override { return synack_read(h_, fd, b, n); }
  ssize_t write(int fd, const void* b, std::size_t n) override {
    return synack_write(h_, fd, b, n);
  }
  ssize_t send(int fd, const void* b, std::size_t n, int f) override {
    return synack_send(h_, fd, b, n, f);
  }
  ssize_t recv(int fd, void* b, std::size_t n, int f) override {
    return synack_recv(h_, fd, b, n, f);
  }
  ssize_t sendto(int fd, const void* b, std::size_t n, int f, const sockaddr* a,
                 socklen_t l) override {
    return synack_sendto(h_, fd, b, n, f, a, l);
  }
  int shutdown(int fd, int how) override { return synack_shutdown(h_, fd, how); }
  int close(int fd) override { return synack_close(h_, fd); }
  int getsockopt(int fd, int lv, int n, void* v, socklen_t* l) override {
    return synack_getsockopt(h_, fd, lv, n, v, l);
  }
  int setsockopt(int fd, int lv, int n, const void* v, socklen_t l) override {
    return synack_setsockopt(h_, fd, lv, n, v, l);
  }
  int getsockname(int fd, sockaddr* a, socklen_t* l) override {
    return synack_getsockname(h_, fd, a, l);
  }
  int getpeername(int fd, sockaddr* a, socklen_t* l) override {
    return synack_getpeername(h_, fd, a, l);
  }
  int fcntl(int fd, int cmd, int arg) override { return synack_fcntl(h_, fd, cmd, arg); }
  int ioctl(int fd, unsigned long r, int* arg) override { return synack_ioctl(h_, fd, r, arg); }
  int poll(pollfd* fds, nfds_t n, int t) override { return synack_poll(h_, fds, n, t); }
  int epoll_create(int size) override { return synack_epoll_create(h_, size); }
  int epoll_ctl(int epfd, int op, int fd, epoll_event* e) override {
    return synack_epoll_ctl(h_, epfd, op, fd, e);
  }
  int epoll_wait(int epfd, epoll_event* e, int max, int t) override {
    return synack_epoll_wait(h_, epfd, e, max, t);
  }

  std::uint32_t local() const override { return kLocal; }

  int connected() override {
    const int fd = start_connect();
    inject(kSyn | kAck, kPeerIss, isn_ + 1, {2, 4, 0x05, 0xb4});  // MSS 1460
    take_sent();                                                  // the ACK
    // As after a non-blocking connect on Linux: the next connect() says 0 and the socket
    // counts as connected (a blocking connect() would have returned 0 itself).
    require(connect(fd, sa(peer_), kInLen) == 0, "connect completes");
    require(fcntl(fd, F_SETFL, O_RDWR) == 0, "blocking again");
    return fd;
  }
  void peer_resets() override { inject(kRst, kPeerIss + 1, 0, {}); }
  int connecting() override { return start_connect(); }
  int refused() override {
    const int fd = start_connect();
    inject(kRst | kAck, 0, isn_ + 1, {});
    return fd;
  }

 private:
  static constexpr std::uint8_t kSyn = 0x02, kRst = 0x04, kAck = 0x10;

  // A non-blocking connect to 192.0.2.1:8080; its SYN taken off the wire.
  int start_connect() {
    const int fd = tcp();
    nonblocking(fd);
    peer_ = ipv4(kRemote, kRemotePort);
    require(connect(fd, sa(peer_), kInLen) == -1 && errno == EINPROGRESS, "connect");
    const auto syn = take_sent();
    require(syn.size() >= 40 && (syn[33] & kSyn) != 0, "a SYN");
    port_ = static_cast<std::uint16_t>(syn[20] << 8 | syn[21]);
    isn_ = std::uint32_t{syn[24]} << 24 | std::uint32_t{syn[25]} << 16 |
           std::uint32_t{syn[26]} << 8 | syn[27];
    return fd;
  }
  // The packet the host sent last; only called when one is waiting.
  std::vector<std::uint8_t> take_sent() {
    std::vector<std::uint8_t> buf(2000);
    std::size_t n = buf.size();
    long long when = 0;
    require(synack_netdev_receive(h_, buf.data(), &n, &when) == 0 && n > 0, "a packet out");
    buf.resize(n);
    return buf;
  }
  void inject(std::uint8_t flags, std::uint32_t seq, std::uint32_t ack,
              std::vector<std::uint8_t> options) {
    const auto p = tcp_packet(TcpPacket{.src = kRemote,
                                        .dst = kLocal,
                                        .src_port = kRemotePort,
                                        .dst_port = port_,
                                        .seq = seq,
                                        .ack = ack,
                                        .flags = flags,
                                        .window = 65535,
                                        .options = std::move(options)});
    require(synack_netdev_send(h_, p.data(), p.size()) == 0, "netdev_send");
  }

  synack_host* h_;
  std::uint16_t port_ = 0;
  std::uint32_t isn_ = 0;
};

// --- The table ------------------------------------------------------------------------------

struct Outcome {
  long ret = 0;
  int error = 0;  // errno, when ret is -1
  friend bool operator==(const Outcome&, const Outcome&) = default;
};
// The result of a case's last call, and errno right after it.
Outcome outcome(long ret) {
  return {ret, ret == -1 ? errno : 0};
}

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  if (o.ret != -1) return os << o.ret;
  return os << "-1 " << strerrorname_np(o.error);
}

struct Case {
  const char* name;
  Outcome expected;  // Linux's answer, checked on the kernel
  std::function<Outcome(Api&)> run;
  // When synack must answer otherwise: its answer, and why.
  std::optional<Outcome> synack = std::nullopt;
  const char* why = nullptr;
};

Outcome fail(int error) {
  return {-1, error};
}

const std::vector<Case>& cases() {
  static const std::vector<Case> table = {
      // --- socket ---------------------------------------------------------------------------
      {"SocketUnknownFamily", fail(EAFNOSUPPORT),
       [](Api& api) { return outcome(api.socket(12345, SOCK_STREAM, 0)); }},
      // Must differ: the kernel has Unix sockets; a synack host has only its network's.
      {"SocketUnixFamily", Outcome{0, 0},
       [](Api& api) {
         const int fd = api.socket(AF_UNIX, SOCK_STREAM, 0);
         return fd >= 0 ? Outcome{0, 0} : outcome(fd);
       },
       fail(EAFNOSUPPORT), "a synack host has only IPv4 sockets (and AF_INET6 for mapped ones)"},
      {"SocketUnknownType", fail(EINVAL),
       [](Api& api) { return outcome(api.socket(AF_INET, 12345, 0)); }},
      {"SocketStreamWithUdpProtocol", fail(EPROTONOSUPPORT),
       [](Api& api) { return outcome(api.socket(AF_INET, SOCK_STREAM, IPPROTO_UDP)); }},

      // --- bind -----------------------------------------------------------------------------
      {"BindToAPortInUse", fail(EADDRINUSE),
       [](Api& api) {
         std::uint16_t port = 0;
         api.bound(&port);
         const auto a = ipv4(api.local(), port);
         return outcome(api.bind(api.tcp(), sa(a), kInLen));
       }},
      {"BindTwice", fail(EINVAL),
       [](Api& api) {
         const int fd = api.bound();
         const auto a = ipv4(api.local(), 0);
         return outcome(api.bind(fd, sa(a), kInLen));
       }},
      {"BindWithAShortAddressLength", fail(EINVAL),
       [](Api& api) {
         const auto a = ipv4(api.local(), 0);
         return outcome(api.bind(api.tcp(), sa(a), kInLen - 1));
       }},
      {"BindToANullAddress", fail(EFAULT),
       [](Api& api) { return outcome(api.bind(api.tcp(), nullptr, kInLen)); }},
      {"BindWithAnotherFamily", fail(EAFNOSUPPORT),
       [](Api& api) {
         auto a = ipv4(api.local(), 0);
         a.sin_family = AF_UNIX;
         return outcome(api.bind(api.tcp(), sa(a), kInLen));
       }},
      {"BindToAnAddressNotOurs", fail(EADDRNOTAVAIL),
       [](Api& api) {
         const auto a = ipv4(0x0afffe01, 0);  // 10.255.254.1
         return outcome(api.bind(api.tcp(), sa(a), kInLen));
       }},
      {"BindAfterConnect", fail(EINVAL),
       [](Api& api) {
         const auto a = ipv4(api.local(), 0);
         return outcome(api.bind(api.connected(), sa(a), kInLen));
       }},

      // --- listen ---------------------------------------------------------------------------
      {"ListenOnUdp", fail(EOPNOTSUPP), [](Api& api) { return outcome(api.listen(api.udp(), 1)); }},
      {"ListenOnAConnectedSocket", fail(EINVAL),
       [](Api& api) { return outcome(api.listen(api.connected(), 1)); }},

      // --- accept ---------------------------------------------------------------------------
      {"AcceptOnANonListener", fail(EINVAL),
       [](Api& api) { return outcome(api.accept(api.tcp(), nullptr, nullptr)); }},
      {"AcceptOnUdp", fail(EOPNOTSUPP),
       [](Api& api) { return outcome(api.accept(api.udp(), nullptr, nullptr)); }},
      {"NonBlockingAcceptWithNothingPending", fail(EAGAIN),
       [](Api& api) {
         const int l = api.listener();
         api.nonblocking(l);
         return outcome(api.accept(l, nullptr, nullptr));
       }},

      // --- connect --------------------------------------------------------------------------
      {"ConnectWhileConnecting", fail(EALREADY),
       [](Api& api) {
         const int fd = api.connecting();
         const auto p = api.peer();
         return outcome(api.connect(fd, sa(p), kInLen));
       }},
      {"ConnectWhenConnected", fail(EISCONN),
       [](Api& api) {
         const int fd = api.connected();
         const auto p = api.peer();
         return outcome(api.connect(fd, sa(p), kInLen));
       }},
      {"ConnectWithAShortAddressLength", fail(EINVAL),
       [](Api& api) {
         const auto a = ipv4(api.local(), 9);
         return outcome(api.connect(api.tcp(), sa(a), kInLen - 1));
       }},
      {"ConnectToANullAddress", fail(EFAULT),
       [](Api& api) { return outcome(api.connect(api.tcp(), nullptr, kInLen)); }},
      {"ConnectWithAnotherFamily", fail(EAFNOSUPPORT),
       [](Api& api) {
         auto a = ipv4(api.local(), 9);
         a.sin_family = AF_UNIX;
         return outcome(api.connect(api.tcp(), sa(a), kInLen));
       }},
      // The reset of the SYN is reported by the next connect() (and by SO_ERROR).
      {"ConnectRefused", fail(ECONNREFUSED),
       [](Api& api) {
         const int fd = api.refused();
         const auto p = api.peer();
         return outcome(api.connect(fd, sa(p), kInLen));
       }},
      {"SoErrorAfterARefusedConnect", Outcome{ECONNREFUSED, 0},
       [](Api& api) {
         const int fd = api.refused();
         int error = -1;
         socklen_t len = sizeof error;
         require(api.getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == 0, "SO_ERROR");
         return Outcome{error, 0};
       }},
      {"ConnectOnAListener", fail(EISCONN),
       [](Api& api) {
         const int l = api.listener();
         const auto a = ipv4(api.local(), 9);
         return outcome(api.connect(l, sa(a), kInLen));
       }},

      // --- read and write -------------------------------------------------------------------
      {"ReadUnconnected", fail(ENOTCONN),
       [](Api& api) {
         char c;
         return outcome(api.read(api.tcp(), &c, 1));
       }},
      {"ReadOnAListener", fail(ENOTCONN),
       [](Api& api) {
         char c;
         return outcome(api.read(api.listener(), &c, 1));
       }},
      {"NonBlockingReadWithNothingToRead", fail(EAGAIN),
       [](Api& api) {
         const int fd = api.connected();
         api.nonblocking(fd);
         char c;
         return outcome(api.read(fd, &c, 1));
       }},
      {"RecvDontWaitWithNothingToRead", fail(EAGAIN),
       [](Api& api) {
         char c;
         return outcome(api.recv(api.connected(), &c, 1, MSG_DONTWAIT));
       }},
      {"ReadAfterThePeerReset", fail(ECONNRESET),
       [](Api& api) {
         const int fd = api.connected();
         api.peer_resets();
         char c;
         return outcome(api.read(fd, &c, 1));
       }},
      {"ReadAgainAfterTheResetWasReported", Outcome{0, 0},
       [](Api& api) {
         const int fd = api.connected();
         api.peer_resets();
         char c;
         require(api.read(fd, &c, 1) == -1 && errno == ECONNRESET, "ECONNRESET first");
         return outcome(api.read(fd, &c, 1));
       }},
      {"WriteAfterThePeerReset", fail(ECONNRESET),
       [](Api& api) {
         const int fd = api.connected();
         api.peer_resets();
         return outcome(api.write(fd, "x", 1));
       }},
      {"WriteAgainAfterTheResetWasReported", fail(EPIPE),
       [](Api& api) {
         const int fd = api.connected();
         api.peer_resets();
         require(api.write(fd, "x", 1) == -1 && errno == ECONNRESET, "ECONNRESET first");
         return outcome(api.write(fd, "x", 1));
       }},
      // Linux says EPIPE here, not POSIX's ENOTCONN (and raises SIGPIPE, ignored here).
      {"WriteUnconnected", fail(EPIPE),
       [](Api& api) { return outcome(api.write(api.tcp(), "x", 1)); }},
      {"WriteAfterShutdownWrite", fail(EPIPE),
       [](Api& api) {
         const int fd = api.connected();
         require(api.shutdown(fd, SHUT_WR) == 0, "shutdown");
         return outcome(api.write(fd, "x", 1));
       }},
      {"SendOnUnconnectedUdp", fail(EDESTADDRREQ),
       [](Api& api) { return outcome(api.send(api.udp(), "x", 1, 0)); }},
      {"SendtoWithAShortAddressLength", fail(EINVAL),
       [](Api& api) {
         const auto a = ipv4(api.local(), 9);
         return outcome(api.sendto(api.udp(), "x", 1, 0, sa(a), kInLen - 1));
       }},
      {"NonBlockingUdpRecvWithNothingQueued", fail(EAGAIN),
       [](Api& api) {
         const int fd = api.udp();
         const auto a = ipv4(api.local(), 0);
         require(api.bind(fd, sa(a), kInLen) == 0, "bind");
         char c;
         return outcome(api.recv(fd, &c, 1, MSG_DONTWAIT));
       }},

      // --- shutdown, close, names -------------------------------------------------------------
      {"ShutdownWithABadHow", fail(EINVAL),
       [](Api& api) { return outcome(api.shutdown(api.connected(), 7)); }},
      {"ShutdownUnconnected", fail(ENOTCONN),
       [](Api& api) { return outcome(api.shutdown(api.tcp(), SHUT_RDWR)); }},
      {"CloseTwice", fail(EBADF),
       [](Api& api) {
         const int fd = api.tcp();
         require(api.close(fd) == 0, "close");
         return outcome(api.close(fd));
       }},
      {"GetpeernameUnconnected", fail(ENOTCONN),
       [](Api& api) {
         sockaddr_in a{};
         socklen_t len = kInLen;
         return outcome(api.getpeername(api.tcp(), sa(a), &len));
       }},

      // --- options ----------------------------------------------------------------------------
      {"SetsockoptUnknownSocketOption", fail(ENOPROTOOPT),
       [](Api& api) {
         const int one = 1;
         return outcome(api.setsockopt(api.tcp(), SOL_SOCKET, 12345, &one, sizeof one));
       }},
      {"GetsockoptUnknownTcpOption", fail(ENOPROTOOPT),
       [](Api& api) {
         int v = 0;
         socklen_t len = sizeof v;
         return outcome(api.getsockopt(api.tcp(), IPPROTO_TCP, 12345, &v, &len));
       }},
      {"SetsockoptWithAShortLength", fail(EINVAL),
       [](Api& api) {
         const int one = 1;
         return outcome(api.setsockopt(api.tcp(), SOL_SOCKET, SO_REUSEADDR, &one, 2));
       }},
      {"SetsockoptLingerWithAShortLength", fail(EINVAL),
       [](Api& api) {
         const linger l{.l_onoff = 1, .l_linger = 0};
         return outcome(api.setsockopt(api.tcp(), SOL_SOCKET, SO_LINGER, &l, sizeof(int)));
       }},
      {"SetsockoptMaxsegTooSmall", fail(EINVAL),
       [](Api& api) {
         const int mss = 10;
         return outcome(api.setsockopt(api.tcp(), IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof mss));
       }},
      {"GetsockoptWithANullLength", fail(EFAULT),
       [](Api& api) {
         int v = 0;
         return outcome(api.getsockopt(api.tcp(), SOL_SOCKET, SO_ERROR, &v, nullptr));
       }},
      {"FcntlUnknownCommand", fail(EINVAL),
       [](Api& api) { return outcome(api.fcntl(api.tcp(), 12345, 0)); }},
      {"IoctlUnknownRequest", fail(ENOTTY),
       [](Api& api) {
         int v = 0;
         return outcome(api.ioctl(api.tcp(), 0x12345, &v));
       }},
      {"FionreadOnAListener", fail(EINVAL),
       [](Api& api) {
         int v = 0;
         return outcome(api.ioctl(api.listener(), FIONREAD, &v));
       }},

      // --- epoll ------------------------------------------------------------------------------
      {"EpollCreateWithSizeZero", fail(EINVAL),
       [](Api& api) { return outcome(api.epoll_create(0)); }},
      {"EpollAddTwice", fail(EEXIST),
       [](Api& api) {
         const int ep = api.epoll_create(1);
         require(ep >= 0, "epoll_create");
         const int fd = api.tcp();
         epoll_event e{.events = EPOLLIN, .data = {.u64 = 1}};
         require(api.epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) == 0, "EPOLL_CTL_ADD");
         return outcome(api.epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e));
       }},
      {"EpollModifyUnwatched", fail(ENOENT),
       [](Api& api) {
         const int ep = api.epoll_create(1);
         require(ep >= 0, "epoll_create");
         epoll_event e{.events = EPOLLIN, .data = {.u64 = 1}};
         return outcome(api.epoll_ctl(ep, EPOLL_CTL_MOD, api.tcp(), &e));
       }},
      {"EpollCtlOnANonEpollDescriptor", fail(EINVAL),
       [](Api& api) {
         epoll_event e{.events = EPOLLIN, .data = {.u64 = 1}};
         return outcome(api.epoll_ctl(api.tcp(), EPOLL_CTL_ADD, api.tcp(), &e));
       }},
      {"EpollWaitWithNoRoom", fail(EINVAL),
       [](Api& api) {
         const int ep = api.epoll_create(1);
         require(ep >= 0, "epoll_create");
         epoll_event e{};
         return outcome(api.epoll_wait(ep, &e, 0, 0));
       }},

      // --- descriptors that are not sockets, or not open ------------------------------------
      {"ReadOnABadDescriptor", fail(EBADF),
       [](Api& api) {
         char c;
         return outcome(api.read(kBadFd, &c, 1));
       }},
      {"WriteOnABadDescriptor", fail(EBADF),
       [](Api& api) { return outcome(api.write(kBadFd, "x", 1)); }},
      {"CloseABadDescriptor", fail(EBADF), [](Api& api) { return outcome(api.close(kBadFd)); }},
      {"BindOnABadDescriptor", fail(EBADF),
       [](Api& api) {
         const auto a = ipv4(api.local(), 0);
         return outcome(api.bind(kBadFd, sa(a), kInLen));
       }},
      {"ListenOnABadDescriptor", fail(EBADF),
       [](Api& api) { return outcome(api.listen(kBadFd, 1)); }},
      {"AcceptOnABadDescriptor", fail(EBADF),
       [](Api& api) { return outcome(api.accept(kBadFd, nullptr, nullptr)); }},
      {"ConnectOnABadDescriptor", fail(EBADF),
       [](Api& api) {
         const auto a = ipv4(api.local(), 9);
         return outcome(api.connect(kBadFd, sa(a), kInLen));
       }},
      {"ShutdownOnABadDescriptor", fail(EBADF),
       [](Api& api) { return outcome(api.shutdown(kBadFd, SHUT_RDWR)); }},
      {"SetsockoptOnABadDescriptor", fail(EBADF),
       [](Api& api) {
         const int one = 1;
         return outcome(api.setsockopt(kBadFd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
       }},
      {"FcntlOnABadDescriptor", fail(EBADF),
       [](Api& api) { return outcome(api.fcntl(kBadFd, F_GETFL, 0)); }},
      {"BindOnAPipe", fail(ENOTSOCK),
       [](Api& api) {
         const auto a = ipv4(api.local(), 0);
         return outcome(api.bind(api.not_a_socket(), sa(a), kInLen));
       }},
      {"ListenOnAPipe", fail(ENOTSOCK),
       [](Api& api) { return outcome(api.listen(api.not_a_socket(), 1)); }},
      {"AcceptOnAPipe", fail(ENOTSOCK),
       [](Api& api) { return outcome(api.accept(api.not_a_socket(), nullptr, nullptr)); }},
      {"ConnectOnAPipe", fail(ENOTSOCK),
       [](Api& api) {
         const auto a = ipv4(api.local(), 9);
         return outcome(api.connect(api.not_a_socket(), sa(a), kInLen));
       }},
      {"ShutdownOnAPipe", fail(ENOTSOCK),
       [](Api& api) { return outcome(api.shutdown(api.not_a_socket(), SHUT_RDWR)); }},
      {"GetsockoptOnAPipe", fail(ENOTSOCK),
       [](Api& api) {
         int v = 0;
         socklen_t len = sizeof v;
         return outcome(api.getsockopt(api.not_a_socket(), SOL_SOCKET, SO_ERROR, &v, &len));
       }},
      {"GetsocknameOnAPipe", fail(ENOTSOCK),
       [](Api& api) {
         sockaddr_in a{};
         socklen_t len = kInLen;
         return outcome(api.getsockname(api.not_a_socket(), sa(a), &len));
       }},
      {"SendOnAPipe", fail(ENOTSOCK),
       [](Api& api) { return outcome(api.send(api.not_a_socket(), "x", 1, 0)); }},
  };
  return table;
}

Outcome run(Api& api, const Case& c) {
  try {
    return c.run(api);
  } catch (const SetupFailed& e) {
    ADD_FAILURE() << api.name() << ": " << e.what();
    return {-2, 0};
  }
}

class CapiErrno : public ::testing::TestWithParam<std::size_t> {
 public:
  static void SetUpTestSuite() {
    // write() on a socket that cannot send raises SIGPIPE on the kernel (MSG_NOSIGNAL is
    // not in every case's call); the test wants the errno.
    ::signal(SIGPIPE, SIG_IGN);
  }
};

TEST_P(CapiErrno, SameAsTheKernel) {
  const Case& c = cases()[GetParam()];
  Outcome kernel;
  {
    KernelApi api;
    kernel = run(api, c);
  }
  Outcome ours;
  {
    SynackApi api;
    ours = run(api, c);
  }
  EXPECT_EQ(kernel, c.expected) << "the table is wrong about Linux";
  if (c.synack) {
    EXPECT_EQ(ours, *c.synack) << c.why;
  } else {
    EXPECT_EQ(ours, kernel) << "synack differs from the kernel";
  }
}

INSTANTIATE_TEST_SUITE_P(Table, CapiErrno, ::testing::Range<std::size_t>(0, cases().size()),
                         [](const ::testing::TestParamInfo<std::size_t>& param) {
                           return std::string(cases()[param.param].name);
                         });

}  // namespace
}  // namespace synack::testing
