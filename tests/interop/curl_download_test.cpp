// The kernel as the client: ping, then curl downloading from `synack serve --http-bytes`,
// every byte checked against the pattern.
#include <unistd.h>

#include <cstring>

#include "interop.hpp"

namespace synack::interop {
namespace {

TEST(Ping, KernelGetsEchoReplies) {
  SYNACK_REQUIRE_NETNS();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  InProcessStack synack(ns);
  ASSERT_TRUE(synack.ok()) << synack.error();
  const RunResult r =
      run({"ping", "-c", "3", "-i", "0.2", "-W", "2", kStackIp.to_string()}, ns.name(), 15000ms);
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("3 received"), std::string::npos) << r.out;
  EXPECT_EQ(synack.rt().counters().icmp.out_echo_reps, 3u);
}

void download_and_check(std::uint64_t size, const std::string& path) {
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  TempDir dir;
  SynackServer server(ns, dir);
  ASSERT_TRUE(server.ready()) << server.log();
  const auto file = dir / "body";
  const auto start = std::chrono::steady_clock::now();
  const Download d = curl(ns, path, file);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(d.status, 0) << d.err << server.log();
  EXPECT_EQ(d.http_code, "200");
  EXPECT_EQ(check_body_pattern(file, size), "");
  EXPECT_EQ(server.stop(), 0) << server.log();
  std::cout << size << " bytes in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n";
}

TEST(Curl, DownloadsOneByte) {
  SYNACK_REQUIRE_NETNS();
  download_and_check(1, "/bytes/1");
}

TEST(Curl, DownloadsAnEmptyBody) {
  SYNACK_REQUIRE_NETNS();
  download_and_check(0, "/bytes/0");
}

TEST(Curl, Downloads20MB) {
  SYNACK_REQUIRE_NETNS();
  download_and_check(20 << 20, "/bytes/20M");
}

TEST(Curl, Downloads100MB) {
  SYNACK_REQUIRE_NETNS();
  download_and_check(100 << 20, "/bytes/100M");
}

TEST(Curl, KeepsTheConnectionForSeveralRequests) {
  SYNACK_REQUIRE_NETNS();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  TempDir dir;
  SynackServer server(ns, dir, {"--verbose"});
  ASSERT_TRUE(server.ready()) << server.log();
  const std::string base = "http://" + kStackIp.to_string() + ":8080/bytes/";
  const RunResult r = run({"curl", "-sS", "--max-time", "20", "-o", (dir / "a").string(),
                           base + "1000", "-o", (dir / "b").string(), base + "70000"},
                          ns.name(), 25000ms);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(check_body_pattern(dir / "a", 1000), "");
  EXPECT_EQ(check_body_pattern(dir / "b", 70000), "");
  EXPECT_EQ(server.stop(), 0);
  // One connection carried both requests.
  const std::string log = server.log();
  std::size_t connections = 0;
  for (std::size_t at = 0; (at = log.find("connection from", at)) != std::string::npos; ++at) {
    ++connections;
  }
  EXPECT_EQ(connections, 1u) << log;
}

TEST(Serve, StopsOnSigtermAndClosesItsConnections) {
  SYNACK_REQUIRE_NETNS();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  TempDir dir;
  SynackServer server(ns, dir, {"--verbose"});
  ASSERT_TRUE(server.ready()) << server.log();
  // An idle keep-alive connection from the kernel, then SIGTERM.
  const int fd = kernel_connect(ns, kStackIp, 8080);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  // Accepted first: a connection still in the accept queue is reset when the listener
  // closes, by synack as by Linux.
  ASSERT_TRUE(wait_for_text(dir / "serve.log", "connection from", 5000ms)) << server.log();
  EXPECT_EQ(server.stop(), 0) << server.log();
  EXPECT_NE(server.log().find("stopped"), std::string::npos);
  // The kernel saw a FIN: read() returns 0, not a reset.
  char c;
  EXPECT_EQ(::read(fd, &c, 1), 0) << std::strerror(errno);
  ::close(fd);
}

}  // namespace
}  // namespace synack::interop
