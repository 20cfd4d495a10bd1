// synack as the client, the kernel as the server: `synack get` from Python's http.server,
// `synack connect` to nc and to a Python echo server (half-close), and refusals.
#include <fstream>
#include <random>

#include "interop.hpp"
#include "tcp/config.hpp"

namespace synack::interop {
namespace {

std::string random_bytes(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// Starts `argv` in the namespace and waits until the kernel listens on `port`.
std::unique_ptr<Process> start_listener(const TestNetns& ns, const std::vector<std::string>& argv,
                                        std::uint16_t port, const Process::Files& files = {}) {
  auto p = std::make_unique<Process>(argv, ns.name(), files);
  const bool listening = eventually(
      [&] {
        for (const auto& s : kernel_states(ns.name(), port)) {
          if (s == "LISTEN") return true;
        }
        return false;
      },
      10000ms);
  EXPECT_TRUE(listening) << argv.at(0) << " never listened on " << port;
  return p;
}

TEST(SynackClient, GetsAFileFromPythonHttpServer) {
  SYNACK_REQUIRE_NETNS();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  TempDir www, dir;
  const std::string body = random_bytes(3 << 20, 7);
  write_file(www / "file.bin", body);
  auto server = start_listener(ns,
                               {"python3", "-m", "http.server", "8000", "--bind",
                                kHostIp.to_string(), "--directory", www.path().string()},
                               8000);
  const RunResult r = run({synack_tool(), "get", "--netns", ns.name(), "-o", (dir / "got").string(),
                           "http://" + kHostIp.to_string() + ":8000/file.bin"},
                          "", 60000ms);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(read_file(dir / "got") == body) << "body differs";
  // A missing file is a 404 and a failure.
  const RunResult missing =
      run({synack_tool(), "get", "--netns", ns.name(), "-o", (dir / "none").string(),
           "http://" + kHostIp.to_string() + ":8000/missing"},
          "", 30000ms);
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.err.find("404"), std::string::npos) << missing.err;
}

TEST(SynackClient, SendsAFileToNcAndHalfClosesAtEndOfInput) {
  SYNACK_REQUIRE_NETNS();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  TempDir dir;
  const std::string body = random_bytes(1 << 20, 11);
  write_file(dir / "in", body);
  // nc -d: ignore its standard input; it exits after our FIN (its read of EOF).
  auto nc = start_listener(ns, {"nc", "-d", "-l", kHostIp.to_string(), "9000"}, 9000,
                           {"", (dir / "nc.out").string(), (dir / "nc.err").string()});
  const RunResult r =
      run({synack_tool(), "connect", "--netns", ns.name(), kHostIp.to_string(), "9000"}, "",
          30000ms, (dir / "in").string());
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(nc->wait(10000ms), std::optional<int>(0)) << read_file(dir / "nc.err");
  EXPECT_TRUE(read_file(dir / "nc.out") == body)
      << "nc received " << read_file(dir / "nc.out").size() << " bytes";
}

constexpr const char* kEchoAfterEof = R"(
import socket, sys
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], 9100))
l.listen(1)
l.settimeout(20)
c, _ = l.accept()
c.settimeout(20)
data = b''
while True:
    b = c.recv(65536)
    if not b: break
    data += b
# Our peer half-closed; data still flows the other way.
c.sendall(data[::-1])
c.close()
)";

TEST(SynackClient, ReadsAfterItsOwnFinUntilThePeerCloses) {
  SYNACK_REQUIRE_NETNS();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  TempDir dir;
  const std::string body = random_bytes(300000, 13);
  write_file(dir / "in", body);
  write_file(dir / "echo.py", kEchoAfterEof);
  auto py = start_listener(ns, {"python3", (dir / "echo.py").string(), kHostIp.to_string()}, 9100,
                           {"", "", (dir / "py.err").string()});
  const RunResult r =
      run({synack_tool(), "connect", "--netns", ns.name(), kHostIp.to_string(), "9100"}, "",
          30000ms, (dir / "in").string());
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.out == std::string(body.rbegin(), body.rend()))
      << "got " << r.out.size() << " bytes back";
  EXPECT_EQ(py->wait(10000ms), std::optional<int>(0)) << read_file(dir / "py.err");
}

TEST(SynackClient, IsRefusedByTheKernelWithARst) {
  SYNACK_REQUIRE_NETNS();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  {
    InProcessStack synack(ns);
    ASSERT_TRUE(synack.ok()) << synack.error();
    SocketId s;
    synack.rt().tcp_socket(s);
    EXPECT_EQ(synack.rt().connect(s, {kHostIp, 9}), std::errc::connection_refused);
    EXPECT_EQ(synack.rt().counters().tcp.in_rsts, 1u);
    synack.rt().close(s);
  }
  const RunResult r =
      run({synack_tool(), "connect", "--netns", ns.name(), kHostIp.to_string(), "9"}, "", 20000ms);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("Connection refused"), std::string::npos) << r.err;
}

TEST(SynackClient, ConnectGivesUpAtItsSendTimeout) {
  SYNACK_REQUIRE_NETNS();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  InProcessStack synack(ns);
  ASSERT_TRUE(synack.ok()) << synack.error();
  runtime::Runtime& rt = synack.rt();
  SocketId s;
  rt.tcp_socket(s);
  rt.set_send_timeout(s, milliseconds(300));
  // 198.18.0.3 is on the device's subnet but nobody's: the kernel does not forward, the
  // SYN goes unanswered.
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(rt.connect(s, {Ipv4Address(198, 18, 0, 3), 80}), std::errc::operation_in_progress);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 290ms);
  EXPECT_LT(took, 2000ms);
  rt.close(s);
}

TEST(SynackClient, ConnectTimesOutWhenNoSynAckComes) {
  SYNACK_REQUIRE_NETNS();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  InProcessStack synack(ns);
  ASSERT_TRUE(synack.ok()) << synack.error();
  runtime::Runtime& rt = synack.rt();
  // Two retransmissions with the RTO at its 200 ms floor, doubling: timed_out after 1.4 s.
  rt.with_stack([](Stack& s) {
    s.tcp_defaults().syn_retries = 2;
    s.tcp_defaults().rto_initial = milliseconds(100);
  });
  SocketId s;
  rt.tcp_socket(s);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(rt.connect(s, {Ipv4Address(198, 18, 0, 3), 80}), std::errc::timed_out);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 600ms);
  EXPECT_LT(took, 5000ms);
  rt.close(s);
}

TEST(SynackClient, ReadHonoursItsReceiveTimeout) {
  SYNACK_REQUIRE_NETNS();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  auto nc = start_listener(ns, {"nc", "-d", "-l", kHostIp.to_string(), "9001"}, 9001);
  InProcessStack synack(ns);
  ASSERT_TRUE(synack.ok()) << synack.error();
  runtime::Runtime& rt = synack.rt();
  SocketId s;
  rt.tcp_socket(s);
  ASSERT_FALSE(rt.connect(s, {kHostIp, 9001}));
  rt.set_receive_timeout(s, milliseconds(200));
  std::uint8_t buffer[16];
  std::size_t n = 0;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(rt.read(s, buffer, n), std::errc::resource_unavailable_try_again);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 190ms);
  rt.close(s);
  EXPECT_EQ(nc->wait(10000ms), std::optional<int>(0));
}

}  // namespace
}  // namespace synack::interop
