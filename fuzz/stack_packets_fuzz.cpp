// Arbitrary bytes as IPv4 packets into a Stack that has a listener, a UDP socket and
// connections in several states: ESTABLISHED with data in flight both ways (one with
// timestamps, SACK and window scaling, one opened actively), CLOSE_WAIT, FIN_WAIT_2,
// TIME_WAIT and SYN_RECEIVED. Built the same way for every input.
//
// Input: packets, each [control byte][length, 2 bytes big-endian][bytes]. Control bits:
//   0x01  source and destination set to the peer and the stack
//   0x02  IPv4 total length and every checksum filled in
//   0x04  TCP ports, sequence and acknowledgment numbers taken as relative to connection
//         (source port % 6), so that the fuzzer lands in windows without guessing ISNs
//   0xf0  how long time moves on before the packet arrives (kSteps)
// Properties: nothing crashes or leaks; everything the stack sends is well formed
// (PacketLink); the stack's own debug invariant checks hold.
#include <array>
#include <cstring>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "packet_link.hpp"
#include "synack/stack.hpp"
#include "tcp/config.hpp"
#include "tcp/state.hpp"

using namespace synack;

namespace {

constexpr Ipv4Address kStack{198, 18, 0, 2};
constexpr Ipv4Address kPeer{198, 18, 0, 1};
constexpr std::size_t kMaxPackets = 64;
constexpr std::array<Duration, 16> kSteps = {
    Duration{},       microseconds(1),   milliseconds(1),   milliseconds(10),
    milliseconds(40), milliseconds(100), milliseconds(200), milliseconds(500),
    seconds(1),       seconds(2),        seconds(5),        seconds(10),
    seconds(30),      seconds(60),       seconds(120),      seconds(600)};

// One connection's numbers, for the relative mode.
struct Conn {
  std::uint16_t local_port = 0;
  std::uint16_t peer_port = 0;
  std::uint32_t peer_next = 0;   // the peer's next sequence number
  std::uint32_t stack_base = 0;  // the stack's ISS + 1
};

class Bench {
 public:
  Bench() : stack_(link_, clock_, config()) {}

  void poll() { stack_.poll(clock_.now()); }
  void advance(Duration d) {
    clock_.set(clock_.now() + d);
    poll();
  }

  void inject(const wire::TcpHeader& h, std::string_view payload = {}) {
    std::vector<std::uint8_t> frame(20 + 60 + payload.size());
    const std::size_t n = wire::write_tcp(
        wire::MutableBytes(frame.data() + 20, frame.size() - 20), h,
        wire::Bytes(reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()),
        kPeer.to_u32(), kStack.to_u32());
    FUZZ_CHECK(n > 0);
    wire::write_ipv4_header(wire::MutableBytes(frame.data(), 20),
                            {.src = kPeer, .dst = kStack, .protocol = wire::kTcp}, n);
    frame.resize(20 + n);
    link_.push(std::move(frame));
    poll();
  }

  // The next TCP segment the stack sent.
  wire::TcpHeader next() {
    while (auto frame = link_.pop()) {
      auto ip = wire::Ipv4View::parse(*frame);
      if (ip->protocol() != wire::kTcp) continue;
      return wire::TcpView::parse(ip->payload())->to_header();
    }
    FUZZ_CHECK(false && "the setup expected a segment");
    return {};
  }

  // Passive open from peer_port; ESTABLISHED, accepted unless `accept` is false.
  Conn open(std::uint16_t peer_port, std::uint32_t peer_iss, const wire::TcpOptions& options,
            SocketId* accepted) {
    using wire::TcpFlags;
    link_.clear();
    inject({.src_port = peer_port,
            .dst_port = 80,
            .seq = peer_iss,
            .flags = TcpFlags::syn,
            .window = 65535,
            .options = options});
    const wire::TcpHeader synack = next();
    wire::TcpOptions ack_options;
    if (options.timestamps)
      ack_options.timestamps = wire::TcpTimestamps{2, synack.options.timestamps->tsval};
    inject({.src_port = peer_port,
            .dst_port = 80,
            .seq = peer_iss + 1,
            .ack = synack.seq + 1,
            .flags = TcpFlags::ack,
            .window = 65535,
            .options = ack_options});
    FUZZ_CHECK(!stack_.accept(listener_, *accepted));
    link_.clear();
    return {80, peer_port, peer_iss + 1, synack.seq + 1};
  }

