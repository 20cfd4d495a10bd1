// `synack serve`'s other modes against kernel clients: --echo and --discard with nc,
// --http DIR with curl; and --pcap read back by tshark.
#include <random>

#include "interop.hpp"

namespace synack::interop {
namespace {

std::string random_bytes(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// `synack serve` on port 8080 with exactly one mode (--echo, --discard, --http...).
std::unique_ptr<Process> serve(const TestNetns& ns, const TempDir& dir,
                               const std::vector<std::string>& mode) {
  std::vector<std::string> argv = {synack_tool(), "serve", "--netns",  ns.name(),
                                   "--port",      "8080",  "--verbose"};
  argv.insert(argv.end(), mode.begin(), mode.end());
  for (auto& f : tun_io_flags()) argv.push_back(f);
  auto p =
      std::make_unique<Process>(argv, "", Process::Files{"", "", (dir / "serve.log").string()});
  EXPECT_TRUE(wait_for_text(dir / "serve.log", "listening", 10000ms))
      << read_file(dir / "serve.log");
  return p;
}

TEST(Serve, EchoesWhatNcSendsAndClosesAfterItsFin) {
  SYNACK_REQUIRE_NETNS();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  TempDir dir;
  auto server = serve(ns, dir, {"--echo"});
  const std::string body = random_bytes(500000, 3);
  write_file(dir / "in", body);
  // nc -N: shutdown(SHUT_WR) at the end of its input; it exits at our FIN.
  const RunResult r =
      run({"nc", "-N", kStackIp.to_string(), "8080"}, ns.name(), 30000ms, (dir / "in").string());
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.out == body) << "echoed " << r.out.size() << " of " << body.size() << " bytes";
  EXPECT_EQ(server->terminate(5000ms), 0) << read_file(dir / "serve.log");
}

TEST(Serve, DiscardsWhatNcSends) {
  SYNACK_REQUIRE_NETNS();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  TempDir dir;
  auto server = serve(ns, dir, {"--discard"});
  write_file(dir / "in", random_bytes(2 << 20, 5));
  const RunResult r =
      run({"nc", "-N", kStackIp.to_string(), "8080"}, ns.name(), 30000ms, (dir / "in").string());
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(server->terminate(5000ms), 0);
  EXPECT_NE(read_file(dir / "serve.log").find("closed 198.18.0.1:"), std::string::npos);
}

TEST(Serve, ServesTheFilesOfADirectoryToCurl) {
  SYNACK_REQUIRE_NETNS();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  TempDir www, dir;
  const std::string body = random_bytes(3 << 20, 9);
  write_file(www / "big file.bin", body);
  write_file(dir / "secret", "not for the web");
  auto server = serve(ns, dir, {"--http", www.path().string()});
  const std::string base = "http://" + kStackIp.to_string() + ":8080/";
  RunResult r = run(
      {"curl", "-sS", "--max-time", "30", "-o", (dir / "got").string(), base + "big%20file.bin"},
      ns.name(), 35000ms);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(read_file(dir / "got") == body);
  r = run(
      {"curl", "-s", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}", base + "missing"},
      ns.name(), 15000ms);
  EXPECT_EQ(r.out, "404");
  r = run({"curl", "-s", "--max-time", "10", "--path-as-is", "-o", "/dev/null", "-w",
           "%{http_code}", base + "../secret"},
          ns.name(), 15000ms);
  EXPECT_EQ(r.out, "403");
  r = run({"curl", "-s", "--max-time", "10", base}, ns.name(), 15000ms);
  EXPECT_NE(r.out.find("big file.bin"), std::string::npos) << r.out;  // a listing
  EXPECT_EQ(server->terminate(5000ms), 0);
}

TEST(Serve, WritesAPcapThatTsharkReads) {
  SYNACK_REQUIRE_NETNS();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  TempDir dir;
  auto server = serve(ns, dir, {"--http-bytes", "10K", "--pcap", (dir / "s.pcap").string()});
  const Download d = curl(ns, "/", dir / "body");
  EXPECT_EQ(d.status, 0) << d.err;
  EXPECT_EQ(server->terminate(5000ms), 0);
  const RunResult r = run({"tshark", "-r", (dir / "s.pcap").string(), "-T", "fields", "-e",
                           "tcp.flags.str", "-e", "http.response.code"},
                          "", 30000ms);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("··········S·"), std::string::npos) << r.out;  // the kernel's SYN
  EXPECT_NE(r.out.find("200"), std::string::npos) << r.out;           // our response
  EXPECT_NE(r.out.find("·······A···F"), std::string::npos) << r.out;  // a FIN
}

}  // namespace
}  // namespace synack::interop
