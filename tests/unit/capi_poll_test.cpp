// synack_poll and synack_epoll_*: the readiness Linux reports for a TCP socket in each
// state, taken from the kernel itself by running one script on loopback sockets and on a
// pair of synack hosts; epoll's errors likewise; and the waiting, in virtual time.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "capi_pair.hpp"
#include "synack/synack.h"

namespace synack::capi {
namespace {

using testing::HostPair;

constexpr short kAll = POLLIN | POLLOUT | POLLRDHUP | POLLPRI | POLLRDNORM | POLLWRNORM;

// The socket calls a readiness script makes, on the kernel or on the hosts. Sockets are
// made on the server's side or the client's (which host, for synack).
class World {
 public:
  enum Side { client, server };
  virtual ~World() = default;
  virtual int tcp_socket(Side side) = 0;
  virtual int udp_socket() = 0;
  virtual void listen(int fd) = 0;
  // A non-blocking connect to the listener (or to a port nobody listens on).
  virtual void connect(int fd, bool to_listener = true) = 0;
  virtual int accept(int listener) = 0;
  virtual void write(int fd, std::size_t n) = 0;
  virtual void read_all(int fd) = 0;
  virtual void shutdown(int fd, int how) = 0;
  virtual void abort(int fd) = 0;  // SO_LINGER {1, 0} and close: a RST
  virtual int so_error(int fd) = 0;
  virtual void settle() = 0;
  // poll(2) with every event asked; returns revents, and poll's return in `ret`.
  virtual short poll(int fd, int& ret) = 0;
};

class KernelWorld final : public World {
 public:
  ~KernelWorld() override {
    for (int fd : fds_) ::close(fd);
  }
  int tcp_socket(Side) override { return keep(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)); }
  int udp_socket() override { return keep(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)); }
  void listen(int fd) override {
    address_ = testing::ipv4("127.0.0.1", 0);
    EXPECT_EQ(::bind(fd, testing::as_sockaddr(address_), sizeof address_), 0);
    EXPECT_EQ(::listen(fd, 16), 0);
    socklen_t len = sizeof address_;
    ::getsockname(fd, static_cast<sockaddr*>(static_cast<void*>(&address_)), &len);
    // A port nobody listens on: one bound and never listened on.
    unused_ = keep(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    closed_ = testing::ipv4("127.0.0.1", 0);
    ::bind(unused_, testing::as_sockaddr(closed_), sizeof closed_);
    len = sizeof closed_;
    ::getsockname(unused_, static_cast<sockaddr*>(static_cast<void*>(&closed_)), &len);
  }
  void connect(int fd, bool to_listener) override {
    ::fcntl(fd, F_SETFL, O_NONBLOCK);
    const sockaddr_in& to = to_listener ? address_ : closed_;
    ::connect(fd, testing::as_sockaddr(to), sizeof to);
  }
  int accept(int listener) override { return keep(::accept4(listener, nullptr, nullptr, 0)); }
  void write(int fd, std::size_t n) override {
    const std::vector<char> data(n, 'x');
    EXPECT_EQ(::write(fd, data.data(), n), static_cast<ssize_t>(n));
  }
  void read_all(int fd) override {
    char buf[4096];
    ::fcntl(fd, F_SETFL, O_NONBLOCK);
    while (::read(fd, buf, sizeof buf) > 0) {
    }
  }
  void shutdown(int fd, int how) override { ::shutdown(fd, how); }
  void abort(int fd) override {
    const linger l{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd);
    fds_.erase(std::remove(fds_.begin(), fds_.end(), fd), fds_.end());
  }
  int so_error(int fd) override {
    int v = 0;
    socklen_t len = sizeof v;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &v, &len);
    return v;
  }
  void settle() override { testing::kernel_settle(); }
  short poll(int fd, int& ret) override {
    pollfd p{fd, kAll, 0};
    ret = ::poll(&p, 1, 0);
    return p.revents;
  }

 private:
  int keep(int fd) {
    fds_.push_back(fd);
    return fd;
  }
  std::vector<int> fds_;
  sockaddr_in address_{};
  sockaddr_in closed_{};
  int unused_ = -1;
};

