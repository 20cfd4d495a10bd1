// pipe and splice: kernel pipes, and moving bytes between one and a synack TCP socket, with
// the checks and errors of Linux's splice(2) (fs/splice.c).
//
// Neither way may lose a byte when the far side takes less than was taken from the near
// side, so each looks before it takes:
//   socket -> pipe: peek the stack's bytes into an empty scratch pipe, move what the pipe
//     takes without blocking (a non-blocking pipe-to-pipe splice), then consume just that
//     much from the stack.
//   pipe -> socket: tee the pipe's bytes into an empty scratch pipe (tee consumes nothing),
//     write them to the stack, then consume from the pipe what the stack took.
// Waiting for the socket is in the host's virtual time; waiting for the pipe is in real
// time, with the host unlocked, as the pipe is the kernel's.
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "capi/blocking.hpp"
#include "capi/call.hpp"
#include "capi/fail.hpp"
#include "capi/host.hpp"

namespace synack::capi {
namespace {

constexpr unsigned kSpliceFlags = SPLICE_F_MOVE | SPLICE_F_NONBLOCK | SPLICE_F_MORE | SPLICE_F_GIFT;

// A kernel pipe made for one call and closed after it.
class ScratchPipe {
 public:
  ScratchPipe() {
    if (::pipe2(fds_, O_CLOEXEC) < 0) fds_[0] = fds_[1] = -1;
  }
  ~ScratchPipe() {
    for (int fd : fds_) {
      if (fd >= 0) ::close(fd);
    }
  }
  ScratchPipe(const ScratchPipe&) = delete;
  ScratchPipe& operator=(const ScratchPipe&) = delete;

  bool ok() const { return fds_[0] >= 0; }
  int read_end() const { return fds_[0]; }
  int write_end() const { return fds_[1]; }
  // What it holds when empty (F_GETPIPE_SZ): writing no more than this never blocks.
  std::size_t capacity() const {
    const int size = ::fcntl(fds_[1], F_GETPIPE_SZ);
    return size > 0 ? static_cast<std::size_t>(size) : 4096;
  }

