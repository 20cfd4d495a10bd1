// Running an external program (tshark, xmllint, the synack tool) from a test, bounded in
// time, on files in a temporary directory the test makes and removes.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace synack::testing {

// A fresh directory under the system's temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

struct CommandResult {
  int exit_code = -1;  // 124 when the time limit killed it
  std::string output;  // stdout (stderr goes to /dev/null unless the command redirects it)
};

// Runs `command` under sh with `timeout`, capturing stdout.
CommandResult run_command(const std::string& command, int timeout_seconds = 60);

// True when `program` is on PATH.
bool have_program(const std::string& program);

}  // namespace synack::testing
