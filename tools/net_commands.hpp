// The real-network subcommands of `synack`: netns, serve, connect, get. Each parses its own
// options (CLI11), so the dispatcher in synack_main.cpp needs one line:
//   if (auto rc = synack::tools::run_net_command(argc, argv)) return *rc;
#pragma once

#include <optional>

namespace synack::tools {

// Runs argv[1] if it names a real-network command; nullopt otherwise.
std::optional<int> run_net_command(int argc, const char* const* argv);

// argv[0] is the subcommand's name.
int netns(int argc, const char* const* argv);
int serve(int argc, const char* const* argv);
int connect(int argc, const char* const* argv);
int get(int argc, const char* const* argv);

// For `synack --help`.
inline constexpr const char* kNetCommandsUsage =
    "  netns   make or remove a network namespace with a TUN device for synack\n"
    "  serve   a server (echo, discard, HTTP) on the real network\n"
    "  connect netcat: stdin to a TCP connection, the connection to stdout\n"
    "  get     download a URL over HTTP/1.1\n";

}  // namespace synack::tools
