// Scenarios of the flow as it goes when nothing goes wrong: the handshake, data, the ways
// a connection closes, and the same exchange over UDP.
#include <string>

#include "stack/counters.hpp"
#include "tools/scenarios.hpp"

namespace synack::tools {
namespace {

tcp::State state_of(sim::Host& host, SocketId s) {
  return host.stack.tcp_state(s);
}

std::uint64_t retransmitted(Scene& s) {
  return s.client.stack.counters().tcp.retrans_segs + s.server.stack.counters().tcp.retrans_segs;
}

}  // namespace

void play_classic(Scene& s) {
  const Conn c = open_connection(s);
  request_response(s, c);
  close_client_first(s, c);
  s.expect(retransmitted(s) == 0 || !s.clean(), "no retransmission on a clean network");
  s.set_outcome("request and response delivered; both sides CLOSED, the client after 2*MSL");
}

void play_handshake(Scene& s) {
  const Conn c = open_connection(s);
  s.expect(state_of(s.client, c.client) == tcp::State::Established, "the client ESTABLISHED");
  s.expect(state_of(s.server, c.server) == tcp::State::Established, "the server ESTABLISHED");
  s.set_outcome(
      "both sides ESTABLISHED: connect() returned after one round trip, accept() "
      "after one and a half");
}

void play_transfer(Scene& s) {
  const Conn c = open_connection(s);
  std::string body(10000, 'x');
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 26);
  request_response(s, c, body);
  close_client_first(s, c);
  s.set_outcome(std::to_string(body.size()) + " bytes delivered in " +
                std::to_string(s.server.stack.counters().tcp.out_segs) +
                " server segments; both sides CLOSED");
}

void play_close(Scene& s) {
  const Conn c = open_connection(s);
  close_client_first(s, c);
  s.set_outcome(
      "FIN, ACK, FIN, ACK: the server CLOSED at the last ACK, the client after "
      "2*MSL in TIME_WAIT");
}

void play_simultaneous_close(Scene& s) {
  const Conn c = open_connection(s);
  // Both applications shut down writing at the same instant: the FINs cross.
  s.shutdown(s.client, c.client, Shutdown::write);
  s.shutdown(s.server, c.server, Shutdown::write);
  s.run_until(
      [&] {
        return state_of(s.client, c.client) == tcp::State::TimeWait &&
               state_of(s.server, c.server) == tcp::State::TimeWait;
      },
      seconds(5), "TIME_WAIT on both sides");
  s.close(s.client, c.client);
  s.close(s.server, c.server);
  s.all_closed();
  s.set_outcome("the FINs crossed: each side went FIN_WAIT_1, CLOSING, TIME_WAIT, CLOSED");
}

void play_half_close(Scene& s) {
  const Conn c = open_connection(s);
  s.write(s.client, c.client, kRequest);
  s.shutdown(s.client, c.client, Shutdown::write);  // "that is all I will send"
  s.expect(s.read_to_eof(s.server, c.server) == kRequest || !s.ok(),
           "the server to read the request, then EOF");
  s.expect(state_of(s.server, c.server) == tcp::State::CloseWait, "the server in CLOSE_WAIT");
  s.write(s.server, c.server, kResponse);
  s.run_for(milliseconds(20));  // the response travels while the client sits in FIN_WAIT_2
  s.close(s.server, c.server);
  s.expect(s.read_to_eof(s.client, c.client) == kResponse || !s.ok(),
           "the client to read the response after its own FIN");
  s.close(s.client, c.client);
  s.all_closed();
  s.set_outcome("the client's FIN came first, yet the response still flowed to it");
}

void play_udp(Scene& s) {
  SocketId server = -1, client = -1;
  auto& srv = s.server.stack;
  auto& cli = s.client.stack;
  if (auto ec = srv.udp_socket(server)) s.fail("socket(): " + ec.message());
  if (auto ec = srv.bind(server, {Ipv4Address(), 80})) s.fail("bind(): " + ec.message());
  if (auto ec = cli.udp_socket(client)) s.fail("socket(): " + ec.message());
  auto bytes = [](std::string_view t) {
    return std::span(reinterpret_cast<const std::uint8_t*>(t.data()), t.size());
  };
  if (auto ec = cli.send_to(client, bytes(kRequest), {kServerAddress, 80})) {
    s.fail("sendto(): " + ec.message());
  }
  std::vector<std::uint8_t> buf(2048);
  std::size_t n = 0;
  Endpoint from;
  s.run_until([&] { return !srv.receive_from(server, buf, n, &from); }, seconds(5),
              "the request datagram");
  s.expect(std::string_view(reinterpret_cast<const char*>(buf.data()), n) == kRequest || !s.ok(),
           "the request intact");
  if (s.ok()) {
    if (auto ec = srv.send_to(server, bytes(kResponse), from)) s.fail("sendto(): " + ec.message());
  }
  s.run_until([&] { return !cli.receive_from(client, buf, n, &from); }, seconds(5),
              "the response datagram");
  s.expect(std::string_view(reinterpret_cast<const char*>(buf.data()), n) == kResponse || !s.ok(),
           "the response intact");
  s.close(s.client, client);
  s.close(s.server, server);
  s.expect(cli.connection_count() + srv.connection_count() == 0, "no connection state at all");
  s.set_outcome("two datagrams, no handshake, no ACKs, no close: UDP keeps no connection");
}

}  // namespace synack::tools
