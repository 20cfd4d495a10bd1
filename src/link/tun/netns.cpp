#include "link/tun/netns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

extern char** environ;

namespace synack::link {
namespace {

std::string netns_path(const std::string& name) {
  return "/run/netns/" + name;
}

std::optional<std::string> setns_to(const std::string& name, int& previous) {
  previous = -1;
  const int target = ::open(netns_path(name).c_str(), O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    return "cannot open network namespace " + name + " (" + netns_path(name) +
           "): " + std::strerror(errno) +
           (errno == ENOENT ? std::string(". Make it first: synack netns up ") + name : "");
  }
  previous = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (::setns(target, CLONE_NEWNET) < 0) {
    const int e = errno;
    ::close(target);
    if (previous >= 0) ::close(previous);
    previous = -1;
    return "cannot enter network namespace " + name + ": " + std::strerror(e) +
           (e == EPERM ? ". Entering a namespace needs CAP_SYS_ADMIN: run as root." : "");
  }
  ::close(target);
  return std::nullopt;
}

}  // namespace

std::optional<std::string> run_program(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  const int rc = ::posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ);
  std::string command;
  for (const auto& a : argv) command += (command.empty() ? "" : " ") + a;
  if (rc != 0) {
    return "cannot run '" + command + "': " + std::strerror(rc) +
           (rc == ENOENT ? " (is iproute2 installed? scripts/setup.sh installs it)" : "");
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return "waitpid for '" + command + "': " + std::strerror(errno);
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return std::nullopt;
  if (WIFEXITED(status)) {
    return "'" + command + "' failed with exit status " + std::to_string(WEXITSTATUS(status));
  }
  return "'" + command + "' ended by signal " + std::to_string(WTERMSIG(status));
}

bool valid_netns_name(const std::string& name) {
  if (name.empty() || name.size() > 64 || name == "." || name == "..") return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

bool netns_exists(const std::string& name) {
  return ::access(netns_path(name).c_str(), F_OK) == 0;
}

std::optional<std::string> netns_add(const std::string& name) {
  if (!valid_netns_name(name)) return "bad namespace name '" + name + "'";
  if (netns_exists(name)) {
    return "network namespace " + name + " exists already (synack netns down " + name +
           " removes it)";
  }
  return run_program({"ip", "netns", "add", name});
}

std::optional<std::string> netns_delete(const std::string& name) {
  if (!valid_netns_name(name)) return "bad namespace name '" + name + "'";
  if (!netns_exists(name)) return "no network namespace " + name;
  return run_program({"ip", "netns", "delete", name});
}

std::optional<std::string> netns_make_tun(const std::string& name, const std::string& tun,
                                          const InterfaceAddress& host, std::size_t mtu) {
  auto guard = NetnsGuard::enter(name);
  if (!guard) return guard.error();
  if (auto e = configure_interface("lo", 0, std::nullopt, true)) return e->message;
  TunConfig config;
  config.name = tun;
  config.mtu = mtu;
  config.host = host;
  config.persist = true;
  config.batching = false;  // opened only to make the device
  auto link = TunLink::open(config);
  if (!link) return link.error().message;
  return std::nullopt;  // the device persists when the descriptor closes
}

Result<NetnsGuard, std::string> NetnsGuard::enter(const std::string& name) {
  int previous = -1;
  if (auto e = setns_to(name, previous)) return Unexpected(*e);
  return NetnsGuard(previous);
}

NetnsGuard::~NetnsGuard() {
  if (previous_ < 0) return;
  [[maybe_unused]] const int rc = ::setns(previous_, CLONE_NEWNET);
  ::close(previous_);
}

std::optional<std::string> enter_netns(const std::string& name) {
  int previous = -1;
  if (auto e = setns_to(name, previous)) return e;
  if (previous >= 0) ::close(previous);
  return std::nullopt;
}

}  // namespace synack::link
