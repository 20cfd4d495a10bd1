// `synack soak`: the randomized soak over many seeds (see src/sim/soak.hpp).
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <fstream>

#include "sim/soak.hpp"
#include "tools/commands.hpp"
#include "trace/event_log.hpp"

namespace synack::tools {

int soak(const std::vector<std::string>& args) {
  std::uint64_t first = 1, count = 20;
  bool verbose = false;
  std::string trace_file;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto next = [&]() -> std::uint64_t {
      if (i + 1 >= args.size()) throw std::invalid_argument(a + " needs a number");
      return std::stoull(args[++i]);
    };
    try {
      if (a == "--seeds") {
        count = next();
      } else if (a == "--first") {
        first = next();
      } else if (a == "--seed") {
        first = next();
        count = 1;
        verbose = true;
      } else if (a == "--trace") {
        if (i + 1 >= args.size()) throw std::invalid_argument("--trace needs a file");
        trace_file = args[++i];
      } else if (a == "--verbose" || a == "-v") {
        verbose = true;
      } else if (a == "--help" || a == "-h") {
        std::cout << "usage: synack soak [--seeds N] [--first S] [--seed S] [--verbose] [--trace "
                     "FILE]\n\n"
                     "Runs N seeds (from S) of random faults and application behaviour and\n"
                     "checks byte-exact delivery, clean endings and no leaks. A failure prints\n"
                     "the seed; --seed S replays just that one.\n";
        return 0;
      } else {
        std::cerr << "synack soak: unknown option '" << a << "'\n";
        return 2;
      }
    } catch (const std::exception& e) {
      std::cerr << "synack soak: " << e.what() << "\n";
      return 2;
    }
  }
  std::uint64_t passed = 0, failed = 0;
  for (std::uint64_t seed = first; seed < first + count; ++seed) {
    std::ofstream trace_out;
    std::unique_ptr<trace::EventLog> log;
    if (!trace_file.empty()) {
      trace_out.open(trace_file);
      log = std::make_unique<trace::EventLog>(trace_out);
    }
    const sim::SoakResult r = sim::run_soak(seed, log.get());
    if (r.ok) {
      ++passed;
      if (verbose) {
        std::printf("seed %llu ok: %llu bytes in %.1f s virtual (%s)\n",
                    static_cast<unsigned long long>(seed), static_cast<unsigned long long>(r.bytes),
                    static_cast<double>(r.virtual_time.count()) / 1e9, r.description.c_str());
      }
    } else {
      ++failed;
      std::printf("seed %llu FAILED: %s (%s); replay: synack soak --seed %llu\n",
                  static_cast<unsigned long long>(seed), r.failure.c_str(), r.description.c_str(),
                  static_cast<unsigned long long>(seed));
    }
  }
  std::printf("%llu passed, %llu failed\n", static_cast<unsigned long long>(passed),
              static_cast<unsigned long long>(failed));
  return failed == 0 ? 0 : 1;
}

}  // namespace synack::tools
