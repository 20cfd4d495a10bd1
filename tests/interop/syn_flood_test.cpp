// A SYN flood over the real TUN link (issue 8): hping3 floods `synack serve`'s listening port
// from the kernel's side while curl downloads 100 MB from the same port. The download must
// complete byte-exact. The SYNs come from 198.18.0.77, an address on synack0's subnet that
// nobody owns: synack's SYN,ACKs to it are dropped by the kernel (which does not forward),
// so, as in a spoofed flood, no RST ever frees a half-open connection.
//
// The test prints the figures: SYNs hping3 sent, what synack's counters say it did with them
// (half-open connections made, SYNs dropped with the queue full, SYN cookies if the stack has
// them) and the download time with and without the flood.
#include <signal.h>

#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "interop.hpp"

namespace synack::interop {
namespace {

std::uint64_t counter(const std::map<std::string, std::uint64_t>& c, const std::string& name) {
  const auto it = c.find(name);
  return it == c.end() ? 0 : it->second;
}

std::int64_t ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start)
      .count();
}

TEST(SynFlood, DownloadOf100MBCompletesByteExactUnderHping3Flood) {
  SYNACK_REQUIRE_NETNS();
  if (run({"which", "hping3"}).status != 0) GTEST_SKIP() << "hping3 is not installed";
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  TempDir dir;
  SynackServer server(ns, dir, {"--verbose", "--counters", (dir / "counters").string()});
  ASSERT_TRUE(server.ready()) << server.log();

  // Without the flood, for comparison.
  auto start = std::chrono::steady_clock::now();
  const Download quiet = curl(ns, "/bytes/100M", dir / "quiet", 25000ms);
  const std::int64_t quiet_ms = ms_since(start);
  ASSERT_EQ(quiet.status, 0) << quiet.err << server.log();
  EXPECT_EQ(check_body_pattern(dir / "quiet", 100 << 20), "");
  std::filesystem::remove(dir / "quiet");

  // With it: the download's connection is made first, then the flood starts at its port.
  const std::string url = "http://" + kStackIp.to_string() + ":8080/bytes/100M";
  Process download({"curl", "-sS", "--max-time", "30", "-o", (dir / "body").string(), "-w",
                    "%{time_total}", url},
                   ns.name(), {"", (dir / "curl.out").string(), (dir / "curl.err").string()});
  ASSERT_TRUE(download.started());
  // The second "connection from" in the log is the download's.
  ASSERT_TRUE(eventually(
      [&] {
        const std::string log = server.log();
        const auto first = log.find("connection from");
        return first != std::string::npos &&
               log.find("connection from", first + 1) != std::string::npos;
      },
      5000ms))
      << server.log();
  Process flood(
      {"hping3", "-S", "--flood", "-a", "198.18.0.77", "-p", "8080", kStackIp.to_string()},
      ns.name(), {"", (dir / "hping.out").string(), (dir / "hping.err").string()});
  ASSERT_TRUE(flood.started());
  // A new connection while the flood fills the half-open queue: without SYN cookies it may
  // find no room; with them it must get in.
  std::this_thread::sleep_for(500ms);
  const auto probe_start = std::chrono::steady_clock::now();
  const Download during = curl(ns, "/bytes/1K", dir / "small", 8000ms);
  const std::int64_t probe_ms = ms_since(probe_start);
  const std::optional<int> download_status = download.wait(35000ms);
  // hping3 prints its statistics on SIGINT.
  ::kill(flood.pid(), SIGINT);
  const std::optional<int> flood_status = flood.wait(5000ms);
  ASSERT_TRUE(download_status.has_value()) << "curl still running";
  EXPECT_EQ(*download_status, 0) << read_file(dir / "curl.err");
  EXPECT_EQ(check_body_pattern(dir / "body", 100 << 20), "");
  EXPECT_TRUE(flood_status.has_value());
  EXPECT_EQ(server.stop(), 0) << server.log();

  const std::string hping = read_file(dir / "hping.out") + read_file(dir / "hping.err");
  std::uint64_t syns_sent = 0;
  if (const auto at = hping.find(" packets transmitted"); at != std::string::npos) {
    const auto line = hping.rfind('\n', at);
    syns_sent = std::stoull(hping.substr(line == std::string::npos ? 0 : line + 1));
  }
  const auto c = read_counters(dir / "counters");
  ASSERT_FALSE(c.empty()) << server.log();
  const bool cookies = c.contains("tcp.syncookies_sent");
  const std::uint64_t half_open = counter(c, "tcp.passive_opens");
  const std::uint64_t dropped = counter(c, "tcp.syn_dropped");
  const std::uint64_t cookies_sent = counter(c, "tcp.syncookies_sent");
  std::cout << "flood figures:\n"
            << "  hping3 SYNs sent            " << syns_sent << "\n"
            << "  synack frames in            " << counter(c, "ip.in_receives") << "\n"
            << "  tcp segments in             " << counter(c, "tcp.in_segs") << "\n"
            << "  half-open made (passive)    " << half_open << "\n"
            << "  SYNs dropped (queue full)   " << dropped << "\n";
  for (const char* name :
       {"tcp.syncookies_sent", "tcp.syncookies_validated", "tcp.syncookies_failed",
        "tcp.challenge_acks", "tcp.out_segs", "tcp.retrans_segs", "tcp.attempt_fails"}) {
    if (c.contains(name)) std::cout << "  " << name << " " << c.at(name) << "\n";
  }
  std::cout << "  download 100 MB, quiet      " << quiet_ms << " ms\n"
            << "  download 100 MB, flooded    " << read_file(dir / "curl.out") << " s (curl)\n"
            << "  new connection during flood " << (during.status == 0 ? "ok" : "failed") << " in "
            << probe_ms << " ms\n";
  // The flood reached the listener: every SYN made a half-open connection, was dropped
  // with the queue full, or was answered with a cookie.
  EXPECT_GT(half_open + dropped + cookies_sent, 1000u);
  if (cookies) {
    EXPECT_EQ(during.status, 0) << "with SYN cookies a new connection must get in: " << during.err;
    EXPECT_EQ(check_body_pattern(dir / "small", 1024), "");
  }
}

}  // namespace
}  // namespace synack::interop
