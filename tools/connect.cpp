// `synack connect HOST PORT`: netcat over synack. Standard input goes to the connection,
// the connection to standard output; at EOF on standard input synack half-closes (FIN) and
// keeps reading until the peer closes too.
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <thread>
#include <vector>

#include "tools/net_commands.hpp"
#include "tools/net_io.hpp"
#include "tools/net_session.hpp"

namespace synack::tools {
namespace {

bool write_fd(int fd, const std::uint8_t* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// Copies standard input to the connection until EOF (then SHUT_WR) or until `stop_fd`
// becomes readable.
void pump_stdin(runtime::Runtime& rt, SocketId s, int stop_fd) {
  std::vector<std::uint8_t> buffer(65536);
  for (;;) {
    pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {stop_fd, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    const ssize_t n = ::read(STDIN_FILENO, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      rt.shutdown(s, Shutdown::write);
      return;
    }
    if (write_all(rt, s, std::span(buffer.data(), static_cast<std::size_t>(n)))) return;
  }
}

}  // namespace

int connect(int argc, const char* const* argv) {
  CLI::App app{
      "netcat over synack: connects to HOST PORT through the TUN device (or the region of a\n"
      "synack serve --shm NAME, with --shm NAME), copies standard\n"
      "input to the connection and the connection to standard output. At EOF on standard\n"
      "input it half-closes (FIN) and reads on until the peer closes.",
      "synack connect"};
  NetOptions net;
  add_net_options(app, net);
  std::string host;
  std::uint16_t port = 0;
  double timeout_s = 0;
  app.add_option("host", host, "IPv4 address to connect to")->required();
  app.add_option("port", port, "TCP port")->required();
  app.add_option("--timeout", timeout_s, "Give up connecting after this many seconds");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  const auto address = Ipv4Address::parse(host);
  if (!address) {
    std::cerr << "synack connect: '" << host << "' is not an IPv4 address\n";
    return 2;
  }
  block_stop_signals();
  std::string error;
  auto session = NetSession::open(net, error);
  if (!session) {
    std::cerr << "synack connect: " << error << "\n";
    return 1;
  }
  runtime::Runtime& rt = session->rt();
  on_stop_signal([&rt] { rt.stop(); });
  const Endpoint remote{*address, port};
  SocketId s;
  rt.tcp_socket(s);
  if (timeout_s > 0) {
    rt.set_send_timeout(s, nanoseconds(static_cast<std::int64_t>(timeout_s * 1e9)));
  }
  if (auto ec = rt.connect(s, remote)) {
    if (ec == std::errc::operation_in_progress) ec = std::make_error_code(std::errc::timed_out);
    std::cerr << "synack connect: " << remote.to_string() << ": " << ec.message() << "\n";
    return 1;
  }
  if (net.verbose) std::cerr << "synack connect: connected to " << remote.to_string() << "\n";

  const int stop_fd = ::eventfd(0, EFD_CLOEXEC);
  std::thread input([&] { pump_stdin(rt, s, stop_fd); });
  int rc = 0;
  std::vector<std::uint8_t> buffer(65536);
  for (;;) {
    std::size_t n = 0;
    if (auto ec = rt.read(s, buffer, n)) {
      if (ec != std::errc::operation_canceled) {
        std::cerr << "synack connect: " << ec.message() << "\n";
        rc = 1;
      }
      break;
    }
    if (n == 0) break;  // the peer closed
    if (!write_fd(STDOUT_FILENO, buffer.data(), n)) {
      rc = 1;
      break;
    }
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t w = ::write(stop_fd, &one, sizeof one);
  input.join();
  ::close(stop_fd);
  rt.close(s);
  if (net.verbose) std::cerr << "synack connect: " << session->summary() << "\n";
  session.reset();  // lets the close handshake finish
  return rc;
}

}  // namespace synack::tools
