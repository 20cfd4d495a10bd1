#include "tools/scenarios.hpp"

#include <array>

#include "stack/counters.hpp"

namespace synack::tools {

std::span<const Scenario> scenarios() {
  static constexpr std::array<Scenario, 15> kAll{{
      {"classic", "the whole flow: listen, connect, request, response, close, TIME_WAIT",
       play_classic},
      {"handshake", "the three-way handshake, from socket() to accept()", play_handshake},
      {"transfer", "a 10 kB response in full segments, ACKed as they come", play_transfer},
      {"close", "the four-way close: FIN, ACK, FIN, ACK, then 2*MSL of TIME_WAIT", play_close},
      {"simultaneous-close", "both sides close at once: FIN_WAIT_1, CLOSING, TIME_WAIT each",
       play_simultaneous_close},
      {"half-close", "the client shuts down writing and still reads the response", play_half_close},
      {"lost-syn", "the first SYN is lost; it is sent again when the 1 s RTO fires", play_lost_syn},
      {"lost-data", "a response segment is lost; SACK and duplicate ACKs repair it",
       play_lost_data},
      {"reorder", "a segment arrives late; the receiver SACKs the ones past it", play_reorder},
      {"old-duplicate-syn", "a delayed copy of the SYN arrives after the connection is up",
       play_old_duplicate_syn},
      {"time-wait", "the last ACK is lost; the peer's FIN comes again and is ACKed again",
       play_time_wait},
      {"refused", "connect() to a port nobody listens on: RST, ECONNREFUSED", play_refused},
      {"reset", "the client aborts (SO_LINGER 0, close): RST, ECONNRESET at the server",
       play_reset},
      {"zero-window", "the server does not read; its window shuts; persist probes; it opens",
       play_zero_window},
      {"udp", "the same request and response as two datagrams", play_udp},
  }};
  return kAll;
}

const Scenario* find_scenario(std::string_view name) {
  for (const Scenario& sc : scenarios()) {
    if (sc.name == name) return &sc;
  }
  return nullptr;
}

Conn open_connection(Scene& s, std::uint16_t port) {
  Conn c;
  c.listener = s.listen(port);
  c.client = s.connect(port);
  s.connected(c.client);
  c.server = s.accept(c.listener);
  return c;
}

void request_response(Scene& s, const Conn& c, std::string_view response) {
  s.write(s.client, c.client, kRequest);
  s.expect(s.read(s.server, c.server, kRequest.size()) == kRequest || !s.ok(),
           "the server to read the request");
  s.write(s.server, c.server, response);
  s.expect(s.read(s.client, c.client, response.size()) == response || !s.ok(),
           "the client to read the response");
}

void close_client_first(Scene& s, const Conn& c) {
  s.close(s.client, c.client);
  s.expect(s.read_to_eof(s.server, c.server).empty(), "no data before EOF");
  s.close(s.server, c.server);
  s.all_closed();
}

}  // namespace synack::tools
