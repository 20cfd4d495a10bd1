// The stage every `synack demo` scenario plays on: a simulated world with two hosts, a
// client and a server, every trace event recorded, and the steps of the classic flow as
// small calls that run virtual time until they are done. A step that cannot finish in its
// time records a failure, and every later step does nothing, so a scenario reads as a
// straight line:
//
//   SocketId l = s.listen(80);
//   SocketId c = s.connect(80);
//   SocketId a = s.accept(l);
//   s.write(s.client, c, "GET / HTTP/1.1\r\n\r\n");
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sim/world.hpp"
#include "trace/recording.hpp"
#include "trace/tee.hpp"

namespace synack::tools {

inline constexpr Ipv4Address kClientAddress{198, 18, 0, 1};
inline constexpr Ipv4Address kServerAddress{198, 18, 0, 2};

struct SceneOptions {
  std::uint64_t seed = 1;
  Duration delay = milliseconds(5);  // one way
  double loss = 0;                   // probability each frame is lost, both ways
  double reorder = 0;                // probability each frame is held back 10 ms
};

class Scene {
 public:
  // Trace events go to the scene's recording and to `also` (optional).
  explicit Scene(const SceneOptions& options, trace::Sink* also = nullptr);
  ~Scene();
  Scene(const Scene&) = delete;
  Scene& operator=(const Scene&) = delete;

  sim::World world;
  sim::Host& client;
  sim::Host& server;
  trace::Recording recording;

  const SceneOptions& options() const { return options_; }
  // No random faults: what happens is only what the scenario scripts.
  bool clean() const { return options_.loss == 0 && options_.reorder == 0; }

  // The channel from one host to the other, for scripted faults.
  sim::Channel& to_server() {
    return world.net().channel(kClientAddress.to_u32(), kServerAddress.to_u32());
  }
  sim::Channel& to_client() {
    return world.net().channel(kServerAddress.to_u32(), kClientAddress.to_u32());
  }

  // --- Steps of the flow --------------------------------------------------------------------
  // Server: socket(), bind(port), listen(); the application then blocks in accept().
  SocketId listen(std::uint16_t port = 80);
  // Client: socket(), connect(server:port), which answers EINPROGRESS.
  SocketId connect(std::uint16_t port = 80);
  // Runs until the listener has a connection and accepts it.
  SocketId accept(SocketId listener);
  // Runs until the client's connect() ends; true when it succeeded. Not a failure when
  // `expect_error` is what it ended with (ECONNREFUSED, say).
  bool connected(SocketId s, std::error_code expect_error = {});
  // Writes all of `data`, running time while the send buffer is full.
  void write(sim::Host& host, SocketId s, std::string_view data);
  // Reads until `n` bytes came; returns them.
  std::string read(sim::Host& host, SocketId s, std::size_t n);
  // Reads until end of stream (read() = 0); returns what came before it.
  std::string read_to_eof(sim::Host& host, SocketId s);
  // Reads until the call fails; returns the error (ECONNRESET, say).
  std::error_code read_error(sim::Host& host, SocketId s);
  void shutdown(sim::Host& host, SocketId s, Shutdown how);
  void close(sim::Host& host, SocketId s);
  void setsockopt(sim::Host& host, SocketId s, Option option, int value);
  // Runs time until `done` holds; a failure named `what` if it does not within `limit`.
  bool run_until(const std::function<bool()>& done, Duration limit, std::string_view what);
  void run_for(Duration d) { world.run_for(d); }
  // Runs until neither host holds a connection (TIME_WAIT included).
  bool all_closed(Duration limit = seconds(130));

  // --- The end -------------------------------------------------------------------------------
  // Checks something the scenario must end with; a failure when it does not hold.
  void expect(bool holds, std::string_view what);
  // Says, in one line, how the scenario ended (printed under the ladder).
  void set_outcome(std::string text) { outcome_ = std::move(text); }
  bool ok() const { return failures_.empty(); }
  const std::vector<std::string>& failures() const { return failures_; }
  const std::string& outcome() const { return outcome_; }
  void fail(std::string what);

  // An application-level step the stack does not report (a blocking call's return), shown
  // beside the host's column like a socket call.
  void note_call(sim::Host& host, SocketId s, std::string_view name, std::string detail,
                 std::string result);

 private:
  class LinkDrops;
  SceneOptions options_;
  trace::Tee tee_;
  std::unique_ptr<LinkDrops> link_drops_;
  std::vector<std::string> failures_;
  std::string outcome_;
};

}  // namespace synack::tools