class SynackWorld final : public World {
 public:
  int tcp_socket(Side side) override {
    synack_host* h = side == client ? pair_.a : pair_.b;
    return own(h, synack_socket(h, AF_INET, SOCK_STREAM, 0));
  }
  int udp_socket() override { return own(pair_.a, synack_socket(pair_.a, AF_INET, SOCK_DGRAM, 0)); }
  void listen(int fd) override {
    const sockaddr_in any = testing::ipv4("0.0.0.0", 8080);
    EXPECT_EQ(synack_bind(host(fd), fd, testing::as_sockaddr(any), sizeof any), 0);
    EXPECT_EQ(synack_listen(host(fd), fd, 16), 0);
  }
  void connect(int fd, bool to_listener) override {
    synack_fcntl(host(fd), fd, F_SETFL, O_NONBLOCK);
    const sockaddr_in to = testing::ipv4("192.168.0.2", to_listener ? 8080 : 9);
    synack_connect(host(fd), fd, testing::as_sockaddr(to), sizeof to);
  }
  int accept(int listener) override {
    return own(host(listener), synack_accept(host(listener), listener, nullptr, nullptr));
  }
  void write(int fd, std::size_t n) override {
    const std::vector<char> data(n, 'x');
    EXPECT_EQ(synack_write(host(fd), fd, data.data(), n), static_cast<ssize_t>(n));
  }
  void read_all(int fd) override {
    char buf[4096];
    synack_fcntl(host(fd), fd, F_SETFL, O_NONBLOCK);
    while (synack_read(host(fd), fd, buf, sizeof buf) > 0) {
    }
  }
  void shutdown(int fd, int how) override { synack_shutdown(host(fd), fd, how); }
  void abort(int fd) override {
    const linger l{1, 0};
    synack_setsockopt(host(fd), fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    synack_close(host(fd), fd);
  }
  int so_error(int fd) override {
    int v = 0;
    socklen_t len = sizeof v;
    synack_getsockopt(host(fd), fd, SOL_SOCKET, SO_ERROR, &v, &len);
    return v;
  }
  void settle() override { pair_.pump(); }
  short poll(int fd, int& ret) override {
    pollfd p{fd, kAll, 0};
    ret = synack_poll(host(fd), &p, 1, 0);
    return p.revents;
  }

 private:
  int own(synack_host* h, int fd) {
    hosts_[fd] = h;
    return fd;
  }
  synack_host* host(int fd) { return hosts_.at(fd); }
  HostPair pair_;
  std::map<int, synack_host*> hosts_;
};

std::string events(short revents) {
  std::string s;
  for (auto [bit, name] : {std::pair{POLLIN, "IN"},
                           {POLLPRI, "PRI"},
                           {POLLOUT, "OUT"},
                           {POLLERR, "ERR"},
                           {POLLHUP, "HUP"},
                           {POLLNVAL, "NVAL"},
                           {POLLRDNORM, "RDNORM"},
                           {POLLWRNORM, "WRNORM"},
                           {POLLRDHUP, "RDHUP"}}) {
    if (revents & bit) s += s.empty() ? name : std::string("|") + name;
  }
  return s.empty() ? "0" : s;
}

// The lifetime of TCP connections, with what poll says at each step.
std::vector<std::string> readiness_script(World& w) {
  std::vector<std::string> seen;
  auto check = [&](const char* what, int fd) {
    int ret = -2;
    const short revents = w.poll(fd, ret);
    seen.push_back(std::string(what) + ": " + events(revents) + " (" + std::to_string(ret) + ")");
  };
  auto error = [&](const char* what, int fd) {
    seen.push_back(std::string(what) + ": SO_ERROR " + std::to_string(w.so_error(fd)));
  };
  const int listener = w.tcp_socket(World::server);
  check("fresh socket", listener);
  w.listen(listener);
  check("listening", listener);
  const int c = w.tcp_socket(World::client);
  w.connect(c);
  w.settle();
  check("listener with a connection to accept", listener);
  check("client established", c);
  const int x = w.accept(listener);
  check("listener after accept", listener);
  check("server established", x);
  w.write(c, 2);
  w.settle();
  check("server with data", x);
  w.shutdown(c, SHUT_WR);
  w.settle();
  check("client after shutdown(SHUT_WR) (FIN_WAIT_2)", c);
  check("server with data and FIN (CLOSE_WAIT)", x);
  w.read_all(x);
  check("server, data read", x);
  w.shutdown(x, SHUT_WR);
  w.settle();
  check("server after its own FIN (closed)", x);
  check("client (TIME_WAIT)", c);

  const int d = w.tcp_socket(World::client);
  w.connect(d);
  w.settle();
  const int y = w.accept(listener);
  w.shutdown(y, SHUT_RD);
  check("shutdown(SHUT_RD)", y);
  w.shutdown(y, SHUT_WR);
  w.settle();
  check("shutdown(SHUT_RD) and (SHUT_WR)", y);
  check("its peer (CLOSE_WAIT)", d);

  const int e = w.tcp_socket(World::client);
  w.connect(e);
  w.settle();
  const int z = w.accept(listener);
  w.write(z, 10);
  w.settle();
  w.abort(e);
  w.settle();
  check("reset by the peer", z);
  error("reset by the peer", z);
  check("reset, error collected", z);
  error("reset, error collected", z);

  const int f = w.tcp_socket(World::client);
  w.connect(f, false);
  w.settle();
  check("connection refused", f);
  error("connection refused", f);
  check("refused, error collected", f);

  const int u = w.udp_socket();
  check("UDP socket", u);
  w.shutdown(u, SHUT_RD);
  check("UDP socket after shutdown(SHUT_RD)", u);
  w.shutdown(u, SHUT_WR);
  check("UDP socket after shutdown(SHUT_WR) too", u);
  return seen;
}

TEST(CapiPoll, ReadinessInEveryStateAsLinux) {
  KernelWorld kernel;
  SynackWorld ours;
  const std::vector<std::string> want = readiness_script(kernel);
  const std::vector<std::string> got = readiness_script(ours);
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got[i], want[i]);
}

