// `synack`: the command-line tool. Subcommands: demo, soak, and on the real network netns,
// serve, connect, get (tools/net_commands.hpp, each parsing its own options).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "tools/bench.hpp"
#include "tools/demo.hpp"
#include "tools/net_commands.hpp"
#include "tools/scenarios.hpp"
#include "tools/soak.hpp"

int main(int argc, char** argv) {
  if (auto rc = synack::tools::run_net_command(argc, argv)) return *rc;
  using synack::tools::ColourMode;
  CLI::App app{"synack: a user-space TCP/IP stack you can watch, step by step"};
  app.require_subcommand(1);
  app.footer(std::string("\nOn the real network (each takes --help):\n") +
             synack::tools::kNetCommandsUsage);

  synack::tools::DemoOptions demo;
  double delay_ms = 5;
  std::string colour = "auto";
  CLI::App* cmd = app.add_subcommand(
      "demo", "Plays a TCP scenario between two simulated hosts and draws it as a ladder");
  std::ostringstream list;
  synack::tools::list_scenarios(list);
  cmd->footer(
      "\nEvery segment, state, socket call and timer, in virtual time. Without a scenario it\n"
      "plays the classic flow: listen, connect, request, response, close, TIME_WAIT.\n\n"
      "Scenarios:\n" +
      list.str());
  cmd->add_option("scenario", demo.scenario, "The scenario to play (listed below)")
      ->type_name("NAME")
      ->capture_default_str();
  cmd->add_flag("--list", demo.list, "Names the scenarios, one line each, and exits");
  cmd->add_option("--loss", demo.scene.loss, "Probability each frame is lost, both ways")
      ->check(CLI::Range(0.0, 1.0))
      ->type_name("P");
  cmd->add_option("--reorder", demo.scene.reorder,
                  "Probability each frame is held back 10 ms, so later ones overtake it")
      ->check(CLI::Range(0.0, 1.0))
      ->type_name("P");
  cmd->add_option("--delay", delay_ms, "One-way delay in milliseconds")
      ->check(CLI::Range(0.0, 10000.0))
      ->type_name("MS")
      ->capture_default_str();
  cmd->add_option("--seed", demo.scene.seed, "Seed of the simulation: same seed, same run")
      ->type_name("N")
      ->capture_default_str();
  cmd->add_option("--pcap", demo.pcap_dir, "Writes DIR/client.pcap and DIR/server.pcap")
      ->type_name("DIR");
  cmd->add_option("--svg", demo.svg_file, "Writes the ladder as an SVG picture")->type_name("FILE");
  cmd->add_option("--json", demo.json_file, "Writes every event as a line of JSON")
      ->type_name("FILE");
  cmd->add_flag("--absolute-seq", demo.absolute_seq,
                "Shows raw sequence numbers, not relative to each side's ISN");
  cmd->add_option("--color", colour, "ANSI colour: auto (when stdout is a terminal), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->type_name("WHEN")
      ->capture_default_str();
  cmd->add_option("--width", demo.width, "Columns of text for the ladder")
      ->check(CLI::Range(60, 400))
      ->type_name("N")
      ->capture_default_str();

  synack::tools::SoakOptions soak;
  std::uint64_t replay_seed = 0;
  CLI::App* soak_cmd = app.add_subcommand(
      "soak", "Random faults and application behaviour over many seeds, checked byte by byte");
  soak_cmd->footer(
      "\nEach seed draws a fault mix (loss, duplication, reordering, corruption, delay,\n"
      "bandwidth) and what the applications do (write sizes, read pauses, half-closes,\n"
      "aborts), then checks exact delivery, clean endings and that nothing is left behind.\n"
      "A failure prints its seed; --seed S replays it.");
  soak_cmd->add_option("--seeds", soak.seeds, "How many seeds to run")->capture_default_str();
  soak_cmd->add_option("--first", soak.first, "The first seed")->capture_default_str();
  soak_cmd->add_option("--seed", replay_seed, "Runs only this seed, verbosely")->type_name("S");
  soak_cmd->add_flag("--verbose,-v", soak.verbose, "A line for every seed");
  soak_cmd->add_option("--trace", soak.trace_file, "Writes the event log of the run to FILE")
      ->type_name("FILE");

  synack::tools::BenchOptions bench;
  bool quick = false;
  CLI::App* bench_cmd = app.add_subcommand(
      "bench", "Measures synack beside the Linux kernel and lwIP, scenario by scenario");
  bench_cmd->footer(
      "\nEach scenario runs synack and its peer alternately and prints the median, min and\n"
      "max of the runs and how many times better synack is. BENCHMARKS.md records results.\n"
      "Scenarios over TUN and veth need root.");
  bench_cmd->add_option("--runs", bench.runner.repetitions, "Runs of each, at least 1")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  bench_cmd->add_option("--only", bench.runner.only, "Runs only these scenarios (repeatable)")
      ->type_name("ID");
  bench_cmd->add_flag("--quick", quick, "Tiny sizes, one run: proves each still works (CI)");
  bench_cmd->add_flag("--list", bench.list, "Names the scenarios and exits");

  CLI11_PARSE(app, argc, argv);
  if (bench_cmd->parsed()) {
    if (quick) {
      bench.runner.effort = synack::bench::Effort::Quick;
      bench.runner.repetitions = 1;
    }
    return synack::tools::run_bench_command(bench, std::cout, std::cerr,
                                            isatty(STDERR_FILENO) == 1);
  }
  if (soak_cmd->parsed()) {
    if (replay_seed != 0) soak = {replay_seed, 1, true, soak.trace_file};
    return synack::tools::run_soak_command(soak, std::cout);
  }
  demo.scene.delay = synack::nanoseconds(static_cast<std::int64_t>(delay_ms * 1e6));
  demo.colour = colour == "always"  ? ColourMode::always
                : colour == "never" ? ColourMode::never
                                    : ColourMode::automatic;
  // NO_COLOR (no-color.org) turns automatic colour off.
  const bool terminal = isatty(STDOUT_FILENO) == 1 && std::getenv("NO_COLOR") == nullptr;
  return synack::tools::run_demo(demo, std::cout, std::cerr, terminal);
}
