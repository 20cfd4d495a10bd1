// The raw-peer harness: the test plays the remote TCP. It builds each segment by hand,
// injects it into one stack, and asserts the exact segments that come back, in the manner
// of packetdrill scripts. Time is a manual clock the test moves.
//
//   RawPeer p;
//   p.listen(80);
//   p.inject({.flags = SYN, .seq = 1000, .options = {.mss = 1460}});
//   auto synack = p.expect({.flags = SYN | ACK, .ack = 1001});
#pragma once

#include <deque>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "link/link.hpp"
#include "stack/counters.hpp"
#include "synack/stack.hpp"
#include "tcp/config.hpp"
#include "tcp/state.hpp"
#include "wire/tcp.hpp"

namespace synack {
// Virtual times print as seconds in test failures.
void PrintTo(Instant t, std::ostream* os);
}  // namespace synack

namespace synack::tcp {
// States print as netstat spells them ("FIN_WAIT_2") in test failures.
void PrintTo(State s, std::ostream* os);
}  // namespace synack::tcp

namespace synack::testing {

inline constexpr wire::TcpFlags SYN = wire::TcpFlags::syn;
inline constexpr wire::TcpFlags ACK = wire::TcpFlags::ack;
inline constexpr wire::TcpFlags FIN = wire::TcpFlags::fin;
inline constexpr wire::TcpFlags RST = wire::TcpFlags::rst;
inline constexpr wire::TcpFlags PSH = wire::TcpFlags::psh;

// A Link whose other end is the test: frames the test queues are received by the stack;
// frames the stack sends are kept for the test to inspect.
class QueueLink final : public link::Link {
 public:
  void send(wire::Bytes frame, Instant now) override;
  std::size_t receive(Instant now, link::FrameSink& sink, std::size_t budget) override;
  std::size_t mtu() const override { return 1500; }

  // `trusted`: delivered through on_trusted_frame, as a TUN device with offloads delivers
  // the kernel's frames whose checksum it left to complete.
  void push_incoming(std::vector<std::uint8_t> frame, bool trusted = false) {
    incoming_.push_back({std::move(frame), trusted});
  }

  // Segmentation offload as a device with TSO offers it: 0 (the default) none; otherwise
  // the largest frame send_segmented takes. Each such call is logged, then cut in
  // software (link/tcp_segmentation.hpp), so the test also sees the pieces as frames.
  std::size_t segmented_frame_limit = 0;
  std::size_t max_segmented_frame() const override { return segmented_frame_limit; }
  void send_segmented(wire::Bytes frame, Instant now, std::size_t segment_size) override;
  struct Segmented {
    std::vector<std::uint8_t> frame;  // as the stack handed it over
    std::size_t segment_size = 0;
  };
  std::deque<Segmented> segmented_log;
  std::optional<std::vector<std::uint8_t>> pop_outgoing();
  std::size_t outgoing() const { return outgoing_.size(); }

  struct Sent {
    Instant at;
    std::vector<std::uint8_t> frame;
  };
  std::deque<Sent> sent_log;  // every frame ever sent, with its time

 private:
  struct Incoming {
    std::vector<std::uint8_t> frame;
    bool trusted = false;
  };
  std::deque<Incoming> incoming_;
  std::deque<std::vector<std::uint8_t>> outgoing_;
};

// A segment the test sends. Sequence numbers are absolute.
struct In {
  wire::TcpFlags flags;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint16_t window = 65535;
  wire::TcpOptions options;
  std::string payload;
  std::uint16_t src_port = 0;  // 0: the peer's default port
  std::uint16_t dst_port = 0;  // 0: the port the test last listened on or connected from
};

// What the test expects back; unset fields are not checked.
struct Out {
  wire::TcpFlags flags;
  std::optional<std::uint32_t> seq;
  std::optional<std::uint32_t> ack;
  std::optional<std::uint16_t> window;
  std::optional<std::size_t> len;  // payload length
  std::optional<std::string> payload;
};

struct Seen {
  Instant at;
  wire::TcpHeader header;
  std::vector<std::uint8_t> payload;
  std::string describe() const;
};

// `s` as `out` expects it, each difference a test failure (nothing at all is one too).
Seen check_seen(const std::optional<Seen>& s, const Out& out);

// A connection the harness opened: the stack's socket and both initial sequence numbers,
// so a test can write `c.iss + 1` for the stack's first data byte and `c.peer_iss + 1` for
// the peer's.
struct Opened {
  SocketId socket = -1;
  SocketId listener = -1;  // passive opens only
  std::uint32_t iss = 0;   // the stack's
  std::uint32_t peer_iss = 0;
};

class RawPeer {
 public:
  static constexpr Ipv4Address kLocal{198, 18, 0, 2};   // the stack under test
  static constexpr Ipv4Address kRemote{198, 18, 0, 1};  // the test, playing the peer
  static constexpr std::uint16_t kRemotePort = 40000;

