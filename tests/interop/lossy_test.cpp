// Bulk transfers between synack and the kernel through loss, reordering, delay,
// duplication and corruption, every byte checked. Loss is injected on the kernel's side
// (tc netem, or nftables where the kernel lacks netem); reordering, delay, duplication and
// corruption on synack's side (FaultLink: `synack serve --reorder ...`), so each direction
// of each transfer meets them.
#include <random>

#include "interop.hpp"

namespace synack::interop {
namespace {

std::chrono::milliseconds elapsed_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start);
}

void curl_through_loss(double percent, std::uint64_t size) {
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  const std::string how = add_kernel_loss(ns, percent);
  ASSERT_EQ(how.find("error"), std::string::npos) << how;
  TempDir dir;
  SynackServer server(ns, dir, {"--verbose"});
  ASSERT_TRUE(server.ready()) << server.log();
  const auto start = std::chrono::steady_clock::now();
  const Download d = curl(ns, "/bytes/" + std::to_string(size), dir / "body", 90000ms);
  const auto took = elapsed_since(start);
  ASSERT_EQ(d.status, 0) << d.err;
  EXPECT_EQ(check_body_pattern(dir / "body", size), "");
  EXPECT_EQ(server.stop(), 0);
  const std::string log = server.log();
  std::cout << how << ": " << size << " bytes in " << took.count() << " ms\n"
            << log.substr(log.find(ns.name().empty() ? "" : "synack0:")) << "\n";
}

TEST(Lossy, CurlDownloads20MBThroughOnePercentLossBothWays) {
  SYNACK_REQUIRE_NETNS();
  curl_through_loss(1, 20 << 20);
}

TEST(Lossy, CurlDownloads2MBThroughFivePercentLossBothWays) {
  SYNACK_REQUIRE_NETNS();
  curl_through_loss(5, 2 << 20);
}

std::string random_bytes(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// The kernel sends (python http.server), synack receives (`synack get`), with `extra`
// options for synack's side.
void get_from_python(const TestNetns& ns, std::size_t size, const std::vector<std::string>& extra) {
  TempDir www, dir;
  const std::string body = random_bytes(size, 17);
  write_file(www / "file.bin", body);
  Process server({"python3", "-m", "http.server", "8000", "--bind", kHostIp.to_string(),
                  "--directory", www.path().string()},
                 ns.name(), {"", "", (dir / "py.err").string()});
  ASSERT_TRUE(eventually(
      [&] {
        for (const auto& s : kernel_states(ns.name(), 8000)) {
          if (s == "LISTEN") return true;
        }
        return false;
      },
      10000ms));
  std::vector<std::string> argv = {synack_tool(),         "get", "--netns", ns.name(), "-v", "-o",
                                   (dir / "got").string()};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back("http://" + kHostIp.to_string() + ":8000/file.bin");
  const auto start = std::chrono::steady_clock::now();
  const RunResult r = run(argv, "", 90000ms);
  const auto took = elapsed_since(start);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(read_file(dir / "got") == body)
      << "got " << read_file(dir / "got").size() << " of " << size << " bytes";
  std::cout << size << " bytes in " << took.count() << " ms; "
            << r.err.substr(r.err.rfind("synack get:")) << "\n";
}

TEST(Lossy, SynackGets4MBFromTheKernelThroughFivePercentLossBothWays) {
  SYNACK_REQUIRE_NETNS();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  const std::string how = add_kernel_loss(ns, 5);
  ASSERT_EQ(how.find("error"), std::string::npos) << how;
  std::cout << how << "\n";
  get_from_python(ns, 4 << 20, {});
}

// Reordering, delay with jitter and duplication, both ways, on synack's side.
const std::vector<std::string> kReorder = {"--reorder", "0.03", "--delay",     "1",
                                           "--jitter",  "1",    "--duplicate", "0.01"};

TEST(Lossy, CurlDownloads10MBThroughReorderingDelayAndDuplication) {
  SYNACK_REQUIRE_NETNS();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  TempDir dir;
  std::vector<std::string> extra = kReorder;
  extra.push_back("--verbose");
  SynackServer server(ns, dir, extra);
  ASSERT_TRUE(server.ready()) << server.log();
  const auto start = std::chrono::steady_clock::now();
  const Download d = curl(ns, "/bytes/10M", dir / "body", 90000ms);
  const auto took = elapsed_since(start);
  ASSERT_EQ(d.status, 0) << d.err;
  EXPECT_EQ(check_body_pattern(dir / "body", 10 << 20), "");
  EXPECT_EQ(server.stop(), 0);
  const std::string log = server.log();
  std::cout << "10 MB in " << took.count() << " ms; " << log.substr(log.find("synack0:")) << "\n";
  EXPECT_NE(log.find("reordered"), std::string::npos);
}

TEST(Lossy, SynackGets4MBFromTheKernelThroughReorderingDelayAndDuplication) {
  SYNACK_REQUIRE_NETNS();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  get_from_python(ns, 4 << 20, kReorder);
}

TEST(Lossy, CorruptedFramesAreDroppedByChecksumsAndRepaired) {
  SYNACK_REQUIRE_NETNS();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  TempDir dir;
  SynackServer server(ns, dir, {"--corrupt", "0.01", "--verbose"});
  ASSERT_TRUE(server.ready()) << server.log();
  const Download d = curl(ns, "/bytes/5M", dir / "body", 90000ms);
  ASSERT_EQ(d.status, 0) << d.err;
  EXPECT_EQ(check_body_pattern(dir / "body", 5 << 20), "");
  EXPECT_EQ(server.stop(), 0);
  const std::string log = server.log();
  std::cout << log.substr(log.find("synack0:")) << "\n";
  EXPECT_EQ(log.find(" 0 corrupted"), std::string::npos) << log;
}

}  // namespace
}  // namespace synack::interop
