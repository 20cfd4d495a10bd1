// The kernel as the client through Python's socket module, synack as the server in this
// process: connect, refused, reset and end-of-stream look to a kernel application exactly as
// they would against a Linux server.
#include <thread>

#include "interop.hpp"

namespace synack::interop {
namespace {

constexpr const char* kClient = R"(
import socket, sys, threading
HOST = sys.argv[1]
def say(*a): print(*a, flush=True)

s = socket.create_connection((HOST, 9001), timeout=5)
say('peer', s.getpeername() == (HOST, 9001))
data = b''
while True:
    b = s.recv(65536)
    if not b: break
    data += b
say('eof', data.decode())
s.close()

try:
    socket.create_connection((HOST, 9009), timeout=5)
    say('refused', 'connected')
except Exception as e:
    say('refused', type(e).__name__)

s = socket.create_connection((HOST, 9002), timeout=5)
s.sendall(b'x')
try:
    say('abort', 'recv', s.recv(10))
except Exception as e:
    say('abort', type(e).__name__)

s = socket.create_connection((HOST, 9004), timeout=5)
s.sendall(b'unread')
try:
    say('unread', 'recv', s.recv(10))
except Exception as e:
    say('unread', type(e).__name__)

s = socket.create_connection((HOST, 9003), timeout=5)
payload = bytes(range(256)) * 4000
# Send from a thread while reading here: an echo fills both directions' buffers.
def send():
    s.sendall(payload)
    s.shutdown(socket.SHUT_WR)
sender = threading.Thread(target=send)
sender.start()
got = b''
while True:
    b = s.recv(65536)
    if not b: break
    got += b
sender.join()
say('echo', got == payload, len(got))
s.close()
)";

// A synack listener on `port` that hands one accepted connection to `serve`.
std::thread serve_once(runtime::Runtime& rt, std::uint16_t port,
                       std::function<void(SocketId)> serve) {
  SocketId l;
  rt.tcp_socket(l);
  EXPECT_FALSE(rt.bind(l, {Ipv4Address(), port}));
  EXPECT_FALSE(rt.listen(l, 4));
  rt.set_receive_timeout(l, seconds(20));
  return std::thread([&rt, l, serve = std::move(serve)] {
    SocketId c;
    Endpoint peer;
    const auto ec = rt.accept(l, c, &peer);
    rt.close(l);
    if (ec) return;
    EXPECT_EQ(peer.address, kHostIp);
    rt.set_receive_timeout(c, seconds(20));
    serve(c);
  });
}

TEST(PythonClient, SeesConnectRefusedResetAndEndOfStreamAsWithLinux) {
  SYNACK_REQUIRE_NETNS();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  InProcessStack synack(ns);
  ASSERT_TRUE(synack.ok()) << synack.error();
  runtime::Runtime& rt = synack.rt();
  std::vector<std::thread> servers;
  // 9001: a greeting, then close: the client reads it and then end of stream.
  servers.push_back(serve_once(rt, 9001, [&](SocketId c) {
    const std::string hello = "hello from synack";
    std::size_t n;
    EXPECT_FALSE(rt.write(
        c, std::span(reinterpret_cast<const std::uint8_t*>(hello.data()), hello.size()), n));
    rt.close(c);
  }));
  // 9002: SO_LINGER 0, then close: RST, ECONNRESET for the client.
  servers.push_back(serve_once(rt, 9002, [&](SocketId c) {
    std::uint8_t b;
    std::size_t n;
    EXPECT_FALSE(rt.read(c, std::span(&b, 1), n));
    rt.setsockopt(c, Option::linger, 0);
    rt.close(c);
  }));
  // 9004: close with data unread: RST as well (RFC 2525 §2.17, as Linux).
  servers.push_back(serve_once(rt, 9004, [&](SocketId c) {
    runtime::PollEntry e{c};
    std::size_t ready = 0;
    EXPECT_FALSE(rt.wait(std::span(&e, 1), seconds(10), ready));
    EXPECT_EQ(ready, 1u);
    rt.close(c);
  }));
  // 9003: echo until the client's FIN, then our FIN.
  std::uint64_t echoed = 0;
  servers.push_back(serve_once(rt, 9003, [&](SocketId c) {
    std::vector<std::uint8_t> buffer(65536);
    for (;;) {
      std::size_t n = 0;
      if (rt.read(c, buffer, n) || n == 0) break;
      std::size_t written = 0;
      if (rt.write(c, std::span(buffer.data(), n), written) || written != n) break;
      echoed += n;
    }
    rt.close(c);
  }));

  TempDir dir;
  write_file(dir / "client.py", kClient);
  const RunResult r =
      run({"python3", (dir / "client.py").string(), kStackIp.to_string()}, ns.name(), 60000ms);
  for (auto& t : servers) t.join();
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "peer True\n"
            "eof hello from synack\n"
            "refused ConnectionRefusedError\n"
            "abort ConnectionResetError\n"
            "unread ConnectionResetError\n"
            "echo True 1024000\n")
      << r.err;
  EXPECT_EQ(echoed, 1024000u);
}

}  // namespace
}  // namespace synack::interop

namespace synack::interop {
namespace {

constexpr const char* kUdpClient = R"(
import socket, sys
HOST = sys.argv[1]
def say(*a): print(*a, flush=True)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.connect((HOST, 5353))
s.send(b'ping')
say('reply', s.recv(100).decode())
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.connect((HOST, 5354))
s.send(b'anyone?')
try:
    s.recv(100)
    say('closed', 'answered')
except Exception as e:
    say('closed', type(e).__name__)
)";

TEST(PythonClient, UdpRepliesAndPortUnreachable) {
  SYNACK_REQUIRE_NETNS();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  InProcessStack synack(ns);
  ASSERT_TRUE(synack.ok()) << synack.error();
  runtime::Runtime& rt = synack.rt();
  SocketId u;
  ASSERT_FALSE(rt.udp_socket(u));
  ASSERT_FALSE(rt.bind(u, {Ipv4Address(), 5353}));
  rt.set_receive_timeout(u, seconds(20));
  std::thread echo([&] {
    std::uint8_t buffer[100];
    std::size_t n = 0;
    Endpoint from;
    if (rt.receive_from(u, buffer, n, &from)) return;
    const std::string reply = "pong to " + std::string(buffer, buffer + n);
    rt.send_to(u, std::span(reinterpret_cast<const std::uint8_t*>(reply.data()), reply.size()),
               from);
  });
  TempDir dir;
  write_file(dir / "udp.py", kUdpClient);
  const RunResult r =
      run({"python3", (dir / "udp.py").string(), kStackIp.to_string()}, ns.name(), 30000ms);
  echo.join();
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "reply pong to ping\nclosed ConnectionRefusedError\n") << r.err;
  const Counters c = rt.counters();
  EXPECT_EQ(c.icmp.out_dest_unreachs, 1u)
      << "udp in " << c.udp.in_datagrams << " out " << c.udp.out_datagrams << " errors "
      << c.udp.in_errors << " no port " << c.udp.no_ports << "; ip in " << c.ip.in_receives
      << " hdr errors " << c.ip.in_hdr_errors << " bad checksum " << c.ip.in_bad_checksum
      << " addr errors " << c.ip.in_addr_errors << " fragments " << c.ip.reasm_reqds;
}

}  // namespace
}  // namespace synack::interop
