// `synack`: the command-line tool. Subcommands: demo.
#include <iostream>
#include <string>
#include <vector>

#include "tools/commands.hpp"
#include "tools/net_commands.hpp"

namespace {
void usage(std::ostream& os) {
  os << "usage: synack <command> [options]\n\n"
        "commands:\n"
        "  demo    the classic TCP flow on the simulator, step by step\n"
        "  soak    random faults and application behaviour over many seeds\n"
     << synack::tools::kNetCommandsUsage << "\nsynack <command> --help tells more.\n";
}
}  // namespace

int main(int argc, char** argv) {
  if (auto rc = synack::tools::run_net_command(argc, argv)) return *rc;
  if (argc < 2) {
    usage(std::cerr);
    return 2;
  }
  const std::string command = argv[1];
  const std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "demo") return synack::tools::demo(args);
  if (command == "soak") return synack::tools::soak(args);
  if (command == "--help" || command == "-h" || command == "help") {
    usage(std::cout);
    return 0;
  }
  std::cerr << "synack: unknown command '" << command << "'\n";
  usage(std::cerr);
  return 2;
}
