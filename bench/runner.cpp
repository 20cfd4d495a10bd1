#include "bench/runner.hpp"

#include <algorithm>
#include <iomanip>
#include <ostream>
#include <sstream>

namespace synack::bench {

Summary summarize(const std::vector<Run>& runs) {
  std::vector<double> values;
  Summary s;
  for (const Run& r : runs) {
    if (r.ok()) {
      values.push_back(r.value);
      continue;
    }
    if (r.failed && !s.failed) s.skipped = "FAILED: " + r.skipped;
    if (s.skipped.empty()) s.skipped = r.skipped;
    s.failed = s.failed || r.failed;
  }
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  s.runs = static_cast<int>(values.size());
  const std::size_t mid = values.size() / 2;
  s.median = values.size() % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
  s.min = values.front();
  s.max = values.back();
  return s;
}

namespace {

bool selected(const Scenario& s, const RunnerOptions& options) {
  return options.only.empty() ||
         std::find(options.only.begin(), options.only.end(), s.id) != options.only.end();
}

// Figures to three significant digits, as BENCHMARKS.md quotes them.
std::string figure(double v) {
  std::ostringstream o;
  const double magnitude = v < 0 ? -v : v;
  const int decimals = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : magnitude >= 1 ? 2 : 3;
  o << std::fixed << std::setprecision(decimals) << v;
  return o.str();
}

std::string cell(const Summary& s) {
  if (s.runs == 0) return s.skipped.empty() ? "—" : "skipped: " + s.skipped;
  return figure(s.median) + " (" + figure(s.min) + "–" + figure(s.max) + ")";
}

}  // namespace

std::vector<Result> run_scenarios(const std::vector<Scenario>& scenarios,
                                  const RunnerOptions& options, std::ostream& progress,
                                  bool progress_is_terminal) {
  std::vector<const Scenario*> chosen;
  for (const Scenario& s : scenarios) {
    if (selected(s, options)) chosen.push_back(&s);
  }
  std::vector<Result> results;
  for (std::size_t i = 0; i < chosen.size(); ++i) {
    const Scenario& s = *chosen[i];
    std::vector<Run> ours, peer;
    for (int rep = 1; rep <= options.repetitions; ++rep) {
      // Alternating ours and the peer's spreads the machine's noise over both alike.
      const auto step = [&](const char* who, const std::function<Run(Effort)>& fn,
                            std::vector<Run>& into) {
        progress << (progress_is_terminal ? "\r\033[K" : "") << "[" << i + 1 << "/" << chosen.size()
                 << "] " << s.id << ": " << who << " run " << rep << "/" << options.repetitions
                 << (progress_is_terminal ? "" : "\n") << std::flush;
        into.push_back(fn(options.effort));
      };
      step("synack", s.ours, ours);
      if (s.peer) step(s.peer_name.c_str(), s.peer, peer);
      // A scenario that cannot run (no root, package missing) says so once, not five times.
      if (!ours.back().ok() && (!s.peer || !peer.back().ok())) break;
    }
    Result r{&s, summarize(ours), summarize(peer), 0};
    if (r.ours.runs && r.peer.runs && r.ours.median > 0 && r.peer.median > 0) {
      r.advantage =
          s.higher_is_better ? r.ours.median / r.peer.median : r.peer.median / r.ours.median;
    }
    results.push_back(r);
  }
  if (progress_is_terminal) progress << "\r\033[K" << std::flush;
  return results;
}

void print_table(const std::vector<Result>& results, int repetitions, std::ostream& out) {
  out << "Medians of " << repetitions << (repetitions == 1 ? " run" : " runs")
      << " (min–max); advantage = how many times better "
      << "synack is than its peer in the same run.\n\n"
      << "| scenario | unit | synack | peer | peer figure | advantage | target |\n"
      << "|---|---|---:|---|---:|---:|---|\n";
  for (const Result& r : results) {
    const Scenario& s = *r.scenario;
    out << "| " << s.title << " | " << s.unit << (s.higher_is_better ? "" : " (lower is better)")
        << " | " << cell(r.ours) << " | " << (s.peer_name.empty() ? "—" : s.peer_name) << " | "
        << (s.peer ? cell(r.peer) : "—") << " | "
        << (r.advantage > 0 ? figure(r.advantage) + "×" : "—") << " | " << s.target << " |\n";
  }
}

}  // namespace synack::bench
