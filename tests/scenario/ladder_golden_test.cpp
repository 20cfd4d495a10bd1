// Golden files for the text ladder: the same seed draws the same picture, byte for byte.
// The goldens are tests/golden/<scenario>.txt, the whole output of
// `synack demo <scenario> --color never`.
//
// After a deliberate change to the picture (or to the stack's behaviour), regenerate them
// and review the diff like code:
//
//   SYNACK_UPDATE_GOLDEN=1 ./build/tests/scenario_tests --gtest_filter='*LadderGolden*'
//   git diff tests/golden
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tools/demo.hpp"
#include "tools/scenarios.hpp"
#include "trace/ladder_model.hpp"
#include "trace/ladder_text.hpp"

namespace synack::tools {
namespace {

std::string demo_output(const std::string& scenario) {
  DemoOptions o;
  o.scenario = scenario;
  o.colour = ColourMode::never;
  std::ostringstream out, err;
  EXPECT_EQ(run_demo(o, out, err, false), 0) << err.str();
  return out.str();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class LadderGolden : public ::testing::TestWithParam<const char*> {};

TEST_P(LadderGolden, MatchesTheGoldenFile) {
  const std::string name = GetParam();
  const std::string path = std::string(SYNACK_GOLDEN_DIR) + "/" + name + ".txt";
  const std::string actual = demo_output(name);
  if (std::getenv("SYNACK_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path, std::ios::binary) << actual;
    GTEST_SKIP() << "rewrote " << path;
  }
  const std::string expected = read_file(path);
  ASSERT_FALSE(expected.empty()) << path << " is missing: run with SYNACK_UPDATE_GOLDEN=1";
  EXPECT_EQ(actual, expected) << "the ladder for '" << name << "' changed; if on purpose, run\n"
                              << "  SYNACK_UPDATE_GOLDEN=1 ./build/tests/scenario_tests "
                                 "--gtest_filter='*LadderGolden*'\nand review git diff "
                                 "tests/golden";
}

INSTANTIATE_TEST_SUITE_P(Scenarios, LadderGolden,
                         ::testing::Values("handshake", "classic", "lost-data", "time-wait",
                                           "refused", "reset", "zero-window", "udp"),
                         [](const ::testing::TestParamInfo<const char*>& p) {
                           std::string n = p.param;
                           std::erase(n, '-');
                           return n;
                         });

TEST(Readme, OpensWithTheHandshakeLadder) {
  // The README shows a newcomer what synack is: it must be what the demo draws today.
  const std::string readme = read_file(std::string(SYNACK_GOLDEN_DIR) + "/../../README.md");
  const auto start = readme.find("```\n");
  ASSERT_NE(start, std::string::npos);
  const auto end = readme.find("```", start + 4);
  ASSERT_NE(end, std::string::npos);
  const std::string shown = readme.substr(start + 4, end - start - 4);
  const std::string drawn = demo_output("handshake");
  EXPECT_EQ(shown, drawn.substr(0, drawn.find("\n\n") + 1))
      << "update the README's opening ladder from tests/golden/handshake.txt";
}

// Display columns of a line of UTF-8: every glyph the ladder draws is one column wide.
std::size_t columns(const std::string& line) {
  std::size_t n = 0;
  for (const char c : line) n += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  return n;
}

TEST(TextLadder, EveryScenarioFitsIn100Columns) {
  for (const Scenario& sc : scenarios()) {
    std::istringstream lines(demo_output(std::string(sc.name)));
    std::string line;
    bool in_ladder = true;
    while (std::getline(lines, line)) {
      if (line.empty()) in_ladder = false;  // the summary under the ladder may run longer
      if (in_ladder) {
        EXPECT_LE(columns(line), 100u) << sc.name << ": " << line;
      }
    }
  }
}

TEST(TextLadder, AbsoluteSequenceNumbersShowTheIsn) {
  Scene scene(SceneOptions{});
  play_handshake(scene);
  auto draw = [&](bool absolute) {
    std::ostringstream out;
    render_text_ladder(trace::build_ladder(scene.recording, {.absolute_seq = absolute}), {}, out);
    return out.str();
  };
  EXPECT_NE(draw(false).find("SYN seq=0 "), std::string::npos);
  const std::string absolute = draw(true);
  EXPECT_EQ(absolute.find("SYN seq=0 "), std::string::npos);
  EXPECT_NE(absolute.find("SYN seq="), std::string::npos);
}

TEST(TextLadder, ColourOnlyWhenAsked) {
  Scene scene(SceneOptions{});
  play_handshake(scene);
  const auto model = trace::build_ladder(scene.recording);
  std::ostringstream plain, coloured;
  render_text_ladder(model, {.colour = false}, plain);
  render_text_ladder(model, {.colour = true}, coloured);
  EXPECT_EQ(plain.str().find('\x1b'), std::string::npos);
  EXPECT_NE(coloured.str().find("\x1b[1;33mSYN_SENT"), std::string::npos) << "states in yellow";
}

}  // namespace
}  // namespace synack::tools
