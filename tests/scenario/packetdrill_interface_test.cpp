// libsynack_packetdrill.so as the tool sees it before and after a script: one exported
// symbol filling every pointer, --so_flags, the virtual clock, netdev_receive with nothing
// to send, the variadic fcntl and ioctl, and the end of a script (leftover sockets closed
// with the C library's close(), then free()).
#include <dlfcn.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "support/packetdrill_driver.hpp"
#include "support/packetdrill_scripts.hpp"

namespace synack::testing {
namespace {

long long usecs(const timeval& tv) {
  return static_cast<long long>(tv.tv_sec) * 1'000'000 + tv.tv_usec;
}

TEST(PacketdrillInterface, InitFillsEveryPointer) {
  Packetdrill pd(SYNACK_PACKETDRILL_SO);
  const auto& f = pd.ifc();
  EXPECT_NE(f.userdata, nullptr);
  const void* pointers[] = {
      reinterpret_cast<const void*>(f.free),
      reinterpret_cast<const void*>(f.socket),
      reinterpret_cast<const void*>(f.bind),
      reinterpret_cast<const void*>(f.listen),
      reinterpret_cast<const void*>(f.accept),
      reinterpret_cast<const void*>(f.connect),
      reinterpret_cast<const void*>(f.read),
      reinterpret_cast<const void*>(f.readv),
      reinterpret_cast<const void*>(f.recv),
      reinterpret_cast<const void*>(f.recvfrom),
      reinterpret_cast<const void*>(f.recvmsg),
      reinterpret_cast<const void*>(f.write),
      reinterpret_cast<const void*>(f.writev),
      reinterpret_cast<const void*>(f.send),
      reinterpret_cast<const void*>(f.sendto),
      reinterpret_cast<const void*>(f.sendmsg),
      reinterpret_cast<const void*>(f.fcntl),
      reinterpret_cast<const void*>(f.ioctl),
      reinterpret_cast<const void*>(f.close),
      reinterpret_cast<const void*>(f.shutdown),
      reinterpret_cast<const void*>(f.getsockopt),
      reinterpret_cast<const void*>(f.setsockopt),
      reinterpret_cast<const void*>(f.poll),
      reinterpret_cast<const void*>(f.netdev_send),
      reinterpret_cast<const void*>(f.netdev_receive),
      reinterpret_cast<const void*>(f.usleep),
      reinterpret_cast<const void*>(f.gettimeofday),
      reinterpret_cast<const void*>(f.epoll_create),
      reinterpret_cast<const void*>(f.epoll_ctl),
      reinterpret_cast<const void*>(f.epoll_wait),
      reinterpret_cast<const void*>(f.pipe),
      reinterpret_cast<const void*>(f.splice),
  };
  // The struct is userdata and 32 function pointers, nothing else, in that order.
  static_assert(sizeof(packetdrill_interface) == 33 * sizeof(void*));
  for (std::size_t i = 0; i < std::size(pointers); ++i) EXPECT_NE(pointers[i], nullptr) << i;
}

TEST(PacketdrillInterface, TheLibraryExportsOnlyTheEntryPoint) {
  void* lib = ::dlopen(SYNACK_PACKETDRILL_SO, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  ASSERT_NE(lib, nullptr) << ::dlerror();
  EXPECT_NE(::dlsym(lib, "packetdrill_interface_init"), nullptr);
  EXPECT_EQ(::dlsym(lib, "synack_socket"), nullptr) << "the stack inside stays private";
  EXPECT_EQ(::dlsym(lib, "synack_host_new"), nullptr);
  ::dlclose(lib);
}

// packetdrill passes NULL when the command line has no --so_flags: the defaults, whose
// local address is packetdrill's own default, 192.168.0.1.
TEST(PacketdrillInterface, NullFlagsMeanTheDefaults) {
  Packetdrill pd(SYNACK_PACKETDRILL_SO, Packetdrill::Mode::ipv4, nullptr);
  const auto a = passive_open(pd, true);
  EXPECT_GE(a.fd, 0);
}

// Flags the library cannot use end the run with the reason: init returns void, so there
// is no other way to stop the tool from running a script against nothing.
TEST(PacketdrillInterfaceDeathTest, BadFlagsEndTheRunWithTheReason) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto init = [](const char* flags) {
    void* lib = ::dlopen(SYNACK_PACKETDRILL_SO, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    auto fn =
        reinterpret_cast<packetdrill_interface_init_t>(::dlsym(lib, "packetdrill_interface_init"));
    packetdrill_interface ifc{};
    fn(flags, &ifc);
  };
  EXPECT_EXIT(init("local=192.168.0.1 colour=blue"), ::testing::ExitedWithCode(1),
              "so_flags \"local=192.168.0.1 colour=blue\"");
  EXPECT_EXIT(init("local=300.1.2.3"), ::testing::ExitedWithCode(1), "so_flags");
}

// The tool's only clock: every gettimeofday() moves it at least 1 us (the tool spins on
// it), usleep() moves it exactly.
TEST(PacketdrillInterface, TheClockIsVirtual) {
  Packetdrill pd(SYNACK_PACKETDRILL_SO);
  auto& f = pd.ifc();
  timeval a{}, b{}, c{};
  ASSERT_EQ(f.gettimeofday(f.userdata, &a, nullptr), 0);
  ASSERT_EQ(f.gettimeofday(f.userdata, &b, nullptr), 0);
  EXPECT_GE(usecs(b) - usecs(a), 1);
  EXPECT_LE(usecs(b) - usecs(a), 10);
  ASSERT_EQ(f.usleep(f.userdata, 2'500'000), 0);
  ASSERT_EQ(f.gettimeofday(f.userdata, &c, nullptr), 0);
  EXPECT_GE(usecs(c) - usecs(b), 2'500'000);
  EXPECT_LE(usecs(c) - usecs(b), 2'500'010);
  // Virtual: an hour passes at once.
  const auto real_start = std::chrono::steady_clock::now();
  ASSERT_EQ(f.usleep(f.userdata, 3'600'000'000u), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - real_start, std::chrono::seconds(2));
}

// With nothing to send and no timer that will send, netdev_receive does not hang the
// tool: 0 with *count = 0.
TEST(PacketdrillInterface, NetdevReceiveWithNothingPendingReturnsNoPacket) {
  Packetdrill pd(SYNACK_PACKETDRILL_SO);
  auto& f = pd.ifc();
  std::vector<std::uint8_t> buf(2000);
  std::size_t count = buf.size();
  long long when = -1;
  EXPECT_EQ(f.netdev_receive(f.userdata, buf.data(), &count, &when), 0);
  EXPECT_EQ(count, 0u);
  // A listener sends nothing either.
  const int listener = pd.socket();
  ASSERT_EQ(pd.bind(listener), 0);
  ASSERT_EQ(pd.listen(listener, 1), 0);
  pd.expect_nothing();
}

// fcntl and ioctl are variadic; the tool calls F_GETFL with no argument and F_SETFL,
// FIONREAD with one.
TEST(PacketdrillInterface, VariadicFcntlAndIoctl) {
  Packetdrill pd(SYNACK_PACKETDRILL_SO);
  auto& f = pd.ifc();
  const int fd = pd.socket();
  ASSERT_GE(fd, 0);
  EXPECT_EQ(f.fcntl(f.userdata, fd, F_GETFL) & O_NONBLOCK, 0);
  EXPECT_EQ(f.fcntl(f.userdata, fd, F_SETFL, O_RDWR | O_NONBLOCK), 0);
  EXPECT_EQ(f.fcntl(f.userdata, fd, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
  EXPECT_EQ(f.fcntl(f.userdata, fd, F_SETFL, O_RDWR), 0);
  EXPECT_EQ(f.fcntl(f.userdata, fd, F_GETFL) & O_NONBLOCK, 0);
  EXPECT_EQ(f.fcntl(f.userdata, fd, F_SETFD, FD_CLOEXEC), 0);
  EXPECT_EQ(f.fcntl(f.userdata, fd, F_GETFD), FD_CLOEXEC);
  EXPECT_EQ(f.ioctl(f.userdata, fd, FIONCLEX), 0);  // no argument, as FIOCLEX
  EXPECT_EQ(f.fcntl(f.userdata, fd, F_GETFD), 0);
  EXPECT_EQ(f.ioctl(f.userdata, fd, FIOCLEX), 0);
  EXPECT_EQ(f.fcntl(f.userdata, fd, F_GETFD), FD_CLOEXEC);
  errno = 0;
  EXPECT_EQ(f.ioctl(f.userdata, fd, 0x12345ul), -1);
  EXPECT_EQ(errno, ENOTTY);
  errno = 0;
  EXPECT_EQ(f.fcntl(f.userdata, fd, F_GETOWN), -1) << "unsupported, never silently";
  EXPECT_EQ(errno, EINVAL);
  int on = 1;
  EXPECT_EQ(f.ioctl(f.userdata, fd, FIONBIO, &on), 0);
  EXPECT_EQ(f.fcntl(f.userdata, fd, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
  // A listener has no bytes to count: EINVAL, as Linux says.
  ASSERT_EQ(pd.bind(fd), 0);
  ASSERT_EQ(pd.listen(fd, 1), 0);
  int n = -1;
  errno = 0;
  EXPECT_EQ(f.ioctl(f.userdata, fd, FIONREAD, &n), -1);
  EXPECT_EQ(errno, EINVAL);
}

// The end of a script: the tool closes the sockets still open with the C library's
// close() (they are kernel descriptors), then calls free(). free() must not close them
// again: by then the numbers may belong to someone else.
TEST(PacketdrillInterface, LeftoverSocketsClosedWithLibcThenFree) {
  std::vector<int> leftovers;
  {
    Packetdrill pd(SYNACK_PACKETDRILL_SO);
    const auto a = passive_open(pd, false);
    ASSERT_GE(a.fd, 0);
    leftovers = {a.listener, a.fd};
    EXPECT_EQ(pd.close_leftovers_with_libc(), 2);
    for (int fd : leftovers) {
      errno = 0;
      EXPECT_EQ(::fcntl(fd, F_GETFD), -1) << fd << " is still open in the kernel";
      EXPECT_EQ(errno, EBADF);
    }
    // Someone else gets the numbers before free() runs.
    const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);  // takes the lowest number
    ASSERT_GE(null, 0);
    for (int fd : leftovers) ASSERT_EQ(::dup2(null, fd), fd);
    if (std::find(leftovers.begin(), leftovers.end(), null) == leftovers.end()) ::close(null);
  }  // free()
  for (int fd : leftovers) {
    EXPECT_NE(::fcntl(fd, F_GETFD), -1) << "free() closed " << fd << ", no longer its own";
    ::close(fd);
  }
}

// After free() of a host with sockets still open, their descriptors are released.
TEST(PacketdrillInterface, FreeReleasesOpenSockets) {
  int fd = -1;
  {
    Packetdrill pd(SYNACK_PACKETDRILL_SO);
    fd = pd.socket();
    ASSERT_GE(fd, 0);
    auto& f = pd.ifc();
    f.free(f.userdata);
    f.userdata = nullptr;
    // The driver's own cleanup must not run on a freed host: forget the socket.
    pd.ifc().free = [](void*) {};
    EXPECT_EQ(pd.close_leftovers_with_libc(), 0) << "free() already closed it";
  }
  errno = 0;
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1);
  EXPECT_EQ(errno, EBADF);
}

}  // namespace
}  // namespace synack::testing