  void build() {
    using tcp::State;
    using wire::TcpFlags;
    FUZZ_CHECK(!stack_.tcp_socket(listener_));
    FUZZ_CHECK(!stack_.bind(listener_, {Ipv4Address(), 80}));
    FUZZ_CHECK(!stack_.listen(listener_, 8));
    SocketId udp = -1;
    FUZZ_CHECK(!stack_.udp_socket(udp));
    FUZZ_CHECK(!stack_.bind(udp, {Ipv4Address(), 53}));

    wire::TcpOptions full;
    full.mss = 1460;
    full.window_scale = 7;
    full.sack_permitted = true;
    full.timestamps = wire::TcpTimestamps{1, 0};
    wire::TcpOptions plain;
    plain.mss = 536;

    // ESTABLISHED, everything on: 3000 bytes in flight, 100 bytes received and unread, and
    // 100 more after a hole (out of order).
    SocketId a = -1;
    conns_[0] = open(40001, 1000, full, &a);
    std::vector<std::uint8_t> data(3000, 'x');
    std::size_t written = 0;
    FUZZ_CHECK(!stack_.write(a, data, written) && written == data.size());
    poll();
    wire::TcpOptions ts;
    ts.timestamps = wire::TcpTimestamps{3, 0};
    const std::string hundred(100, 'y');
    inject({.src_port = 40001,
            .dst_port = 80,
            .seq = conns_[0].peer_next,
            .ack = conns_[0].stack_base,
            .flags = TcpFlags::ack,
            .window = 1000,
            .options = ts},
           hundred);
    inject({.src_port = 40001,
            .dst_port = 80,
            .seq = conns_[0].peer_next + 300,
            .ack = conns_[0].stack_base,
            .flags = TcpFlags::ack,
            .window = 1000,
            .options = ts},
           hundred);
    conns_[0].peer_next += 100;

    // CLOSE_WAIT: the peer's FIN.
    SocketId b = -1;
    conns_[1] = open(40002, 2000, plain, &b);
    inject({.src_port = 40002,
            .dst_port = 80,
            .seq = conns_[1].peer_next,
            .ack = conns_[1].stack_base,
            .flags = TcpFlags::fin | TcpFlags::ack,
            .window = 65535});
    conns_[1].peer_next += 1;

    // FIN_WAIT_2: our FIN, ACKed.
    SocketId c = -1;
    conns_[2] = open(40003, 3000, plain, &c);
    FUZZ_CHECK(!stack_.shutdown(c, Shutdown::write));
    poll();
    inject({.src_port = 40003,
            .dst_port = 80,
            .seq = conns_[2].peer_next,
            .ack = conns_[2].stack_base + 1,
            .flags = TcpFlags::ack,
            .window = 65535});

    // TIME_WAIT: our FIN ACKed, then theirs.
    SocketId d = -1;
    conns_[3] = open(40004, 4000, plain, &d);
    FUZZ_CHECK(!stack_.shutdown(d, Shutdown::write));
    poll();
    inject({.src_port = 40004,
            .dst_port = 80,
            .seq = conns_[3].peer_next,
            .ack = conns_[3].stack_base + 1,
            .flags = TcpFlags::fin | TcpFlags::ack,
            .window = 65535});
    conns_[3].peer_next += 1;

    // SYN_RECEIVED: a SYN and nothing more.
    link_.clear();
    inject({.src_port = 40005,
            .dst_port = 80,
            .seq = 5000,
            .flags = TcpFlags::syn,
            .window = 65535,
            .options = full});
    conns_[4] = {80, 40005, 5001, next().seq + 1};

    // ESTABLISHED as client, with 200 bytes unread.
    SocketId e = -1;
    FUZZ_CHECK(!stack_.tcp_socket(e));
    link_.clear();
    FUZZ_CHECK(stack_.connect(e, {kPeer, 9000}) == std::errc::operation_in_progress);
    poll();
    const wire::TcpHeader syn = next();
    inject({.src_port = 9000,
            .dst_port = syn.src_port,
            .seq = 7000,
            .ack = syn.seq + 1,
            .flags = TcpFlags::syn | TcpFlags::ack,
            .window = 65535,
            .options = plain});
    conns_[5] = {syn.src_port, 9000, 7001, syn.seq + 1};
    inject({.src_port = 9000,
            .dst_port = syn.src_port,
            .seq = 7001,
            .ack = syn.seq + 1,
            .flags = TcpFlags::ack | TcpFlags::psh,
            .window = 65535},
           std::string(200, 'z'));
    conns_[5].peer_next += 200;

    FUZZ_CHECK(stack_.tcp_state(a) == State::Established);
    FUZZ_CHECK(stack_.tcp_state(b) == State::CloseWait);
    FUZZ_CHECK(stack_.tcp_state(c) == State::FinWait2);
    FUZZ_CHECK(stack_.tcp_state(d) == State::TimeWait);
    FUZZ_CHECK(stack_.tcp_state(e) == State::Established);
    sockets_ = {listener_, udp, a, b, c, d, e};
    link_.clear();
  }

