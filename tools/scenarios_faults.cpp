// Scenarios where something goes wrong, scripted on the simulated channels so the same
// thing happens every run: lost and late segments, an old duplicate SYN, a lost last ACK,
// a refused connection, an abort, and a receiver that stops reading.
#include <string>

#include "stack/counters.hpp"
#include "tools/scenarios.hpp"
#include "trace/packet_fields.hpp"

namespace synack::tools {
namespace {

const TcpCounters& tcp_of(sim::Host& h) {
  return h.stack.counters().tcp;
}

// Matches the nth frame (1-based) that carries TCP data, counting from when it is made.
sim::FramePredicate nth_data_segment(int n) {
  return [n, seen = 0](wire::Bytes frame) mutable {
    const auto f = trace::parse_packet(frame);
    return f && f->is_tcp() && !f->payload.empty() && ++seen == n;
  };
}

bool is_syn(wire::Bytes frame) {
  const auto f = trace::parse_packet(frame);
  return f && f->is_tcp() && f->flags == wire::TcpFlags::syn;
}

// A response of `segments` full segments (MSS 1460 less 12 bytes of timestamps).
std::string full_segments(int segments) {
  std::string body(static_cast<std::size_t>(segments) * 1448, '.');
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 26);
  return body;
}

}  // namespace

void play_lost_syn(Scene& s) {
  s.to_server().drop_nth(1);
  const Conn c = open_connection(s);
  close_client_first(s, c);
  s.expect(tcp_of(s.client).retrans_segs == 1, "the SYN sent twice");
  s.set_outcome("the lost SYN was sent again after the initial RTO of 1 s; then all went well");
}

void play_lost_data(Scene& s) {
  const Conn c = open_connection(s);
  s.to_client().drop_matching(nth_data_segment(2), 1);
  request_response(s, c, full_segments(5));
  close_client_first(s, c);
  s.expect(tcp_of(s.server).retrans_segs >= 1, "the lost segment sent again");
  s.expect(tcp_of(s.server).timeouts == 0 || !s.clean(), "recovery without a timeout");
  s.set_outcome(
      "the client SACKed past the hole; three duplicate ACKs brought a fast "
      "retransmit, " +
      std::to_string(tcp_of(s.server).retrans_segs) + " segment(s) sent again");
}

void play_reorder(Scene& s) {
  const Conn c = open_connection(s);
  // The first response segment is 2 ms late: the other two overtake it.
  s.to_client().hold_matching(nth_data_segment(1), milliseconds(2), 1);
  request_response(s, c, full_segments(3));
  close_client_first(s, c);
  s.expect(tcp_of(s.client).out_of_order >= 1, "data out of order at the client");
  s.expect(tcp_of(s.server).retrans_segs == 0 || !s.clean(), "no retransmission");
  s.set_outcome(
      "two segments overtook the first; the receiver held and SACKed them, and "
      "two duplicate ACKs were not enough to retransmit");
}

void play_old_duplicate_syn(Scene& s) {
  // The network holds the first SYN for 1.5 s: the client sends it again at 1 s and the
  // connection is up before the old copy turns up.
  s.to_server().hold_matching(is_syn, milliseconds(1500), 1);
  const Conn c = open_connection(s);
  s.run_for(milliseconds(600));  // the old copy arrives at 1.505 s
  request_response(s, c);
  close_client_first(s, c);
  s.expect(tcp_of(s.client).estab_resets + tcp_of(s.server).estab_resets == 0,
           "the connection not reset by the old SYN");
  s.set_outcome(
      "the old SYN met an ESTABLISHED connection, which answered with an ACK "
      "(RFC 5961 §4) and went on");
}

void play_time_wait(Scene& s) {
  const Conn c = open_connection(s);
  s.close(s.client, c.client);
  s.expect(s.read_to_eof(s.server, c.server).empty(), "EOF at the server");
  s.to_server().drop_nth(1);  // the client's next segment is its ACK of the server's FIN
  s.close(s.server, c.server);
  s.all_closed();
  s.expect(tcp_of(s.server).retrans_segs == 1, "the server's FIN sent twice");
  s.set_outcome(
      "TIME_WAIT kept the connection's memory: the repeated FIN was ACKed again, "
      "and the server reached CLOSED");
}

void play_refused(Scene& s) {
  const SocketId client = s.connect(81);
  s.connected(client, std::make_error_code(std::errc::connection_refused));
  s.close(s.client, client);
  s.expect(tcp_of(s.server).no_port == 1, "the server to find no socket on port 81");
  s.expect(tcp_of(s.client).in_rsts == 1, "the client to receive one RST");
  s.all_closed(seconds(1));
  s.set_outcome(
      "no socket on port 81: the server answered the SYN with RST+ACK, and "
      "connect() failed with ECONNREFUSED");
}

void play_reset(Scene& s) {
  const Conn c = open_connection(s);
  request_response(s, c);
  s.setsockopt(s.client, c.client, Option::linger, 0);
  s.close(s.client, c.client);  // SO_LINGER 0: abort, RST instead of FIN
  const std::error_code ec = s.read_error(s.server, c.server);
  s.expect(ec == std::errc::connection_reset || !s.ok(), "ECONNRESET at the server");
  s.close(s.server, c.server);
  s.all_closed(seconds(1));
  s.expect(tcp_of(s.client).out_rsts == 1, "one RST sent");
  s.expect(tcp_of(s.server).estab_resets == 1, "the server's connection reset");
  s.set_outcome(
      "close() with SO_LINGER 0 sent RST at once: no FIN, no TIME_WAIT, and the "
      "server's read() failed with ECONNRESET");
}

void play_zero_window(Scene& s) {
  Conn c;
  c.listener = s.listen(80);
  s.setsockopt(s.server, c.listener, Option::receive_buffer, 2896);  // two segments
  c.client = s.connect(80);
  s.connected(c.client);
  c.server = s.accept(c.listener);
  const std::string data = full_segments(4);
  s.write(s.client, c.client, data.substr(0, 2896));
  // The server does not read: the window shuts, and the client's persist timer probes it.
  s.write(s.client, c.client, data.substr(2896));
  s.run_until([&] { return tcp_of(s.client).zero_window_probes >= 2; }, seconds(10),
              "two zero-window probes");
  s.expect(s.read(s.server, c.server, data.size()) == data || !s.ok(), "all the data");
  close_client_first(s, c);
  s.expect(tcp_of(s.client).zero_window_probes >= 2, "zero-window probes");
  s.set_outcome("the window shut; " + std::to_string(tcp_of(s.client).zero_window_probes) +
                " probes kept asking; reading opened it and the rest flowed");
}

}  // namespace synack::tools
