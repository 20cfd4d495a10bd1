// Every scenario of `synack demo` plays on the simulator and ends as it should: checked by
// the scenario itself (Scene::ok) and here again through the stacks' counters and states.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <sstream>

#include "stack/counters.hpp"
#include "support/external_tool.hpp"
#include "tools/demo.hpp"
#include "tools/scenarios.hpp"

namespace synack::tools {
namespace {

using Check = std::function<void(Scene&)>;

const TcpCounters& tcp_of(sim::Host& h) {
  return h.stack.counters().tcp;
}

// What each scenario must leave behind, beyond its own checks.
const std::map<std::string_view, Check>& checks() {
  static const std::map<std::string_view, Check> kChecks{
      {"classic",
       [](Scene& s) {
         EXPECT_EQ(tcp_of(s.client).retrans_segs + tcp_of(s.server).retrans_segs, 0u);
         EXPECT_EQ(tcp_of(s.client).out_rsts + tcp_of(s.server).out_rsts, 0u);
         EXPECT_GE(s.world.now(), kEpoch + seconds(60)) << "TIME_WAIT lasts 2*MSL";
       }},
      {"handshake",
       [](Scene& s) {
         EXPECT_EQ(tcp_of(s.client).in_state[static_cast<int>(tcp::State::Established)], 1u);
         EXPECT_EQ(tcp_of(s.server).in_state[static_cast<int>(tcp::State::Established)], 1u);
         EXPECT_EQ(s.world.now(), kEpoch + milliseconds(15));
       }},
      {"transfer",
       [](Scene& s) {
         EXPECT_GE(tcp_of(s.server).out_segs, 8u);
         EXPECT_EQ(tcp_of(s.server).retrans_segs, 0u);
       }},
      {"close", [](Scene& s) { EXPECT_EQ(tcp_of(s.client).out_rsts, 0u); }},
      {"simultaneous-close",
       [](Scene& s) {
         // Both sides sent a FIN and each went through TIME_WAIT: both were ACKed, no RST.
         EXPECT_EQ(tcp_of(s.client).out_rsts + tcp_of(s.server).out_rsts, 0u);
       }},
      {"half-close", [](Scene& s) { EXPECT_EQ(tcp_of(s.server).out_rsts, 0u); }},
      {"lost-syn",
       [](Scene& s) {
         EXPECT_EQ(tcp_of(s.client).retrans_segs, 1u);
         EXPECT_EQ(s.to_server().stats().scripted_drops, 1u);
       }},
      {"lost-data",
       [](Scene& s) {
         EXPECT_EQ(tcp_of(s.server).fast_retransmits, 1u);
         EXPECT_EQ(tcp_of(s.server).retrans_segs, 1u);
         EXPECT_EQ(tcp_of(s.server).timeouts, 0u);
       }},
      {"reorder",
       [](Scene& s) {
         EXPECT_EQ(s.to_client().stats().held, 1u);
         EXPECT_EQ(tcp_of(s.server).retrans_segs, 0u);
       }},
      {"old-duplicate-syn",
       [](Scene& s) {
         EXPECT_EQ(s.to_server().stats().held, 1u);
         EXPECT_EQ(tcp_of(s.server).passive_opens, 1u) << "the old SYN opened nothing new";
       }},
      {"time-wait",
       [](Scene& s) {
         EXPECT_EQ(tcp_of(s.server).retrans_segs, 1u);
         EXPECT_EQ(tcp_of(s.client).out_rsts, 0u);
       }},
      {"refused",
       [](Scene& s) {
         EXPECT_EQ(tcp_of(s.client).attempt_fails, 1u);
         EXPECT_EQ(tcp_of(s.server).out_rsts, 1u);
       }},
      {"reset",
       [](Scene& s) {
         EXPECT_EQ(tcp_of(s.client).out_rsts, 1u);
         EXPECT_EQ(tcp_of(s.server).in_rsts, 1u);
         EXPECT_LT(s.world.now(), kEpoch + seconds(1)) << "no TIME_WAIT after an abort";
       }},
      {"zero-window", [](Scene& s) { EXPECT_GE(tcp_of(s.client).zero_window_probes, 2u); }},
      {"udp",
       [](Scene& s) {
         EXPECT_EQ(s.client.stack.counters().udp.out_datagrams, 1u);
         EXPECT_EQ(s.server.stack.counters().udp.out_datagrams, 1u);
         EXPECT_EQ(tcp_of(s.client).out_segs + tcp_of(s.server).out_segs, 0u);
       }},
  };
  return kChecks;
}

}  // namespace

// Names the scenario in test output, not its bytes.
void PrintTo(const Scenario& sc, std::ostream* os) {
  *os << sc.name;
}

namespace {

class DemoScenario : public ::testing::TestWithParam<Scenario> {};

TEST_P(DemoScenario, EndsAsItShould) {
  const Scenario& sc = GetParam();
  Scene scene(SceneOptions{});
  sc.play(scene);
  for (const std::string& f : scene.failures()) ADD_FAILURE() << f;
  EXPECT_FALSE(scene.outcome().empty());
  // Every scenario but the handshake ends with nothing left: no connection, no TIME_WAIT.
  const std::size_t left = sc.name == "handshake" ? 1 : 0;
  EXPECT_EQ(scene.client.stack.connection_count(), left);
  EXPECT_EQ(scene.server.stack.connection_count(), left);
  const auto check = checks().find(sc.name);
  ASSERT_NE(check, checks().end()) << "no check for " << sc.name;
  check->second(scene);
}

INSTANTIATE_TEST_SUITE_P(All, DemoScenario,
                         ::testing::ValuesIn(scenarios().begin(), scenarios().end()),
                         [](const ::testing::TestParamInfo<Scenario>& p) {
                           std::string name(p.param.name);
                           std::erase(name, '-');
                           return name;
                         });

TEST(DemoScenarios, EveryScenarioHasACheckAndAUniqueName) {
  EXPECT_EQ(checks().size(), scenarios().size());
  for (const Scenario& sc : scenarios()) {
    EXPECT_EQ(find_scenario(sc.name), &sc);
    EXPECT_FALSE(sc.summary.empty());
  }
  EXPECT_EQ(scenarios().front().name, "classic") << "the default comes first";
}

TEST(DemoScenarios, TheSameSeedDrawsTheSamePicture) {
  auto draw = [](std::uint64_t seed) {
    DemoOptions o;
    o.scenario = "transfer";
    o.scene.seed = seed;
    o.scene.loss = 0.1;
    o.colour = ColourMode::never;
    std::ostringstream out, err;
    run_demo(o, out, err, false);
    return out.str();
  };
  EXPECT_EQ(draw(7), draw(7));
  EXPECT_NE(draw(7), draw(8));
}

TEST(DemoScenarios, LossyRunsStillEndEveryConnection) {
  for (const std::uint64_t seed : {1u, 2u, 3u, 4u, 5u}) {
    SceneOptions o;
    o.seed = seed;
    o.loss = 0.1;
    o.reorder = 0.1;
    Scene scene(o);
    play_classic(scene);
    EXPECT_TRUE(scene.ok()) << "seed " << seed << ": "
                            << (scene.failures().empty() ? "" : scene.failures().front());
    EXPECT_EQ(scene.client.stack.connection_count() + scene.server.stack.connection_count(), 0u);
  }
}

// The tool itself: exit codes and --list.
std::string tool(const std::string& args) {
  return std::string(SYNACK_TOOL) + " " + args;
}

TEST(SynackTool, ListNamesEveryScenarioOnALineOfItsOwn) {
  const auto r = testing::run_command(tool("demo --list"));
  EXPECT_EQ(r.exit_code, 0);
  std::istringstream lines(r.output);
  std::string line;
  std::size_t n = 0;
  while (std::getline(lines, line)) {
    ASSERT_LT(n, scenarios().size());
    EXPECT_EQ(line.rfind(std::string(scenarios()[n].name) + " ", 0), 0u) << line;
    ++n;
  }
  EXPECT_EQ(n, scenarios().size());
}

TEST(SynackTool, ExitCodesSayHowTheRunEnded) {
  EXPECT_EQ(testing::run_command(tool("demo refused")).exit_code, 0);
  EXPECT_EQ(testing::run_command(tool("demo reset --color never")).exit_code, 0);
  EXPECT_EQ(testing::run_command(tool("--help")).exit_code, 0);
  EXPECT_EQ(testing::run_command(tool("demo --help")).exit_code, 0);
  EXPECT_NE(testing::run_command(tool("demo no-such-scenario")).exit_code, 0);
  EXPECT_NE(testing::run_command(tool("demo --loss 2")).exit_code, 0);
  EXPECT_NE(testing::run_command(tool("")).exit_code, 0);
}

TEST(SynackTool, PlainOutputWhenNotATerminal) {
  const auto r = testing::run_command(tool("demo handshake"));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output.find('\x1b'), std::string::npos);
  const auto coloured = testing::run_command(tool("demo handshake --color always"));
  EXPECT_NE(coloured.output.find("\x1b["), std::string::npos);
}

}  // namespace
}  // namespace synack::tools
