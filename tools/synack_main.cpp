// `synack`: the command-line tool. Subcommands: demo.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <map>
#include <string>

#include "tools/demo.hpp"
#include "tools/scenarios.hpp"

int main(int argc, char** argv) {
  using synack::tools::ColourMode;
  CLI::App app{"synack: a user-space TCP/IP stack you can watch, step by step"};
  app.require_subcommand(1);

  synack::tools::DemoOptions demo;
  double delay_ms = 5;
  CLI::App* cmd = app.add_subcommand(
      "demo",
      "Plays a TCP scenario between two simulated hosts and prints it as a ladder diagram:\n"
      "every segment, state, socket call and timer, in virtual time. Without a scenario it\n"
      "plays the classic flow: listen, connect, request, response, close, TIME_WAIT.");
  std::string names;
  for (const auto& sc : synack::tools::scenarios())
    names += (names.empty() ? "" : ", ") + std::string(sc.name);
  cmd->add_option("scenario", demo.scenario, "The scenario to play (--list): " + names)
      ->capture_default_str();
  cmd->add_flag("--list", demo.list, "Names the scenarios, one line each, and exits");
  cmd->add_option("--loss", demo.scene.loss, "Probability each frame is lost, both ways")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--reorder", demo.scene.reorder,
                  "Probability each frame is held back 10 ms, so others overtake it")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--delay", delay_ms, "One-way delay in milliseconds")
      ->check(CLI::Range(0.0, 10000.0))
      ->capture_default_str();
  cmd->add_option("--seed", demo.scene.seed, "Seed of the simulation (same seed, same run)")
      ->capture_default_str();
  cmd->add_option("--pcap", demo.pcap_dir, "Writes DIR/client.pcap and DIR/server.pcap");
  cmd->add_option("--svg", demo.svg_file, "Writes the ladder as an SVG picture to FILE");
  cmd->add_option("--json", demo.json_file, "Writes every event as a JSON line to FILE");
  cmd->add_flag("--absolute-seq", demo.absolute_seq,
                "Shows raw sequence numbers, not relative to each side's ISN");
  const std::map<std::string, ColourMode> colours{{"auto", ColourMode::automatic},
                                                  {"always", ColourMode::always},
                                                  {"never", ColourMode::never}};
  cmd->add_option("--color", demo.colour, "ANSI colour: auto (when a terminal), always, never")
      ->transform(CLI::CheckedTransformer(colours, CLI::ignore_case))
      ->default_str("auto");
  cmd->add_option("--width", demo.width, "Columns of text for the ladder")
      ->check(CLI::Range(60, 400))
      ->capture_default_str();

  CLI11_PARSE(app, argc, argv);
  demo.scene.delay = synack::nanoseconds(static_cast<std::int64_t>(delay_ms * 1e6));
  // NO_COLOR (no-color.org) turns automatic colour off.
  const bool terminal = isatty(STDOUT_FILENO) == 1 && std::getenv("NO_COLOR") == nullptr;
  return synack::tools::run_demo(demo, std::cout, std::cerr, terminal);
}
