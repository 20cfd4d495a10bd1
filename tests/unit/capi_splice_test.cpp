// synack_pipe and synack_splice: bytes between a synack TCP socket and a kernel pipe, either
// way, none lost when the far side takes less; and splice's checks and errors, run on a
// kernel loopback connection and on a pair of hosts, which must agree.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "capi_pair.hpp"
#include "synack/synack.h"

namespace synack::capi {
namespace {

using testing::HostPair;

// SIGPIPE ignored for the scope, as the broken-pipe cases raise it.
class IgnoreSigpipe {
 public:
  IgnoreSigpipe() {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ignore, &saved_);
  }
  ~IgnoreSigpipe() { ::sigaction(SIGPIPE, &saved_, nullptr); }
  IgnoreSigpipe(const IgnoreSigpipe&) = delete;
  IgnoreSigpipe& operator=(const IgnoreSigpipe&) = delete;

 private:
  struct sigaction saved_ {};
};

struct Pipe {
  int fds[2] = {-1, -1};
  Pipe() { EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0); }
  ~Pipe() {
    for (int fd : fds) {
      if (fd >= 0) ::close(fd);
    }
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  int in() const { return fds[0]; }   // read end
  int out() const { return fds[1]; }  // write end
  void close_end(int i) {
    ::close(fds[i]);
    fds[i] = -1;
  }
  int queued() const {
    int n = -1;
    ::ioctl(fds[0], FIONREAD, &n);
    return n;
  }
  std::string take() {
    char buf[70000];
    const int n = queued();
    if (n <= 0) return {};
    const ssize_t got = ::read(fds[0], buf, static_cast<std::size_t>(n));
    return std::string(buf, static_cast<std::size_t>(std::max<ssize_t>(got, 0)));
  }
};

class CapiSplice : public ::testing::Test {
 protected:
  CapiSplice() : c_(testing::connect_pair(pair_)) {}
  ssize_t splice(int in, int out, std::size_t len, unsigned flags = 0) {
    return synack_splice(pair_.b, in, nullptr, out, nullptr, len, flags);
  }
  void send(const std::string& text) {
    ASSERT_EQ(synack_write(pair_.a, c_.client, text.data(), text.size()),
              static_cast<ssize_t>(text.size()));
    pair_.pump();
  }
  int readable(synack_host* h, int fd) {
    int n = -1;
    EXPECT_EQ(synack_ioctl(h, fd, FIONREAD, &n), 0);
    return n;
  }

