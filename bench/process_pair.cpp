#include "bench/process_pair.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "bench/peers/kernel_affinity.hpp"

namespace synack::bench {
namespace {

using Clock = std::chrono::steady_clock;

// What a child writes to its pipe: 'o' and the figure's bytes, or 'f' and the reason.
void report(int fd, const SideResult& r) {
  std::string message;
  if (r) {
    const double v = *r;
    message.push_back('o');
    message.append(reinterpret_cast<const char*>(&v), sizeof v);
  } else {
    message = "f" + r.error();
  }
  for (std::size_t off = 0; off < message.size();) {
    const ssize_t n = ::write(fd, message.data() + off, message.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

SideResult parse(const std::string& message, int status) {
  if (message.size() == 1 + sizeof(double) && message[0] == 'o') {
    double v;
    std::memcpy(&v, message.data() + 1, sizeof v);
    return v;
  }
  if (!message.empty() && message[0] == 'f') return Unexpected(message.substr(1));
  if (WIFSIGNALED(status)) {
    return Unexpected(std::string("killed by signal ") + std::to_string(WTERMSIG(status)));
  }
  return Unexpected(std::string("exited without a figure"));
}

struct Child {
  pid_t pid = -1;
  int pipe = -1;
  std::string message;
  bool done = false;  // its pipe reached end of file
  int status = 0;
};

// Forks one side: the child pins itself, runs `side`, reports and leaves with _exit (no
// atexit handlers or stdio buffers of the parent's run twice).
std::optional<std::string> start(Child& c, const std::function<SideResult()>& side,
                                 std::optional<int> cpu) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return std::string("pipe: ") + std::strerror(errno);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return std::string("fork: ") + std::strerror(errno);
  }
  if (pid == 0) {
    ::close(fds[0]);
    const std::optional<std::string> unpinned = cpu ? pin_this_thread(*cpu) : std::nullopt;
    report(fds[1], unpinned ? SideResult(Unexpected(*unpinned)) : side());
    ::_exit(0);
  }
  ::close(fds[1]);
  c.pid = pid;
  c.pipe = fds[0];
  return std::nullopt;
}

}  // namespace

double monotonic_ns() {
  timespec t{};
  ::clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<double>(t.tv_sec) * 1e9 + static_cast<double>(t.tv_nsec);
}

synack::Result<PairResult, std::string> run_process_pair(const PairPlan& plan) {
  std::array<Child, 2> kids;
  std::optional<std::string> error = start(kids[0], plan.first, plan.first_cpu);
  if (!error) error = start(kids[1], plan.second, plan.second_cpu);

  const auto deadline = Clock::now() + plan.limit;
  bool timed_out = false;
  while (!error && !(kids[0].done && kids[1].done)) {
    std::array<pollfd, 2> fds{};
    for (std::size_t i = 0; i < 2; ++i) {
      fds[i] = {kids[i].done ? -1 : kids[i].pipe, POLLIN, 0};
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    if (::poll(fds.data(), fds.size(), static_cast<int>(left)) < 0 && errno != EINTR) {
      error = std::string("poll: ") + std::strerror(errno);
      break;
    }
    for (std::size_t i = 0; i < 2; ++i) {
      if (fds[i].revents == 0) continue;
      char buffer[512];
      const ssize_t n = ::read(kids[i].pipe, buffer, sizeof buffer);
      if (n > 0) {
        kids[i].message.append(buffer, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        kids[i].done = true;
      }
    }
  }
  // Only our own children, by pid: killed when the run went wrong, reaped always.
  for (Child& c : kids) {
    if (c.pid <= 0) continue;
    if (timed_out || error) ::kill(c.pid, SIGKILL);
    while (::waitpid(c.pid, &c.status, 0) < 0 && errno == EINTR) {
    }
    if (c.pipe >= 0) ::close(c.pipe);
  }
  if (error) return Unexpected(*error);
  if (timed_out) {
    return Unexpected("timed out after " + std::to_string(plan.limit.count()) + " ms");
  }
  const SideResult a = parse(kids[0].message, kids[0].status);
  const SideResult b = parse(kids[1].message, kids[1].status);
  if (!a) return Unexpected("first process: " + a.error());
  if (!b) return Unexpected("second process: " + b.error());
  return PairResult{*a, *b};
}

}  // namespace synack::bench
