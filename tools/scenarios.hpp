// The scenarios of `synack demo`, each a small function that plays one story of TCP (or
// UDP) on a Scene and says how it must end. `synack demo --list` names them.
#pragma once

#include <span>
#include <string_view>

#include "tools/scene.hpp"

namespace synack::tools {

struct Scenario {
  std::string_view name;     // "lost-syn"
  std::string_view summary;  // one line for --list
  void (*play)(Scene&);
};

// Every scenario, the classic flow first (the default).
std::span<const Scenario> scenarios();
const Scenario* find_scenario(std::string_view name);

// --- Steps several scenarios share ------------------------------------------------------------
inline constexpr std::string_view kRequest = "GET / HTTP/1.1\r\nHost: synack\r\n\r\n";
inline constexpr std::string_view kResponse = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nhello\n";

struct Conn {
  SocketId listener = -1;
  SocketId client = -1;
  SocketId server = -1;  // the accepted socket
};

// The server listens on `port`, the client connects, the server accepts.
Conn open_connection(Scene& s, std::uint16_t port = 80);
// The client sends the request; the server reads it and answers with `response`.
void request_response(Scene& s, const Conn& c, std::string_view response = kResponse);
// The client closes first, the server reads EOF and closes; TIME_WAIT ends on the client.
void close_client_first(Scene& s, const Conn& c);

// The scenarios, by theme (scenarios_flow.cpp, scenarios_faults.cpp).
void play_classic(Scene& s);
void play_handshake(Scene& s);
void play_transfer(Scene& s);
void play_close(Scene& s);
void play_simultaneous_close(Scene& s);
void play_half_close(Scene& s);
void play_udp(Scene& s);
void play_lost_syn(Scene& s);
void play_lost_data(Scene& s);
void play_reorder(Scene& s);
void play_old_duplicate_syn(Scene& s);
void play_time_wait(Scene& s);
void play_refused(Scene& s);
void play_reset(Scene& s);
void play_zero_window(Scene& s);

}  // namespace synack::tools