 private:
  int fds_[2] = {-1, -1};
};

bool is_pipe(int fd) {
  struct stat st;
  return ::fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

// Reads or writes all of `n` bytes that are known to be there (or to fit).
bool read_all(int fd, std::uint8_t* buf, std::size_t n) {
  while (n > 0) {
    const ssize_t got = ::read(fd, buf, n);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    buf += got;
    n -= static_cast<std::size_t>(got);
  }
  return true;
}

bool write_all(int fd, const std::uint8_t* buf, std::size_t n) {
  while (n > 0) {
    const ssize_t put = ::write(fd, buf, n);
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) return false;
    buf += put;
    n -= static_cast<std::size_t>(put);
  }
  return true;
}

// Waits in real time, with the host unlocked, for the pipe to be ready for `events`.
void wait_for_pipe(std::unique_lock<std::mutex>& held, int pipe, short events) {
  held.unlock();
  pollfd p{pipe, events, 0};
  while (::poll(&p, 1, -1) < 0 && errno == EINTR) {
  }
  held.lock();
}

// When a socket's wait ends: now for a non-blocking one, else after its timeout.
std::optional<Instant> socket_deadline(Host& host, const Descriptor& d,
                                       const std::optional<Duration>& timeout) {
  return d.nonblocking ? std::optional(host.now()) : deadline_after(host, timeout);
}

ssize_t socket_to_pipe(Host& host, std::unique_lock<std::mutex>& held, int fd, int pipe,
                       std::size_t len, unsigned flags) {
  ScratchPipe scratch;
  if (!scratch.ok()) return fail_with(errno);
  const std::uint64_t serial = host.find(fd)->serial;
  // splice_file_to_pipe: wait_for_space on the pipe first, then the socket's data.
  for (;;) {
    pollfd p{pipe, POLLOUT, 0};
    ::poll(&p, 1, 0);
    if (p.revents & (POLLOUT | POLLERR)) break;  // room, or no reader (EPIPE below)
    if (flags & SPLICE_F_NONBLOCK) return fail_with(EAGAIN);
    wait_for_pipe(held, pipe, POLLOUT);
    if (!still_open(host, fd, serial)) return -1;
  }
  const Descriptor* d = host.find(fd);
  const auto deadline = socket_deadline(host, *d, d->receive_timeout);
  std::vector<std::uint8_t> buf(std::min(len, scratch.capacity()));
  std::size_t n = 0;
  for (;;) {
    // tcp_splice_read: data, end of stream, or an error (which the peek collects, as
    // sock_error() does); else wait as a blocking read does.
    const std::error_code ec = host.stack().peek(d->socket, buf, n);
    if (!ec) break;
    if (ec != std::errc::resource_unavailable_try_again) {
      host.run();
      return fail_with(errno_from(ec));
    }
    const bool woke =
        sleep_until(host, held, fd, serial, deadline, [&] { return can_read(host, *d); });
    d = still_open(host, fd, serial);
    if (!d) return -1;
    if (!woke) return fail_with(EAGAIN);  // SO_RCVTIMEO, or non-blocking
  }
  if (n == 0) return 0;  // end of stream
  if (!write_all(scratch.write_end(), buf.data(), n)) return fail_with(errno);
  // The pipe takes what it has room for now; a reader gone is EPIPE (and SIGPIPE) from the
  // kernel, as from Linux's splice.
  const ssize_t moved = ::splice(scratch.read_end(), nullptr, pipe, nullptr, n, SPLICE_F_NONBLOCK);
  if (moved < 0) return -1;
  std::size_t consumed = 0;
  host.stack().read(d->socket, std::span(buf.data(), static_cast<std::size_t>(moved)), consumed);
  host.run();  // the window opened: an update may go
  return moved;
}

ssize_t pipe_to_socket(Host& host, std::unique_lock<std::mutex>& held, int pipe, int fd,
                       std::size_t len, unsigned flags) {
  ScratchPipe scratch;
  if (!scratch.ok()) return fail_with(errno);
  std::vector<std::uint8_t> buf(std::min(len, scratch.capacity()));
  const Descriptor* d = host.find(fd);
  const std::uint64_t serial = d->serial;
  const auto deadline = socket_deadline(host, *d, d->send_timeout);
  for (;;) {
    // splice_to_socket: wait for the pipe's bytes first.
    const ssize_t copied = ::tee(pipe, scratch.write_end(), buf.size(), SPLICE_F_NONBLOCK);
    if (copied == 0) return 0;  // empty, with no writer left
    if (copied < 0) {
      if (errno != EAGAIN || (flags & SPLICE_F_NONBLOCK)) return -1;
      wait_for_pipe(held, pipe, POLLIN);
      d = still_open(host, fd, serial);
      if (!d) return -1;
      continue;
    }
    const auto n = static_cast<std::size_t>(copied);
    if (!read_all(scratch.read_end(), buf.data(), n)) return fail_with(EIO);
    std::size_t taken = 0;
    const std::error_code ec = host.stack().write(d->socket, std::span(buf.data(), n), taken);
    if (ec == std::errc::resource_unavailable_try_again) {
      // No room (or the handshake still going): wait as a blocking send does, then look at
      // the pipe again (the scratch copy is spent).
      const bool woke =
          sleep_until(host, held, fd, serial, deadline, [&] { return can_write(host, *d); });
      d = still_open(host, fd, serial);
      if (!d) return -1;
      if (!woke) return fail_with(EAGAIN);  // SO_SNDTIMEO, or non-blocking
      continue;
    }
    host.run();
    // tcp_sendmsg: a socket never connected, or shut for writing, is EPIPE. Linux raises
    // SIGPIPE with it; the C calls' writes do not (as with MSG_NOSIGNAL), nor does this.
    if (ec) return fail_with(ec == std::errc::not_connected ? EPIPE : errno_from(ec));
    // Exactly what the stack took leaves the pipe; the rest stays for the next call.
    std::vector<std::uint8_t> discard(taken);
    if (!read_all(pipe, discard.data(), taken)) return fail_with(EIO);
    return static_cast<ssize_t>(taken);
  }
}

}  // namespace

int pipe(int fds[2]) {
  if (!fds) return fail_with(EFAULT);
  return ::pipe(fds);
}

ssize_t splice(Host& host, int fd_in, loff_t* off_in, int fd_out, loff_t* off_out, std::size_t len,
               unsigned flags) {
  if (len == 0) return 0;
  if (flags & ~kSpliceFlags) return fail_with(EINVAL);
  auto held = host.lock();
  const Descriptor* in = host.find(fd_in);
  const Descriptor* out = host.find(fd_out);
  // Between two kernel descriptors (a pipe to a pipe, say) the kernel does it all.
  if (!in && !out) {
    held.unlock();
    return ::splice(fd_in, off_in, fd_out, off_out, len, flags);
  }
  auto mode = [](int fd) { return ::fcntl(fd, F_GETFL); };
  if (!in && mode(fd_in) < 0) return fail_with(EBADF);
  if (!out && mode(fd_out) < 0) return fail_with(EBADF);
  // do_splice: the input must be open for reading, the output for writing.
  if (!in && (mode(fd_in) & O_ACCMODE) == O_WRONLY) return fail_with(EBADF);
  if (!out && (mode(fd_out) & O_ACCMODE) == O_RDONLY) return fail_with(EBADF);
  const bool pipe_in = !in && is_pipe(fd_in);
  const bool pipe_out = !out && is_pipe(fd_out);
  // A pipe has no offset (ESPIPE); a socket cannot take one either (EINVAL).
  if (pipe_in) {
    if (off_in) return fail_with(ESPIPE);
    if (off_out) return fail_with(EINVAL);
  } else if (pipe_out) {
    if (off_out) return fail_with(ESPIPE);
    if (off_in) return fail_with(EINVAL);
  } else {
    return fail_with(EINVAL);  // neither end a pipe
  }
  // Our end must be a TCP socket (Linux splices UDP too; not supported here).
  const Descriptor* ours = pipe_in ? out : in;
  if (ours->kind != Descriptor::Kind::tcp) return fail_with(EINVAL);
  return pipe_in ? pipe_to_socket(host, held, fd_in, fd_out, len, flags)
                 : socket_to_pipe(host, held, fd_in, fd_out, len, flags);
}

}  // namespace synack::capi

// --- The C calls -------------------------------------------------------------------------------

extern "C" {

int synack_pipe(synack_host* h, int fds[2]) {
  return synack::capi::host_of(h) ? synack::capi::pipe(fds) : -1;
}

ssize_t synack_splice(synack_host* h, int fd_in, loff_t* off_in, int fd_out, loff_t* off_out,
                      size_t len, unsigned int flags) {
  synack::capi::Host* host = synack::capi::host_of(h);
  return host ? synack::capi::splice(*host, fd_in, off_in, fd_out, off_out, len, flags) : -1;
}

}  // extern "C"
