#include "support/flow.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace synack::testing {

Pair open_pair(sim::World& world, sim::Host& client, sim::Host& server, std::uint16_t port,
               Duration limit) {
  Pair p;
  EXPECT_FALSE(server.stack.tcp_socket(p.listener));
  EXPECT_FALSE(server.stack.bind(p.listener, {Ipv4Address(), port}));
  EXPECT_FALSE(server.stack.listen(p.listener, 128));
  EXPECT_FALSE(client.stack.tcp_socket(p.client));
  EXPECT_EQ(client.stack.connect(p.client, {server.stack.address(), port}),
            std::errc::operation_in_progress);
  const auto r = world.run_until([&] { return !server.stack.accept(p.listener, p.server); }, limit);
  EXPECT_TRUE(r.done) << "accept() did not return within the limit";
  world.run_until([&] { return client.stack.readiness(p.client).writable; }, limit);
  return p;
}

void write_all(sim::World& world, sim::Host& host, SocketId s, const std::string& data,
               Duration limit) {
  std::size_t off = 0;
  const Instant end = world.now() + limit;
  while (off < data.size() && world.now() < end) {
    std::size_t n = 0;
    const auto ec = host.stack.write(
        s, std::span(reinterpret_cast<const std::uint8_t*>(data.data()) + off, data.size() - off),
        n);
    off += n;
    if (ec && ec != std::errc::resource_unavailable_try_again) {
      ADD_FAILURE() << "write: " << ec.message();
      return;
    }
    if (off < data.size()) {
      world.run_until([&] { return host.stack.readiness(s).writable; }, end - world.now());
    }
  }
  EXPECT_EQ(off, data.size()) << "write_all ran out of time";
}

namespace {
// Reads what is there; false at EOF or error.
bool read_some(sim::Host& host, SocketId s, std::string& out) {
  std::vector<std::uint8_t> buf(65536);
  for (;;) {
    std::size_t n = 0;
    const auto ec = host.stack.read(s, buf, n);
    if (ec == std::errc::resource_unavailable_try_again) return true;
    if (ec) {
      ADD_FAILURE() << "read: " << ec.message();
      return false;
    }
    if (n == 0) return false;  // EOF
    out.append(reinterpret_cast<const char*>(buf.data()), n);
  }
}
}  // namespace

std::string read_n(sim::World& world, sim::Host& host, SocketId s, std::size_t n, Duration limit) {
  std::string out;
  bool open = true;
  world.run_until(
      [&] {
        if (open && host.stack.readiness(s).readable) open = read_some(host, s, out);
        return out.size() >= n || !open;
      },
      limit);
  EXPECT_EQ(out.size(), n);
  return out;
}

std::string read_to_eof(sim::World& world, sim::Host& host, SocketId s, Duration limit) {
  std::string out;
  bool open = true;
  const auto r = world.run_until(
      [&] {
        if (host.stack.readiness(s).readable) open = read_some(host, s, out);
        return !open;
      },
      limit);
  EXPECT_TRUE(r.done) << "no EOF within the limit";
  return out;
}

std::string transfer(sim::World& world, sim::Host& writer, SocketId ws, sim::Host& reader,
                     SocketId rs, const std::string& data, Duration limit) {
  std::string out;
  std::size_t off = 0;
  bool open = true;
  const auto r = world.run_until(
      [&] {
        while (off < data.size()) {
          std::size_t n = 0;
          const auto ec =
              writer.stack.write(ws,
                                 std::span(reinterpret_cast<const std::uint8_t*>(data.data()) + off,
                                           data.size() - off),
                                 n);
          off += n;
          if (ec == std::errc::resource_unavailable_try_again || n == 0) break;
          if (ec) {
            ADD_FAILURE() << "write: " << ec.message();
            return true;
          }
        }
        if (open && reader.stack.readiness(rs).readable) open = read_some(reader, rs, out);
        return out.size() >= data.size() || !open;
      },
      limit);
  EXPECT_TRUE(r.done) << "transfer: " << out.size() << " of " << data.size()
                      << " bytes arrived within the limit";
  return out;
}

::testing::AssertionResult same_bytes(const std::string& got, const std::string& want) {
  if (got == want) return ::testing::AssertionSuccess();
  const std::size_t common = std::min(got.size(), want.size());
  std::size_t at = 0;
  while (at < common && got[at] == want[at]) ++at;
  return ::testing::AssertionFailure() << "got " << got.size() << " bytes, want " << want.size()
                                       << "; first difference at offset " << at;
}

std::string pattern(std::size_t size, std::uint32_t seed) {
  std::string s(size, '\0');
  std::uint32_t x = seed * 2654435761u + 1;
  for (std::size_t i = 0; i < size; ++i) {
    x = x * 1664525u + 1013904223u;  // a plain LCG: any shifted or repeated span shows
    s[i] = static_cast<char>(x >> 24);
  }
  return s;
}

bool run_until_no_connections(sim::World& world, std::initializer_list<sim::Host*> hosts,
                              Duration limit) {
  return world
      .run_until(
          [&] {
            for (auto* h : hosts) {
              if (h->stack.connection_count() != 0) return false;
            }
            return true;
          },
          limit)
      .done;
}

}  // namespace synack::testing
