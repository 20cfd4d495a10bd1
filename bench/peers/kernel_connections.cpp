#include "bench/peers/kernel_connections.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench/peers/kernel_affinity.hpp"
#include "bench/peers/kernel_tcp.hpp"

namespace synack::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::uint64_t kMaxCount = 2'000'000;
constexpr std::uint64_t kPerListener = 8'000;
constexpr std::size_t kMessage = 64;
constexpr auto kLimit = std::chrono::seconds(60);

// The 64 bytes of connection `i`: its number, then bytes that depend on it.
std::array<std::uint8_t, kMessage> message(std::uint64_t i) {
  std::array<std::uint8_t, kMessage> m{};
  std::memcpy(m.data(), &i, sizeof i);
  for (std::size_t k = sizeof i; k < kMessage; ++k) m[k] = static_cast<std::uint8_t>(i * 31 + k);
  return m;
}

}  // namespace

Run kernel_connections(std::uint64_t count) {
  if (count == 0 || count > kMaxCount) {
    return Run::fail("connection count must be 1 to " + std::to_string(kMaxCount));
  }
  const auto cores = cores_for(true);
  if (!cores) return Run::skip("no CPU in this process's affinity mask");
  const TcpOptions options{};  // the system's congestion control: 64 B never leaves slow start
  const auto deadline = Clock::now() + kLimit;

  const std::uint64_t listeners_needed = (count + kPerListener - 1) / kPerListener;
  std::vector<Fd> listeners;
  std::vector<std::uint16_t> ports;
  for (std::uint64_t l = 0; l < listeners_needed; ++l) {
    auto listener = tcp_listen("127.0.0.1", 0, options);
    if (!listener) return Run::fail(listener.error());
    ports.push_back(local_port(listener->get()));
    listeners.push_back(std::move(*listener));
  }

  Clock::time_point start{}, client_end{}, server_end{};
  std::optional<std::string> client_error, server_error;

  std::thread server([&] {
    if ((server_error = pin_this_thread(cores->first))) return;
    std::array<std::uint8_t, kMessage> buffer{};
    for (std::uint64_t i = 0; i < count; ++i) {
      if (Clock::now() > deadline) {
        server_error = "timed out after " + std::to_string(i) + " connections";
        return;
      }
      auto conn = tcp_accept(listeners[i % listeners.size()].get(), options);
      if (!conn) {
        server_error = conn.error();
        return;
      }
      if ((server_error = recv_exact(conn->get(), buffer.data(), kMessage))) return;
      if (buffer != message(i)) {
        server_error = "connection " + std::to_string(i) + " brought the wrong 64 bytes";
        return;
      }
      if ((server_error = send_all(conn->get(), buffer.data(), kMessage))) return;
      std::uint8_t extra;
      if (::recv(conn->get(), &extra, 1, 0) != 0) {
        server_error = "connection " + std::to_string(i) + ": expected the client's FIN";
        return;
      }
    }
    server_end = Clock::now();
  });

  std::thread client([&] {
    if ((client_error = pin_this_thread(cores->second))) return;
    std::array<std::uint8_t, kMessage> echo{};
    start = Clock::now();
    for (std::uint64_t i = 0; i < count; ++i) {
      if (Clock::now() > deadline) {
        client_error = "timed out after " + std::to_string(i) + " connections";
        return;
      }
      auto conn = tcp_connect("127.0.0.1", ports[i % ports.size()], options);
      if (!conn) {
        client_error = "connection " + std::to_string(i) + ": " + conn.error();
        return;
      }
      const auto sent = message(i);
      if ((client_error = send_all(conn->get(), sent.data(), kMessage))) return;
      if ((client_error = recv_exact(conn->get(), echo.data(), kMessage))) return;
      if (echo != sent) {
        client_error = "connection " + std::to_string(i) + ": the echo differs";
        return;
      }
    }  // each connection closes here, at the end of its iteration
    client_end = Clock::now();
  });

  client.join();
  server.join();
  if (client_error) return Run::fail("client: " + *client_error);
  if (server_error) return Run::fail("server: " + *server_error);
  const double seconds =
      std::chrono::duration<double>(std::max(client_end, server_end) - start).count();
  if (seconds <= 0) return Run::fail("no time elapsed");
  return Run::of(static_cast<double>(count) / seconds);
}

}  // namespace synack::bench
