// Network namespaces a kernel peer makes for one run and always deletes (with every device
// inside), named after the process id so parallel runs never clash: "synack-bench-<pid>-a".
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace synack::bench {

class ScratchNetns {
 public:
  // Makes the namespaces "<prefix>-<pid>-<suffix>" for each suffix; an error message (and
  // nothing left behind) when one cannot be made.
  std::optional<std::string> make(const std::string& prefix,
                                  const std::vector<std::string>& suffixes);
  ~ScratchNetns();
  ScratchNetns() = default;
  ScratchNetns(const ScratchNetns&) = delete;
  ScratchNetns& operator=(const ScratchNetns&) = delete;

  const std::string& name(std::size_t i) const { return names_.at(i); }

 private:
  std::vector<std::string> names_;
};

// A name made unique by the pid, for devices: "<prefix><pid><suffix>", at most 15 characters.
std::string pid_name(const std::string& prefix, const std::string& suffix);

// nullopt when the process may make namespaces (is root), else the reason to skip.
std::optional<std::string> needs_root();

}  // namespace synack::bench
