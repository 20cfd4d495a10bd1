// The files `synack demo` writes, read back by the tools people will use on them: the pcap
// captures by tshark (Wireshark's dissectors and TCP analysis), the SVG by xmllint, the JSON
// lines line by line. Files go to a temp dir the test makes and removes.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "stack/counters.hpp"
#include "support/external_tool.hpp"
#include "tools/scenarios.hpp"
#include "trace/json_lines.hpp"
#include "trace/ladder_model.hpp"
#include "trace/ladder_svg.hpp"
#include "trace/pcap_writer.hpp"
#include "trace/tee.hpp"

namespace synack::tools {
namespace {

using testing::run_command;
using testing::TempDir;

// A scenario played with each host's packets captured to DIR/client.pcap, DIR/server.pcap.
struct Captured {
  Captured(const TempDir& dir, void (*play)(Scene&), SceneOptions options = {})
      : client_file(dir / "client.pcap", std::ios::binary),
        server_file(dir / "server.pcap", std::ios::binary),
        client_pcap(client_file, kClientAddress),
        server_pcap(server_file, kServerAddress) {
    tee.add(client_pcap);
    tee.add(server_pcap);
    scene = std::make_unique<Scene>(options, &tee);
    play(*scene);
    client_file.flush();
    server_file.flush();
  }
  std::ofstream client_file, server_file;
  trace::PcapSink client_pcap, server_pcap;
  trace::Tee tee;
  std::unique_ptr<Scene> scene;
};

std::size_t lines_of(const std::string& s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

// tshark on one capture with a display filter: the matching packets, one per line. The
// HTTP dissector is off: it reassembles the reply body, and Wireshark 4.0 flags a
// retransmission overlapping a segment it holds as "Malformed" even when the bytes are the
// same (they are: the lost segment and its retransmission are both in the sender's file).
std::string tshark(const std::filesystem::path& file, const std::string& filter) {
  const auto r = run_command("tshark -n --disable-protocol http -r '" + file.string() + "' -Y '" +
                             filter + "'");
  EXPECT_EQ(r.exit_code, 0) << "tshark failed on " << file << " with " << filter;
  return r.output;
}

class TsharkReads : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::have_program("tshark")) GTEST_SKIP() << "tshark is not installed";
  }
};

TEST_F(TsharkReads, EveryPacketOfEveryScenario) {
  // One capture per host holds every scenario, one after the other (tshark takes a second
  // to start). The same ports come back in each scenario, so sequence analysis and stream
  // reassembly, which would take them for one connection, are off: this is about each
  // packet being well formed.
  TempDir dir;
  std::ofstream client_file(dir / "client.pcap", std::ios::binary);
  std::ofstream server_file(dir / "server.pcap", std::ios::binary);
  trace::PcapSink client_pcap(client_file, kClientAddress);
  trace::PcapSink server_pcap(server_file, kServerAddress);
  trace::Tee tee;
  tee.add(client_pcap);
  tee.add(server_pcap);
  for (const Scenario& sc : scenarios()) {
    Scene scene(SceneOptions{}, &tee);
    sc.play(scene);
  }
  client_file.close();
  server_file.close();
  for (const auto& [file, records] : {std::pair{"client.pcap", client_pcap.records()},
                                      std::pair{"server.pcap", server_pcap.records()}}) {
    const auto r = run_command(
        "tshark -n -o tcp.analyze_sequence_numbers:FALSE -o tcp.desegment_tcp_streams:FALSE "
        "-r '" +
        (dir / file).string() +
        "' -T fields -e frame.number -e _ws.expert.severity -e _ws.malformed");
    ASSERT_EQ(r.exit_code, 0) << file;
    EXPECT_EQ(lines_of(r.output), records) << file << ": one line per packet written";
    EXPECT_EQ(r.output.find("_ws.malformed"), std::string::npos) << file << "\n" << r.output;
    EXPECT_EQ(r.output.find("8388608"), std::string::npos)
        << file << ": an expert error (severity 0x800000)\n"
        << r.output;
  }
}

TEST_F(TsharkReads, ACleanRunWithNoTcpAnalysisWarnings) {
  for (void (*play)(Scene&) :
       {play_classic, play_close, play_half_close, play_simultaneous_close}) {
    TempDir dir;
    Captured run(dir, play);
    EXPECT_GT(run.client_pcap.records(), 0u);
    EXPECT_EQ(tshark(dir / "client.pcap", "tcp.analysis.flags"), "");
    EXPECT_EQ(tshark(dir / "server.pcap", "tcp.analysis.flags"), "");
  }
}

TEST_F(TsharkReads, ACleanTransferHasWindowUpdatesOnly) {
  // Reading the whole response opens the client's window, and the client says so with a
  // window update: Wireshark notes it (severity "chat"), but it is no warning.
  TempDir dir;
  Captured run(dir, play_transfer);
  const std::string warnings = "tcp.analysis.flags && !tcp.analysis.window_update";
  EXPECT_EQ(tshark(dir / "client.pcap", warnings), "");
  EXPECT_EQ(tshark(dir / "server.pcap", warnings), "");
  EXPECT_EQ(
      lines_of(tshark(dir / "client.pcap", "ip.src == 198.18.0.1 && tcp.analysis.window_update")),
      1u);
}

