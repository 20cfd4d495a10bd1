#include "tools/soak.hpp"

#include <cstdio>
#include <fstream>
#include <memory>

#include "sim/soak.hpp"
#include "trace/event_log.hpp"

namespace synack::tools {

int run_soak_command(const SoakOptions& options, std::ostream& out) {
  std::uint64_t passed = 0, failed = 0;
  for (std::uint64_t seed = options.first; seed < options.first + options.seeds; ++seed) {
    std::ofstream trace_out;
    std::unique_ptr<trace::EventLog> log;
    if (!options.trace_file.empty()) {
      trace_out.open(options.trace_file);
      log = std::make_unique<trace::EventLog>(trace_out);
    }
    const sim::SoakResult r = sim::run_soak(seed, log.get());
    char line[160];
    if (r.ok) {
      ++passed;
      if (!options.verbose) continue;
      std::snprintf(line, sizeof line, "seed %llu ok: %llu bytes in %.1f s virtual (",
                    static_cast<unsigned long long>(seed), static_cast<unsigned long long>(r.bytes),
                    static_cast<double>(r.virtual_time.count()) / 1e9);
      out << line << r.description << ")\n";
    } else {
      ++failed;
      out << "seed " << seed << " FAILED: " << r.failure << " (" << r.description
          << "); replay: synack soak --seed " << seed << "\n";
    }
  }
  out << passed << " passed, " << failed << " failed\n";
  return failed == 0 ? 0 : 1;
}

}  // namespace synack::tools
