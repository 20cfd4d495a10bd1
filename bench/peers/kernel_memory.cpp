#include "bench/peers/kernel_memory.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace synack::bench {
namespace {

// Active objects times object size for each named cache.
std::map<std::string, long long> slab_bytes(bool& ok) {
  std::map<std::string, long long> out;
  std::ifstream in("/proc/slabinfo");
  ok = static_cast<bool>(in);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string name;
    long long active = 0, total = 0, size = 0;
    if (!(fields >> name >> active >> total >> size)) continue;
    out[name] = active * size;
  }
  return out;
}

long long sum_of(const std::map<std::string, long long>& slabs,
                 std::initializer_list<const char*> names) {
  long long sum = 0;
  for (const char* n : names) {
    if (auto it = slabs.find(n); it != slabs.end()) sum += it->second;
  }
  return sum;
}

class Fds {
 public:
  ~Fds() {
    for (int fd : fds_) ::close(fd);
  }
  void add(int fd) { fds_.push_back(fd); }
  void close_all() {
    for (int fd : fds_) ::close(fd);
    fds_.clear();
  }

 private:
  std::vector<int> fds_;
};

// A listener on 127.0.0.1 (an ephemeral port), or -1.
int listen_loopback(sockaddr_in& addr) {
  const int l = ::socket(AF_INET, SOCK_STREAM, 0);
  if (l < 0) return -1;
  addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(l, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||  // NOLINT: sockets API
      ::listen(l, 4096) != 0 ||
      ::getsockname(l, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {  // NOLINT
    ::close(l);
    return -1;
  }
  return l;
}

// Opens n connections to `addr`, accepting each; false on any failure.
bool open_connections(int listener, const sockaddr_in& addr, std::size_t n, Fds& clients,
                      Fds& servers, std::string& why) {
  for (std::size_t i = 0; i < n; ++i) {
    const int c = ::socket(AF_INET, SOCK_STREAM, 0);
    if (c < 0) return why = "socket", false;
    clients.add(c);
    if (::connect(c, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {  // NOLINT
      return why = "connect", false;
    }
    const int a = ::accept(listener, nullptr, nullptr);
    if (a < 0) return why = "accept", false;
    servers.add(a);
  }
  return true;
}

// Descriptors allowed: the soft limit raised to the hard one.
std::size_t fd_limit() {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) != 0) return 1024;
  r.rlim_cur = r.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &r);
  return static_cast<std::size_t>(r.rlim_cur);
}

}  // namespace

Run kernel_idle_connection_bytes(std::size_t n) {
  bool ok = false;
  slab_bytes(ok);
  if (!ok) return Run::skip("/proc/slabinfo unreadable (needs root)");
  n = std::min(n, (fd_limit() - 64) / 2);
  sockaddr_in addr{};
  const int l = listen_loopback(addr);
  if (l < 0) return Run::fail("listen on loopback");
  Fds clients, servers;
  const auto before = slab_bytes(ok);
  std::string why;
  if (!open_connections(l, addr, n, clients, servers, why)) {
    ::close(l);
    return Run::fail(why);
  }
  const auto after = slab_bytes(ok);
  ::close(l);
  const auto names = {"TCP", "sock_inode_cache", "dentry", "filp"};
  const long long grown = sum_of(after, names) - sum_of(before, names);
  return Run::of(static_cast<double>(grown) / static_cast<double>(2 * n));
}

Run kernel_time_wait_bytes(std::size_t n) {
  bool ok = false;
  slab_bytes(ok);
  if (!ok) return Run::skip("/proc/slabinfo unreadable (needs root)");
  n = std::min(n, (fd_limit() - 64) / 2);
  sockaddr_in addr{};
  const int l = listen_loopback(addr);
  if (l < 0) return Run::fail("listen on loopback");
  Fds clients, servers;
  std::string why;
  const auto before = slab_bytes(ok);
  if (!open_connections(l, addr, n, clients, servers, why)) {
    ::close(l);
    return Run::fail(why);
  }
  ::close(l);
  clients.close_all();  // the client closes first: its ends go to TIME_WAIT
  servers.close_all();
  // The last ACKs cross loopback in softirq context, a moment after close() returns.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto after = slab_bytes(ok);
  const long long grown = sum_of(after, {"tw_sock_TCP"}) - sum_of(before, {"tw_sock_TCP"});
  return Run::of(static_cast<double>(grown) / static_cast<double>(n));
}

}  // namespace synack::bench