// Connecting: Linux's tcp_poll reports nothing in SYN_SENT (not checked on the kernel, as
// a connect that stays unanswered needs an address off this machine).
TEST(CapiPoll, ConnectingReportsNothing) {
  HostPair pair;
  const int c = synack_socket(pair.a, AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(synack_fcntl(pair.a, c, F_SETFL, O_NONBLOCK), 0);
  const sockaddr_in to = testing::ipv4("192.168.0.2", 8080);
  synack_connect(pair.a, c, testing::as_sockaddr(to), sizeof to);
  pollfd p{c, kAll, 0};
  EXPECT_EQ(synack_poll(pair.a, &p, 1, 0), 0);
  EXPECT_EQ(p.revents, 0);
}

TEST(CapiPoll, UnknownAndNegativeDescriptors) {
  synack_host* h = synack_host_new(nullptr);
  const int s = synack_socket(h, AF_INET, SOCK_STREAM, 0);
  int pipe[2];
  ASSERT_EQ(synack_pipe(h, pipe), 0);
  ASSERT_EQ(::write(pipe[1], "x", 1), 1);
  pollfd fds[] = {{-1, POLLIN, POLLIN}, {1000, POLLIN, 0}, {s, POLLIN, 0}, {pipe[0], POLLIN, 0}};
  // Not one of the host's and not open: POLLNVAL. Negative: ignored. A kernel descriptor
  // (the pipe): as the kernel says. A fresh socket: POLLHUP whatever was asked.
  EXPECT_EQ(synack_poll(h, fds, 4, 0), 3);
  EXPECT_EQ(fds[0].revents, 0);
  EXPECT_EQ(fds[1].revents, POLLNVAL);
  EXPECT_EQ(fds[2].revents, POLLHUP);
  EXPECT_EQ(fds[3].revents, POLLIN);
  errno = 0;
  EXPECT_EQ(synack_poll(h, nullptr, 1, 0), -1);
  EXPECT_EQ(errno, EFAULT);
  EXPECT_EQ(synack_poll(h, nullptr, 0, 0), 0);
  ::close(pipe[0]);
  ::close(pipe[1]);
  synack_host_free(h);
}

// Moves virtual time on in small steps until `done`, bounded in steps and real time.
void advance_until(synack_host* h, const std::atomic<bool>& done) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (int i = 0; i < 10000 && !done && std::chrono::steady_clock::now() < give_up; ++i) {
    synack_usleep(h, 10'000);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

TEST(CapiPoll, TimeoutPassesInVirtualTime) {
  HostPair pair;
  const testing::SynackConnection c = testing::connect_pair(pair);
  std::atomic<bool> done = false;
  int ret = -2;
  long long waited_us = 0;
  std::thread waiter([&] {
    timeval before{}, after{};
    synack_gettimeofday(pair.b, &before, nullptr);
    pollfd p{c.server, POLLIN, 0};
    ret = synack_poll(pair.b, &p, 1, 250);
    synack_gettimeofday(pair.b, &after, nullptr);
    waited_us = (after.tv_sec - before.tv_sec) * 1'000'000LL + (after.tv_usec - before.tv_usec);
    done = true;
  });
  advance_until(pair.b, done);
  waiter.join();
  EXPECT_EQ(ret, 0);
  EXPECT_GE(waited_us, 250'000);
}

TEST(CapiPoll, ABlockedPollWakesForData) {
  HostPair pair;
  const testing::SynackConnection c = testing::connect_pair(pair);
  std::atomic<bool> done = false;
  pollfd p{c.server, POLLIN, 0};
  int ret = -2;
  std::thread waiter([&] {
    ret = synack_poll(pair.b, &p, 1, -1);
    done = true;
  });
  ASSERT_EQ(synack_write(pair.a, c.client, "hi", 2), 2);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done && std::chrono::steady_clock::now() < give_up) {
    pair.pump();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!done) synack_close(pair.b, c.server);  // unblock rather than hang
  waiter.join();
  EXPECT_EQ(ret, 1);
  EXPECT_EQ(p.revents, POLLIN);
}

// --- epoll -------------------------------------------------------------------------------------

// The epoll calls of one side, for the error table.
struct EpollApi {
  std::function<int(int)> create;
  std::function<int(int, int, int, epoll_event*)> ctl;
  std::function<int(int, epoll_event*, int, int)> wait;
  std::function<int()> tcp_socket;
};

struct Errors {
  std::vector<std::string> lines;
  void note(const char* what, int ret) {
    lines.push_back(std::string(what) + " = " + std::to_string(ret) +
                    (ret < 0 ? " errno " + std::to_string(errno) : ""));
  }
};

std::vector<std::string> epoll_error_script(const EpollApi& api) {
  Errors e;
  auto call = [&](const char* what, const std::function<int()>& f) {
    errno = 0;
    e.note(what, f());
  };
  const int ep = api.create(1);
  const int s = api.tcp_socket();
  const int other = api.tcp_socket();
  const int file = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  epoll_event exclusive{};
  exclusive.events = EPOLLIN | EPOLLEXCLUSIVE;
  epoll_event out[4];
  call("create(0)", [&] { return api.create(0); });
  call("create(-1)", [&] { return api.create(-1); });
  call("ADD a closed fd", [&] { return api.ctl(ep, EPOLL_CTL_ADD, 1000, &ev); });
  call("ADD to a closed epfd", [&] { return api.ctl(1000, EPOLL_CTL_ADD, s, &ev); });
  call("ADD a regular file", [&] { return api.ctl(ep, EPOLL_CTL_ADD, file, &ev); });
  call("ADD itself", [&] { return api.ctl(ep, EPOLL_CTL_ADD, ep, &ev); });
  call("ADD to a socket", [&] { return api.ctl(other, EPOLL_CTL_ADD, s, &ev); });
  call("ADD with no event", [&] { return api.ctl(ep, EPOLL_CTL_ADD, s, nullptr); });
  call("op 99 with no event", [&] { return api.ctl(ep, 99, s, nullptr); });
  call("op 99", [&] { return api.ctl(ep, 99, s, &ev); });
  call("MOD one not added", [&] { return api.ctl(ep, EPOLL_CTL_MOD, s, &ev); });
  call("DEL one not added", [&] { return api.ctl(ep, EPOLL_CTL_DEL, s, nullptr); });
  call("ADD", [&] { return api.ctl(ep, EPOLL_CTL_ADD, s, &ev); });
  call("ADD again", [&] { return api.ctl(ep, EPOLL_CTL_ADD, s, &ev); });
  call("MOD with EPOLLEXCLUSIVE", [&] { return api.ctl(ep, EPOLL_CTL_MOD, s, &exclusive); });
  call("MOD", [&] { return api.ctl(ep, EPOLL_CTL_MOD, s, &ev); });
  call("DEL", [&] { return api.ctl(ep, EPOLL_CTL_DEL, s, nullptr); });
  call("ADD with EPOLLEXCLUSIVE", [&] { return api.ctl(ep, EPOLL_CTL_ADD, s, &exclusive); });
  call("MOD an exclusive one", [&] { return api.ctl(ep, EPOLL_CTL_MOD, s, &ev); });
  const int inner = api.create(1);
  call("ADD an epoll to an epoll", [&] { return api.ctl(ep, EPOLL_CTL_ADD, inner, &ev); });
  call("ADD making a loop", [&] { return api.ctl(inner, EPOLL_CTL_ADD, ep, &ev); });
  call("wait maxevents 0", [&] { return api.wait(ep, out, 0, 0); });
  call("wait maxevents -1", [&] { return api.wait(ep, out, -1, 0); });
  call("wait on a socket", [&] { return api.wait(s, out, 4, 0); });
  call("wait on a closed fd", [&] { return api.wait(1000, out, 4, 0); });
  call("wait (a fresh socket hangs up)", [&] { return api.wait(ep, out, 4, 0); });
  e.lines.push_back("event " + std::to_string(out[0].events));
  ::close(file);
  return e.lines;
}

TEST(CapiEpoll, ErrorsAsLinux) {
  std::vector<int> kernel_fds;
  auto keep = [&](int fd) {
    if (fd >= 0) kernel_fds.push_back(fd);
    return fd;
  };
  const EpollApi kernel{
      [&](int size) { return keep(::epoll_create(size)); },
      [](int ep, int op, int fd, epoll_event* ev) { return ::epoll_ctl(ep, op, fd, ev); },
      [](int ep, epoll_event* ev, int n, int t) { return ::epoll_wait(ep, ev, n, t); },
      [&] { return keep(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)); }};
  synack_host* h = synack_host_new(nullptr);
  const EpollApi ours{
      [h](int size) { return synack_epoll_create(h, size); },
      [h](int ep, int op, int fd, epoll_event* ev) { return synack_epoll_ctl(h, ep, op, fd, ev); },
      [h](int ep, epoll_event* ev, int n, int t) { return synack_epoll_wait(h, ep, ev, n, t); },
      [h] { return synack_socket(h, AF_INET, SOCK_STREAM, 0); }};
  const std::vector<std::string> want = epoll_error_script(kernel);
  for (int fd : kernel_fds) ::close(fd);
  const std::vector<std::string> got = epoll_error_script(ours);
  synack_host_free(h);
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got[i], want[i]);
}

// A kernel descriptor Linux could watch (a pipe) cannot wake a host's wait: refused with
// EPERM, Linux's answer for a descriptor it cannot watch.
TEST(CapiEpoll, KernelPipesCannotBeWatched) {
  synack_host* h = synack_host_new(nullptr);
  const int ep = synack_epoll_create(h, 1);
  int pipe[2];
  ASSERT_EQ(synack_pipe(h, pipe), 0);
  epoll_event ev{};
  ev.events = EPOLLIN;
  errno = 0;
  EXPECT_EQ(synack_epoll_ctl(h, ep, EPOLL_CTL_ADD, pipe[0], &ev), -1);
  EXPECT_EQ(errno, EPERM);
  ::close(pipe[0]);
  ::close(pipe[1]);
  synack_host_free(h);
}

class CapiEpollOnAConnection : public ::testing::Test {
 protected:
  CapiEpollOnAConnection() : c_(testing::connect_pair(pair_)) {
    ep_ = synack_epoll_create(pair_.b, 1);
  }
  void add(int fd, std::uint32_t events, std::uint64_t data) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = data;
    ASSERT_EQ(synack_epoll_ctl(pair_.b, ep_, EPOLL_CTL_ADD, fd, &ev), 0);
  }
  // What one epoll_wait with no timeout reports: "data:events" for each.
  std::vector<std::string> wait(int maxevents = 8) {
    epoll_event out[8];
    const int n = synack_epoll_wait(pair_.b, ep_, out, maxevents, 0);
    std::vector<std::string> got;
    for (int i = 0; i < n; ++i) {
      got.push_back(std::to_string(out[i].data.u64) + ":" +
                    events(static_cast<short>(out[i].events & 0xffff)));
    }
    return got;
  }
  void send(const char* text) {
    ASSERT_GT(synack_write(pair_.a, c_.client, text, std::strlen(text)), 0);
    pair_.pump();
  }
  void drain() {
    char buf[4096];
    synack_fcntl(pair_.b, c_.server, F_SETFL, O_NONBLOCK);
    while (synack_read(pair_.b, c_.server, buf, sizeof buf) > 0) {
    }
  }

  HostPair pair_;
  testing::SynackConnection c_;
  int ep_ = -1;
  using Events = std::vector<std::string>;
};

