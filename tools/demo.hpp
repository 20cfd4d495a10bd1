// `synack demo`: plays a scenario on the simulator and draws it as a ladder diagram, with
// pcap files, an SVG picture and a JSON log on request.
#pragma once

#include <optional>
#include <ostream>
#include <string>

#include "tools/scene.hpp"

namespace synack::tools {

enum class ColourMode { automatic, always, never };

struct DemoOptions {
  std::string scenario = "classic";
  SceneOptions scene;
  std::string pcap_dir;  // one file per host: DIR/client.pcap, DIR/server.pcap
  std::string svg_file;
  std::string json_file;  // JSON lines, one object per event
  bool absolute_seq = false;
  bool list = false;
  ColourMode colour = ColourMode::automatic;
  std::size_t width = 100;
};

// Runs the demo, printing to `out` (the ladder) and `err` (problems). `terminal` says
// whether `out` is a terminal, for ColourMode::automatic. Returns the exit code: 0 when
// the scenario ended as it should, 1 when it did not, 2 for a usage error.
int run_demo(const DemoOptions& options, std::ostream& out, std::ostream& err, bool terminal);

// --list: one line per scenario.
void list_scenarios(std::ostream& out);

}  // namespace synack::tools
