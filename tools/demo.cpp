#include "tools/demo.hpp"

#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include "stack/counters.hpp"
#include "tools/scenarios.hpp"
#include "trace/json_lines.hpp"
#include "trace/ladder_model.hpp"
#include "trace/ladder_svg.hpp"
#include "trace/ladder_text.hpp"
#include "trace/pcap_writer.hpp"
#include "trace/tee.hpp"

namespace synack::tools {
namespace {

// The files asked for on the command line, each with its sink.
struct Outputs {
  trace::Tee tee;
  std::ofstream json_file;
  std::unique_ptr<trace::JsonLines> json;
  std::vector<std::unique_ptr<std::ofstream>> pcap_files;
  std::vector<std::unique_ptr<trace::PcapSink>> pcaps;

  bool open(const DemoOptions& o, std::ostream& err) {
    if (!o.json_file.empty()) {
      json_file.open(o.json_file);
      if (!json_file) {
        err << "synack demo: cannot write " << o.json_file << "\n";
        return false;
      }
      json = std::make_unique<trace::JsonLines>(json_file);
      tee.add(*json);
    }
    if (!o.pcap_dir.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(o.pcap_dir, ec);
      for (const auto& [name, address] :
           {std::pair{"client", kClientAddress}, std::pair{"server", kServerAddress}}) {
        const auto path = std::filesystem::path(o.pcap_dir) / (std::string(name) + ".pcap");
        auto& file =
            pcap_files.emplace_back(std::make_unique<std::ofstream>(path, std::ios::binary));
        if (!*file) {
          err << "synack demo: cannot write " << path.string() << "\n";
          return false;
        }
        pcaps.push_back(std::make_unique<trace::PcapSink>(*file, address));
        tee.add(*pcaps.back());
      }
    }
    return true;
  }
};

std::string counters_line(const char* name, const Counters& c) {
  return std::string(name) + ": " + std::to_string(c.tcp.out_segs + c.udp.out_datagrams) +
         " sent, " + std::to_string(c.tcp.retrans_segs) + " retransmitted, " +
         std::to_string(c.tcp.out_rsts) + " RST";
}

}  // namespace

void list_scenarios(std::ostream& out) {
  for (const Scenario& sc : scenarios()) {
    std::string name(sc.name);
    name.resize(std::max<std::size_t>(name.size() + 2, 20), ' ');
    out << name << sc.summary << "\n";
  }
}

int run_demo(const DemoOptions& o, std::ostream& out, std::ostream& err, bool terminal) {
  if (o.list) {
    list_scenarios(out);
    return 0;
  }
  const Scenario* scenario = find_scenario(o.scenario);
  if (!scenario) {
    err << "synack demo: no scenario named '" << o.scenario << "' (synack demo --list)\n";
    return 2;
  }
  Outputs outputs;
  if (!outputs.open(o, err)) return 2;

  Scene scene(o.scene, &outputs.tee);
  scenario->play(scene);

  const trace::LadderModel model =
      trace::build_ladder(scene.recording, {.absolute_seq = o.absolute_seq});
  trace::TextLadderOptions text;
  text.width = o.width;
  text.colour = o.colour == ColourMode::always || (o.colour == ColourMode::automatic && terminal);
  render_text_ladder(model, text, out);
  if (!o.svg_file.empty()) {
    std::ofstream svg(o.svg_file);
    trace::render_svg_ladder(model, {.title = "synack demo " + o.scenario}, svg);
    if (!svg) {
      err << "synack demo: cannot write " << o.svg_file << "\n";
      return 2;
    }
  }

  out << "\n"
      << counters_line("client", scene.client.stack.counters()) << "; "
      << counters_line("server", scene.server.stack.counters()) << "\n";
  if (scene.ok()) {
    out << o.scenario << ": " << scene.outcome() << "\n";
    return 0;
  }
  for (const std::string& f : scene.failures())
    err << "synack demo " << o.scenario << ": " << f << "\n";
  return 1;
}

}  // namespace synack::tools