TEST_F(TsharkReads, NanosecondTimestampsInVirtualTime) {
  TempDir dir;
  Captured run(dir, play_handshake);
  const auto r = run_command("tshark -n -r '" + (dir / "server.pcap").string() +
                             "' -T fields -e frame.time_epoch");
  // The server hears the SYN 5 ms after the epoch and its ACK 15 ms after.
  EXPECT_EQ(r.output, "0.005000000\n0.005000000\n0.015000000\n");
}

TEST_F(TsharkReads, RetransmissionsTsharkFindsAreTheStacksOwn) {
  const std::string retransmission =
      "tcp.analysis.retransmission || tcp.analysis.fast_retransmission || "
      "tcp.analysis.spurious_retransmission";
  std::uint64_t total = 0;
  for (const std::uint64_t seed : {3u, 9u, 12u}) {
    TempDir dir;
    SceneOptions options;
    options.seed = seed;
    options.loss = 0.1;
    Captured run(dir, play_transfer, options);
    ASSERT_TRUE(run.scene->ok()) << run.scene->failures().front();
    // Each host's capture, its own segments: what it sent again.
    const auto& c = run.scene->client.stack.counters().tcp;
    const auto& s = run.scene->server.stack.counters().tcp;
    EXPECT_EQ(
        lines_of(tshark(dir / "client.pcap", "ip.src == 198.18.0.1 && (" + retransmission + ")")),
        c.retrans_segs)
        << "seed " << seed;
    EXPECT_EQ(
        lines_of(tshark(dir / "server.pcap", "ip.src == 198.18.0.2 && (" + retransmission + ")")),
        s.retrans_segs)
        << "seed " << seed;
    total += c.retrans_segs + s.retrans_segs;
  }
  EXPECT_GT(total, 4u) << "the lossy runs did retransmit";
}

TEST(SvgLadder, ParsesAsXmlWithOneArrowPerSegment) {
  const bool have_xmllint = testing::have_program("xmllint");
  for (const Scenario& sc : scenarios()) {
    Scene scene(SceneOptions{});
    sc.play(scene);
    const auto model = trace::build_ladder(scene.recording);
    std::ostringstream svg;
    trace::render_svg_ladder(model, {.title = std::string(sc.name)}, svg);
    std::size_t sent = 0;
    for (const trace::Event& e : scene.recording.events()) {
      sent += e.kind == trace::Event::Kind::packet && e.dir == trace::Direction::out;
    }
    std::size_t arrows = 0;
    for (std::size_t at = 0; (at = svg.str().find("<g class=\"segment", at)) != std::string::npos;
         ++at) {
      ++arrows;
    }
    EXPECT_EQ(arrows, sent) << sc.name;
    if (have_xmllint) {
      TempDir dir;
      std::ofstream(dir / "ladder.svg") << svg.str();
      const auto r = run_command("xmllint --noout '" + (dir / "ladder.svg").string() + "'");
      EXPECT_EQ(r.exit_code, 0) << sc.name << ": the SVG is not well-formed XML";
    }
  }
}

TEST(SvgLadder, ALostPacketEndsInACross) {
  Scene scene(SceneOptions{});
  play_lost_data(scene);
  std::ostringstream svg;
  trace::render_svg_ladder(trace::build_ladder(scene.recording), {}, svg);
  const std::string s = svg.str();
  const auto dropped = s.find("<g class=\"segment dropped\">");
  ASSERT_NE(dropped, std::string::npos);
  EXPECT_NE(s.find("<path d=\"M", dropped), std::string::npos);
  EXPECT_NE(s.find("dropped by link: scripted", dropped), std::string::npos);
  EXPECT_NE(s.find("retransmit: fast retransmit"), std::string::npos);
}

TEST(JsonLines, OneObjectPerEvent) {
  std::ostringstream json;
  trace::JsonLines sink(json);
  Scene scene(SceneOptions{}, &sink);
  play_classic(scene);
  std::istringstream lines(json.str());
  std::string line;
  std::size_t n = 0;
  while (std::getline(lines, line)) {
    ASSERT_FALSE(line.empty());
    EXPECT_EQ(line.front(), '{');
    EXPECT_EQ(line.back(), '}');
    EXPECT_NE(line.find("\"event\":"), std::string::npos);
    ++n;
  }
  EXPECT_EQ(n, scene.recording.events().size());
  EXPECT_NE(json.str().find("\"event\":\"state\""), std::string::npos);
  EXPECT_NE(json.str().find("\"to\":\"TIME_WAIT\""), std::string::npos);
  EXPECT_NE(json.str().find("\"flags\":\"SYN+ACK\""), std::string::npos);
}

TEST(JsonLines, ParsedByPythonWhenItIsThere) {
  if (!testing::have_program("python3")) GTEST_SKIP() << "python3 is not installed";
  TempDir dir;
  {
    std::ofstream file(dir / "events.json");
    trace::JsonLines sink(file);
    Scene scene(SceneOptions{}, &sink);
    play_lost_data(scene);
  }
  const auto r = run_command(
      "python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l)))' '" +
      (dir / "events.json").string() + "'");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_GT(std::stoul(r.output.empty() ? "0" : r.output), 50u);
}

}  // namespace
}  // namespace synack::tools