  HostPair pair_;
  testing::SynackConnection c_;
};

TEST_F(CapiSplice, SocketToPipe) {
  Pipe p;
  send("hello world");
  EXPECT_EQ(splice(c_.server, p.out(), 5), 5);
  EXPECT_EQ(p.take(), "hello");
  EXPECT_EQ(splice(c_.server, p.out(), 100), 6);
  EXPECT_EQ(p.take(), " world");
  EXPECT_EQ(readable(pair_.b, c_.server), 0);
}

TEST_F(CapiSplice, PipeToSocket) {
  Pipe p;
  ASSERT_EQ(::write(p.out(), "abcdef", 6), 6);
  EXPECT_EQ(synack_splice(pair_.a, p.in(), nullptr, c_.client, nullptr, 4, 0), 4);
  EXPECT_EQ(p.take(), "ef");
  pair_.pump();
  char buf[16] = {};
  EXPECT_EQ(synack_read(pair_.b, c_.server, buf, sizeof buf), 4);
  EXPECT_STREQ(buf, "abcd");
}

// The pipe takes one page: the rest stays in the socket, none lost.
TEST_F(CapiSplice, APipeWithLessRoomTakesWhatFitsAndTheSocketKeepsTheRest) {
  Pipe p;
  ASSERT_EQ(::fcntl(p.out(), F_SETPIPE_SZ, 4096), 4096);
  send(std::string(10000, 'a'));
  EXPECT_EQ(splice(c_.server, p.out(), 10000, SPLICE_F_NONBLOCK), 4096);
  EXPECT_EQ(readable(pair_.b, c_.server), 10000 - 4096);
  // Full now: with SPLICE_F_NONBLOCK, EAGAIN, and the socket keeps its bytes.
  errno = 0;
  EXPECT_EQ(splice(c_.server, p.out(), 10000, SPLICE_F_NONBLOCK), -1);
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_EQ(readable(pair_.b, c_.server), 10000 - 4096);
  EXPECT_EQ(p.take(), std::string(4096, 'a'));
  EXPECT_EQ(splice(c_.server, p.out(), 10000, SPLICE_F_NONBLOCK), 4096);
}

// The socket takes what its send buffer has room for: the rest stays in the pipe.
TEST(CapiSpliceSendBuffer, ASocketWithLessRoomTakesWhatFitsAndThePipeKeepsTheRest) {
  HostPair pair;
  const int listener = synack_socket(pair.b, AF_INET, SOCK_STREAM, 0);
  const sockaddr_in any = testing::ipv4("0.0.0.0", 8080);
  ASSERT_EQ(synack_bind(pair.b, listener, testing::as_sockaddr(any), sizeof any), 0);
  ASSERT_EQ(synack_listen(pair.b, listener, 4), 0);
  const int client = synack_socket(pair.a, AF_INET, SOCK_STREAM, 0);
  const int size = 4096;  // the stack gets 4096 bytes (reported 8192)
  ASSERT_EQ(synack_setsockopt(pair.a, client, SOL_SOCKET, SO_SNDBUF, &size, sizeof size), 0);
  ASSERT_EQ(synack_fcntl(pair.a, client, F_SETFL, O_NONBLOCK), 0);
  const sockaddr_in to = testing::ipv4("192.168.0.2", 8080);
  synack_connect(pair.a, client, testing::as_sockaddr(to), sizeof to);
  pair.pump();
  Pipe p;
  const std::string data(10000, 'z');
  ASSERT_EQ(::write(p.out(), data.data(), data.size()), 10000);
  // Nothing acknowledged yet (no pump): the send buffer holds 4096.
  EXPECT_EQ(synack_splice(pair.a, p.in(), nullptr, client, nullptr, 10000, 0), 4096);
  EXPECT_EQ(p.queued(), 10000 - 4096);
  // Full: a non-blocking socket says EAGAIN and the pipe keeps its bytes.
  errno = 0;
  EXPECT_EQ(synack_splice(pair.a, p.in(), nullptr, client, nullptr, 10000, 0), -1);
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_EQ(p.queued(), 10000 - 4096);
}

TEST_F(CapiSplice, EndOfStreamIsZero) {
  Pipe p;
  synack_shutdown(pair_.a, c_.client, SHUT_WR);
  pair_.pump();
  EXPECT_EQ(splice(c_.server, p.out(), 100), 0);
}

TEST_F(CapiSplice, ANonBlockingSocketWithNothingToReadIsEagain) {
  Pipe p;
  ASSERT_EQ(synack_fcntl(pair_.b, c_.server, F_SETFL, O_NONBLOCK), 0);
  errno = 0;
  EXPECT_EQ(splice(c_.server, p.out(), 100), -1);
  EXPECT_EQ(errno, EAGAIN);
}

// SPLICE_F_NONBLOCK is about the pipe: a blocking socket still waits for data (Linux's
// tcp_splice_read looks at O_NONBLOCK only), here until its SO_RCVTIMEO in virtual time.
TEST_F(CapiSplice, ABlockingSocketWaitsInVirtualTimeUntilItsTimeout) {
  Pipe p;
  const timeval timeout{0, 200'000};
  ASSERT_EQ(
      synack_setsockopt(pair_.b, c_.server, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout), 0);
  std::atomic<bool> done = false;
  ssize_t ret = -2;
  int error = 0;
  std::thread waiter([&] {
    ret = splice(c_.server, p.out(), 100, SPLICE_F_NONBLOCK);
    error = errno;
    done = true;
  });
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (int i = 0; i < 1000 && !done && std::chrono::steady_clock::now() < give_up; ++i) {
    synack_usleep(pair_.b, 10'000);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  waiter.join();
  EXPECT_EQ(ret, -1);
  EXPECT_EQ(error, EAGAIN);
}

TEST_F(CapiSplice, ABlockingSocketWakesForData) {
  Pipe p;
  std::atomic<bool> done = false;
  ssize_t ret = -2;
  std::thread waiter([&] {
    ret = splice(c_.server, p.out(), 100);
    done = true;
  });
  send("late");
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!done) synack_shutdown(pair_.b, c_.server, SHUT_RD);  // unblock rather than hang
  waiter.join();
  EXPECT_EQ(ret, 4);
  EXPECT_EQ(p.take(), "late");
}

// An empty pipe is waited for in real time, with the host free for other calls meanwhile.
TEST_F(CapiSplice, AnEmptyPipeIsWaitedForWithTheHostFree) {
  Pipe p;
  std::atomic<bool> done = false;
  ssize_t ret = -2;
  std::thread waiter([&] {
    ret = synack_splice(pair_.a, p.in(), nullptr, c_.client, nullptr, 100, 0);
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  pollfd poll_client{c_.client, POLLOUT, 0};
  EXPECT_EQ(synack_poll(pair_.a, &poll_client, 1, 0), 1);  // not blocked behind the splice
  EXPECT_FALSE(done);
  ASSERT_EQ(::write(p.out(), "piped", 5), 5);
  waiter.join();
  EXPECT_EQ(ret, 5);
  pair_.pump();
  char buf[16] = {};
  EXPECT_EQ(synack_read(pair_.b, c_.server, buf, sizeof buf), 5);
  EXPECT_STREQ(buf, "piped");
}

TEST(CapiPipe, IsAKernelPipe) {
  synack_host* h = synack_host_new(nullptr);
  int fds[2] = {-1, -1};
  ASSERT_EQ(synack_pipe(h, fds), 0);
  ASSERT_EQ(::write(fds[1], "x", 1), 1);
  char c = 0;
  EXPECT_EQ(::read(fds[0], &c, 1), 1);
  EXPECT_EQ(c, 'x');
  ::close(fds[0]);
  ::close(fds[1]);
  synack_host_free(h);
}

// --- The checks and errors, against the kernel ------------------------------------------------

// A connection (client, server, listener) and splice, on one side.
struct SpliceWorld {
  int client, server, listener, fresh;
  std::function<ssize_t(int, loff_t*, int, loff_t*, std::size_t, unsigned)> splice;
  std::function<void(const std::string&)> send;  // client to server, delivered
  std::function<void()> settle;
};

std::vector<std::string> splice_error_script(const SpliceWorld& w) {
  IgnoreSigpipe quiet;
  std::vector<std::string> lines;
  auto call = [&](const char* what, int in, loff_t* off_in, int out, loff_t* off_out,
                  std::size_t len, unsigned flags) {
    errno = 0;
    const ssize_t ret = w.splice(in, off_in, out, off_out, len, flags);
    lines.push_back(std::string(what) + " = " + std::to_string(ret) +
                    (ret < 0 ? " errno " + std::to_string(errno) : ""));
  };
  Pipe p;
  loff_t off = 0;
  call("len 0, bad descriptors", 1000, nullptr, 1001, nullptr, 0, 0);
  call("unknown flag", w.server, nullptr, p.out(), nullptr, 10, 0x100);
  call("closed input", 1000, nullptr, p.out(), nullptr, 10, 0);
  call("closed output", w.server, nullptr, 1000, nullptr, 10, 0);
  call("socket to pipe, offset on the socket", w.server, &off, p.out(), nullptr, 10, 0);
  call("socket to pipe, offset on the pipe", w.server, nullptr, p.out(), &off, 10, 0);
  call("socket to pipe, offsets on both", w.server, &off, p.out(), &off, 10, 0);
  call("socket to socket", w.server, nullptr, w.client, nullptr, 10, 0);
  call("socket to socket, with an offset", w.server, &off, w.client, nullptr, 10, 0);
  call("socket to a pipe's read end", w.server, nullptr, p.in(), nullptr, 10, 0);
  call("a pipe's write end to a socket", p.out(), nullptr, w.client, nullptr, 10, 0);
  call("pipe to socket, offset on the socket", p.in(), nullptr, w.client, &off, 10, 0);
  call("pipe to socket, offset on the pipe", p.in(), &off, w.client, nullptr, 10, 0);
  call("empty pipe, SPLICE_F_NONBLOCK", p.in(), nullptr, w.client, nullptr, 10, SPLICE_F_NONBLOCK);
  call("unconnected socket to pipe", w.fresh, nullptr, p.out(), nullptr, 10, 0);
  call("listener to pipe", w.listener, nullptr, p.out(), nullptr, 10, 0);
  ::write(p.out(), "zz", 2);
  call("pipe to an unconnected socket", p.in(), nullptr, w.fresh, nullptr, 10, 0);
  call("pipe to socket", p.in(), nullptr, w.client, nullptr, 10, 0);
  w.settle();
  call("socket to pipe", w.server, nullptr, p.out(), nullptr, 10, 0);
  {
    Pipe no_reader;
    no_reader.close_end(0);
    w.send("abc");
    call("socket to a pipe with no reader", w.server, nullptr, no_reader.out(), nullptr, 10, 0);
  }
  {
    Pipe no_writer;
    no_writer.close_end(1);
    call("empty pipe with no writer to socket", no_writer.in(), nullptr, w.client, nullptr, 10, 0);
  }
  return lines;
}

TEST(CapiSpliceErrors, AsLinux) {
  testing::KernelConnection kernel;
  testing::kernel_connect(kernel);
  const int kernel_fresh = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const SpliceWorld kernel_world{
      kernel.client,
      kernel.server,
      kernel.listener,
      kernel_fresh,
      [](int in, loff_t* oi, int out, loff_t* oo, std::size_t len, unsigned flags) {
        return ::splice(in, oi, out, oo, len, flags);
      },
      [&](const std::string& s) {
        ::write(kernel.client, s.data(), s.size());
        testing::kernel_settle();
      },
      [] { testing::kernel_settle(); }};
  const std::vector<std::string> want = splice_error_script(kernel_world);
  ::close(kernel_fresh);

  HostPair pair;
  const testing::SynackConnection c = testing::connect_pair(pair);
  // One host has both ends here, so that a splice between them names one host: the client
  // is on a, the server on b; calls go to the host of the descriptor spliced.
  const int fresh = synack_socket(pair.b, AF_INET, SOCK_STREAM, 0);
  auto host_of = [&](int in, int out) {
    return in == c.client || out == c.client ? pair.a : pair.b;
  };
  const SpliceWorld ours{
      c.client,
      c.server,
      c.listener,
      fresh,
      [&](int in, loff_t* oi, int out, loff_t* oo, std::size_t len, unsigned flags) {
        return synack_splice(host_of(in, out), in, oi, out, oo, len, flags);
      },
      [&](const std::string& s) {
        synack_write(pair.a, c.client, s.data(), s.size());
        pair.pump();
      },
      [&] { pair.pump(); }};
  const std::vector<std::string> got = splice_error_script(ours);
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got[i], want[i]);
}

}  // namespace
}  // namespace synack::capi
