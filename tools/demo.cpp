// `synack demo`: the classic TCP flow on the simulator, two hosts, printed event by event.
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "sim/world.hpp"
#include "stack/counters.hpp"
#include "tools/commands.hpp"
#include "trace/event_log.hpp"

namespace synack::tools {
namespace {

constexpr Ipv4Address kClient{198, 18, 0, 1};
constexpr Ipv4Address kServer{198, 18, 0, 2};

void usage(std::ostream& os) {
  os << "usage: synack demo [--help]\n\n"
        "Runs the classic TCP flow between two simulated hosts and prints every step:\n"
        "server socket/bind/listen/accept, client socket/connect, the three-way handshake,\n"
        "a request and a response, the four-way close, and TIME_WAIT expiring after 2*MSL.\n";
}

std::span<const std::uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

int demo(const std::vector<std::string>& args) {
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") {
      usage(std::cout);
      return 0;
    }
    std::cerr << "synack demo: unknown option '" << a << "'\n";
    usage(std::cerr);
    return 2;
  }

  sim::World world(1, sim::ChannelParams{.delay = milliseconds(5)});
  sim::Host& client = world.add_host(kClient);
  sim::Host& server = world.add_host(kServer);
  trace::EventLog log(std::cout);
  client.stack.set_trace(&log);
  server.stack.set_trace(&log);

  SocketId listener = -1, conn = -1, accepted = -1;
  server.stack.tcp_socket(listener);
  server.stack.bind(listener, {Ipv4Address(), 80});
  server.stack.listen(listener, 128);
  client.stack.tcp_socket(conn);
  client.stack.connect(conn, {kServer, 80});

  auto run = [&](const std::function<bool()>& done, Duration limit, const char* what) {
    if (!world.run_until(done, limit).done) {
      std::cerr << "synack demo: " << what << " did not happen in time\n";
      return false;
    }
    return true;
  };
  if (!run([&] { return !server.stack.accept(listener, accepted); }, seconds(5), "accept")) {
    return 1;
  }

  const std::string request = "GET / HTTP/1.1\r\nHost: synack\r\n\r\n";
  std::size_t n = 0;
  client.stack.write(conn, bytes(request), n);
  std::vector<std::uint8_t> buf(4096);
  std::size_t got = 0;
  if (!run([&] { return !server.stack.read(accepted, buf, got) && got > 0; }, seconds(5),
           "the request")) {
    return 1;
  }
  const std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nhello\n";
  server.stack.write(accepted, bytes(response), n);
  if (!run([&] { return !client.stack.read(conn, buf, got) && got > 0; }, seconds(5),
           "the response")) {
    return 1;
  }
  client.stack.close(conn);
  if (!run([&] { return !server.stack.read(accepted, buf, got) && got == 0; }, seconds(5),
           "EOF at the server")) {
    return 1;
  }
  server.stack.close(accepted);
  if (!run([&] { return client.stack.connection_count() + server.stack.connection_count() == 0; },
           seconds(120), "the end of TIME_WAIT")) {
    return 1;
  }
  std::cout << "\nclient counters:\n" << to_text(client.stack.counters());
  return 0;
}

}  // namespace synack::tools