  void feed(std::uint8_t control, wire::Bytes bytes) {
    advance(kSteps[control >> 4]);
    std::vector<std::uint8_t> p(bytes.begin(), bytes.end());
    if (p.size() >= 20) {
      if (control & 0x01) {
        kPeer.store(&p[12]);
        kStack.store(&p[16]);
      }
      const std::size_t ihl = std::size_t{static_cast<std::uint8_t>(p[0] & 0x0f)} * 4;
      if ((control & 0x04) && p[9] == wire::kTcp && ihl >= 20 && p.size() >= ihl + 20) {
        std::uint8_t* t = p.data() + ihl;
        const Conn& c = conns_[wire::load_be16(t) % conns_.size()];
        wire::store_be16(t, c.peer_port);
        wire::store_be16(t + 2, c.local_port);
        wire::store_be32(t + 4, wire::load_be32(t + 4) + c.peer_next);
        wire::store_be32(t + 8, wire::load_be32(t + 8) + c.stack_base);
      }
      if (control & 0x02) {
        p[0] = static_cast<std::uint8_t>(0x40 | (p[0] & 0x0f));
        fuzz::fix_checksums(p);
      }
    }
    link_.push(std::move(p));
    poll();
    link_.clear();
  }

  // Time runs on until everything due has happened; then the application reads what it
  // can and closes every socket, and time runs on again.
  void finish() {
    for (int i = 0; i < 4; ++i) advance(seconds(30));
    for (SocketId s : sockets_) {
      std::uint8_t buf[4096];
      std::size_t n = 0;
      (void)stack_.read(s, buf, n);
      (void)stack_.close(s);
    }
    for (int i = 0; i < 4; ++i) advance(seconds(30));
    link_.clear();
  }

 private:
  static StackConfig config() {
    StackConfig c;
    c.address = kStack;
    return c;
  }

  ManualClock clock_;
  fuzz::PacketLink link_;
  Stack stack_;
  SocketId listener_ = -1;
  std::array<Conn, 6> conns_{};
  std::vector<SocketId> sockets_;
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  return fuzz::entropic_off(argc, argv);
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Bench bench;
  bench.build();
  std::size_t at = 0;
  for (std::size_t packets = 0; packets < kMaxPackets && at + 3 <= size; ++packets) {
    const std::uint8_t control = data[at];
    const std::size_t length = std::min<std::size_t>(wire::load_be16(data + at + 1), size - at - 3);
    bench.feed(control, wire::Bytes(data + at + 3, length));
    at += 3 + length;
  }
  bench.finish();
  return 0;
}