TEST_F(CapiEpollOnAConnection, LevelTriggeredReportsUntilRead) {
  add(c_.server, EPOLLIN, 7);
  EXPECT_EQ(wait(), Events{});
  send("hello");
  EXPECT_EQ(wait(), Events{"7:IN"});
  EXPECT_EQ(wait(), Events{"7:IN"});
  drain();
  EXPECT_EQ(wait(), Events{});
}

TEST_F(CapiEpollOnAConnection, EdgeTriggeredReportsEachNewArrivalOnce) {
  add(c_.server, EPOLLIN | EPOLLET, 7);
  send("hello");
  EXPECT_EQ(wait(), Events{"7:IN"});
  EXPECT_EQ(wait(), Events{});  // still readable, nothing new
  send("more");
  EXPECT_EQ(wait(), Events{"7:IN"});  // more data on a socket still readable
  EXPECT_EQ(wait(), Events{});
  drain();
  send("again");  // read dry, then data: reported although no wait saw it empty
  EXPECT_EQ(wait(), Events{"7:IN"});
  EXPECT_EQ(wait(), Events{});
}

TEST_F(CapiEpollOnAConnection, OneShotReportsOnceUntilModified) {
  add(c_.server, EPOLLIN | EPOLLONESHOT, 7);
  send("hello");
  EXPECT_EQ(wait(), Events{"7:IN"});
  EXPECT_EQ(wait(), Events{});
  send("more");
  EXPECT_EQ(wait(), Events{});
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLONESHOT;
  ev.data.u64 = 8;
  ASSERT_EQ(synack_epoll_ctl(pair_.b, ep_, EPOLL_CTL_MOD, c_.server, &ev), 0);
  EXPECT_EQ(wait(), Events{"8:IN"});
  EXPECT_EQ(wait(), Events{});
}