  // `stack`: the stack's settings (limits, secret); its address is always kLocal.
  explicit RawPeer(tcp::Config config = test_config(), StackConfig stack = {});
  static tcp::Config test_config();

  Stack& stack() { return stack_; }
  QueueLink& link() { return link_; }
  const Counters& counters() const { return stack_.counters(); }
  Instant now() const { return clock_.now(); }

  // Moves time forward and lets the stack do what is due.
  void advance(Duration d);
  // The same, to an instant (not before now()). With next_deadline() allowed to be early,
  // this is how a test pins a timer: nothing at `t - 1 µs`, the effect at `t`.
  void advance_to(Instant t);
  // Moves time through the stack's deadlines until it sends something or its state
  // changes nothing more (at most `limit` ahead). False if nothing was due in the limit.
  // The wheel may name a deadline early (DESIGN: never late), so this may take steps.
  bool advance_to_next_deadline(Duration limit = seconds(3600));
  void poll() { stack_.poll(clock_.now()); }

  // Injects a segment from the peer (checksummed unless `bad_checksum`) and polls.
  void inject(const In& in, bool bad_checksum = false);
  // Injects several segments and polls once: the stack takes them in as one batch of
  // frames, as from a link that had them all waiting.
  void inject_together(std::initializer_list<In> segments);
  // Injects raw IPv4 bytes.
  void inject_raw(std::vector<std::uint8_t> frame);

  // The next TCP segment the stack sent, or nullopt.
  std::optional<Seen> next();
  // The next segment must exist and match; returns it.
  Seen expect(const Out& out);
  // No segment was sent.
  void expect_nothing();

  // Sets up a listener on `port` (socket, bind, listen).
  SocketId listen(std::uint16_t port, int backlog = 16);
  // Handshake with the stack as server: SYN from the peer at peer_iss, SYN+ACK back,
  // ACK. Returns the stack's ISS. The connection is waiting in the accept queue.
  std::uint32_t handshake_to(std::uint16_t port, std::uint32_t peer_iss,
                             const wire::TcpOptions& syn_options = default_syn_options());
  // Active open from the stack to the peer: returns the socket; the SYN is next().
  SocketId connect_from_stack(std::uint16_t remote_port = kRemotePort);

  // ESTABLISHED as server: listen(port), handshake_to(), accept(). The peer's final ACK
  // offers `window`.
  Opened accept_established(std::uint32_t peer_iss = 1000, std::uint16_t window = 65535,
                            const wire::TcpOptions& syn_options = default_syn_options(),
                            std::uint16_t port = 80);
  // ESTABLISHED as client: connect_from_stack(), SYN+ACK from the peer offering `window`,
  // and the stack's ACK.
  Opened connect_established(std::uint32_t peer_iss = 5000, std::uint16_t window = 65535,
                             const wire::TcpOptions& syn_options = default_syn_options());

  // accept_established(), then on to `state` by the shortest exchange, keeping the socket
  // open (shutdown(write), not close()). Our FIN is iss + 1, the peer's peer_iss + 1:
  //   FIN_WAIT_1  our FIN sent               FIN_WAIT_2  our FIN sent and ACKed
  //   CLOSE_WAIT  the peer's FIN ACKed       LAST_ACK    the peer's FIN ACKed, our FIN sent
  //   CLOSING     the FINs crossed           TIME_WAIT   both FINs sent and ACKed
  Opened accept_in_state(tcp::State state);

  // The application's calls, each followed by poll() as a driver would run the stack.
  std::error_code write(SocketId s, std::string_view data, std::size_t* written = nullptr);
  std::error_code read(SocketId s, std::string& out, std::size_t max = 1 << 20);
  std::error_code close(SocketId s);
  std::error_code shutdown(SocketId s, Shutdown how);

  // Connections in `state`, orphans (closed sockets) included.
  std::uint64_t in_state(tcp::State state) const {
    return counters().tcp.in_state[static_cast<std::size_t>(state)];
  }

  static wire::TcpOptions default_syn_options();
  std::uint16_t local_port() const { return local_port_; }

 private:
  std::vector<std::uint8_t> frame_of(const In& in, bool bad_checksum) const;

  ManualClock clock_;
  QueueLink link_;
  Stack stack_;
  std::uint16_t local_port_ = 0;
};

}  // namespace synack::testing
