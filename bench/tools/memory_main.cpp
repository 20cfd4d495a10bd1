// synack_memory N: the memory scenarios at N connections, ours and the kernel's, one line
// each (bytes per connection per endpoint, bytes per TIME_WAIT entry). For recording
// figures until `synack bench` runs them.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/peers/kernel_memory.hpp"
#include "bench/scenarios/memory.hpp"

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100'000;
  const std::string which = argc > 2 ? argv[2] : "all";
  const auto show = [](const char* what, const synack::bench::Run& r) {
    if (r.ok()) {
      std::printf("%-32s %10.1f B\n", what, r.value);
    } else {
      std::printf("%-32s %s%s\n", what, r.failed ? "FAILED: " : "skipped: ", r.skipped.c_str());
    }
  };
  int failed = 0;
  const auto run = [&](const char* what, synack::bench::Run r) {
    show(what, r);
    failed |= r.failed ? 1 : 0;
  };
  if (which == "all" || which == "idle")
    run("synack idle established", synack::bench::idle_connection_bytes(n));
  if (which == "all" || which == "tw") run("synack TIME_WAIT", synack::bench::time_wait_bytes(n));
  if (which == "all" || which == "kernel") {
    run("kernel idle established", synack::bench::kernel_idle_connection_bytes(n));
    run("kernel TIME_WAIT", synack::bench::kernel_time_wait_bytes(n));
  }
  return failed;
}
