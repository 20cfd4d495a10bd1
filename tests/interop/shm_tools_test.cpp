// `synack serve --shm NAME` and its clients `synack get --shm NAME` and `synack connect
// --shm NAME`: two synack processes over a shared-memory region, the README's two-process
// example. No root, no device: these run wherever the tool does.
#include <unistd.h>

#include <random>

#include "interop.hpp"

namespace synack::interop {
namespace {

// A region name no other run uses.
std::string region(const std::string& what) {
  return "test-" + what + "-" + std::to_string(::getpid());
}

std::unique_ptr<Process> serve(const TempDir& dir, const std::string& name,
                               const std::vector<std::string>& mode) {
  std::vector<std::string> argv = {synack_tool(), "serve", "--shm", name, "--port", "8080"};
  argv.insert(argv.end(), mode.begin(), mode.end());
  auto p =
      std::make_unique<Process>(argv, "", Process::Files{"", "", (dir / "serve.log").string()});
  EXPECT_TRUE(wait_for_text(dir / "serve.log", "listening", 10000ms))
      << read_file(dir / "serve.log");
  return p;
}

TEST(ShmTools, GetDownloadsFromServeOverSharedMemory) {
  TempDir dir;
  const std::string name = region("get");
  auto server = serve(dir, name, {"--http-bytes", "8M"});
  EXPECT_NE(read_file(dir / "serve.log").find("(shm region " + name + ")"), std::string::npos);
  const RunResult r = run({synack_tool(), "get", "--shm", name, "http://198.18.0.2:8080/", "-o",
                           (dir / "body").string()},
                          "", 30000ms);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(check_body_pattern(dir / "body", 8 << 20), "");
  // A second client attaches after the first has gone, to the same server.
  const RunResult again = run({synack_tool(), "get", "--shm", name,
                               "http://198.18.0.2:8080/bytes/1000", "-o", (dir / "small").string()},
                              "", 30000ms);
  EXPECT_EQ(again.status, 0) << again.err;
  EXPECT_EQ(check_body_pattern(dir / "small", 1000), "");
  EXPECT_EQ(server->terminate(5000ms), 0) << read_file(dir / "serve.log");
  EXPECT_FALSE(std::filesystem::exists("/dev/shm/synack-" + name));
}

TEST(ShmTools, ConnectEchoesThroughServeAndHalfCloses) {
  TempDir dir;
  const std::string name = region("echo");
  auto server = serve(dir, name, {"--echo"});
  std::mt19937 rng(7);
  std::string body(300000, '\0');
  for (auto& c : body) c = static_cast<char>(rng());
  write_file(dir / "in", body);
  const RunResult r = run({synack_tool(), "connect", "--shm", name, "198.18.0.2", "8080"}, "",
                          30000ms, (dir / "in").string());
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.out == body) << "echoed " << r.out.size() << " of " << body.size() << " bytes";
  EXPECT_EQ(server->terminate(5000ms), 0);
}

TEST(ShmTools, AttachingToNoRegionIsAClearError) {
  const RunResult r = run(
      {synack_tool(), "get", "--shm", region("nobody"), "http://198.18.0.2:8080/"}, "", 10000ms);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("is the creating side running?"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace synack::interop