TEST_F(CapiEpollOnAConnection, HangupAndErrorAreAlwaysReported) {
  add(c_.server, 0, 7);
  EXPECT_EQ(wait(), Events{});
  const linger l{1, 0};
  synack_setsockopt(pair_.a, c_.client, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  synack_close(pair_.a, c_.client);
  pair_.pump();
  EXPECT_EQ(wait(), Events{"7:ERR|HUP"});
}

TEST_F(CapiEpollOnAConnection, ReadHangupOnlyWhenAsked) {
  add(c_.server, EPOLLIN | EPOLLRDHUP, 7);
  add(c_.listener, EPOLLIN, 9);
  synack_shutdown(pair_.a, c_.client, SHUT_WR);
  pair_.pump();
  EXPECT_EQ(wait(), Events{"7:IN|RDHUP"});
}

TEST_F(CapiEpollOnAConnection, ClosingASocketTakesItOutOfTheInterestList) {
  add(c_.server, EPOLLIN | EPOLLOUT, 7);
  EXPECT_EQ(wait(), Events{"7:OUT"});
  ASSERT_EQ(synack_close(pair_.b, c_.server), 0);
  EXPECT_EQ(wait(), Events{});
  errno = 0;
  EXPECT_EQ(synack_epoll_ctl(pair_.b, ep_, EPOLL_CTL_DEL, c_.server, nullptr), -1);
  EXPECT_EQ(errno, EBADF);
  // A new socket given the same number is not in the list.
  const int again = synack_socket(pair_.b, AF_INET, SOCK_STREAM, 0);
  EXPECT_EQ(wait(), Events{});
  epoll_event ev{};
  ev.events = EPOLLOUT;
  EXPECT_EQ(synack_epoll_ctl(pair_.b, ep_, EPOLL_CTL_ADD, again, &ev), 0);
}

TEST_F(CapiEpollOnAConnection, EveryReadyDescriptorGetsATurn) {
  const int u1 = synack_socket(pair_.b, AF_INET, SOCK_DGRAM, 0);
  const int u2 = synack_socket(pair_.b, AF_INET, SOCK_DGRAM, 0);
  const int u3 = synack_socket(pair_.b, AF_INET, SOCK_DGRAM, 0);
  add(u1, EPOLLOUT, 1);
  add(u2, EPOLLOUT, 2);
  add(u3, EPOLLOUT, 3);
  EXPECT_EQ(wait(2), (Events{"1:OUT", "2:OUT"}));
  EXPECT_EQ(wait(2), (Events{"3:OUT", "1:OUT"}));
  EXPECT_EQ(wait(1), (Events{"2:OUT"}));
}

TEST_F(CapiEpollOnAConnection, AnEpollInstanceIsReadableWhenItHasEvents) {
  add(c_.server, EPOLLIN, 7);
  const int outer = synack_epoll_create(pair_.b, 1);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 1;
  ASSERT_EQ(synack_epoll_ctl(pair_.b, outer, EPOLL_CTL_ADD, ep_, &ev), 0);
  pollfd p{ep_, POLLIN, 0};
  EXPECT_EQ(synack_poll(pair_.b, &p, 1, 0), 0);
  send("x");
  EXPECT_EQ(synack_poll(pair_.b, &p, 1, 0), 1);
  EXPECT_EQ(p.revents, POLLIN);
  epoll_event out[2];
  ASSERT_EQ(synack_epoll_wait(pair_.b, outer, out, 2, 0), 1);
  EXPECT_EQ(out[0].data.u64, 1u);
}

TEST_F(CapiEpollOnAConnection, WaitBlocksInVirtualTime) {
  add(c_.server, EPOLLIN, 7);
  std::atomic<bool> done = false;
  int ret = -2;
  std::thread waiter([&] {
    epoll_event out[1];
    ret = synack_epoll_wait(pair_.b, ep_, out, 1, 500);
    done = true;
  });
  advance_until(pair_.b, done);
  waiter.join();
  EXPECT_EQ(ret, 0);
}

TEST_F(CapiEpollOnAConnection, ABlockedWaitWakesForData) {
  add(c_.server, EPOLLIN, 7);
  std::atomic<bool> done = false;
  int ret = -2;
  epoll_event out[1];
  std::thread waiter([&] {
    ret = synack_epoll_wait(pair_.b, ep_, out, 1, -1);
    done = true;
  });
  send("wake");
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!done) synack_close(pair_.b, ep_);  // unblock rather than hang
  waiter.join();
  EXPECT_EQ(ret, 1);
  EXPECT_EQ(out[0].data.u64, 7u);
}

}  // namespace
}  // namespace synack::capi
