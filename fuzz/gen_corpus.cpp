// Writes the seed corpora under fuzz/corpus/<target>/ from real packets: two stacks on the
// simulator play a handshake, a transfer both ways over a lossy path (so SACK and
// retransmissions appear), a FIN close with TIME_WAIT, an abort (RST), a connection refused,
// UDP to an open and a closed port (ICMP port unreachable); every frame either host sends
// is recorded and cut into each target's input format.
//
//   build-fuzz/fuzz/gen_corpus fuzz/corpus      (scripts/fuzz.sh --seeds does this)
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "link/capture.hpp"
#include "link/sim/network.hpp"
#include "link/sim/node.hpp"
#include "sim_api_ops.hpp"
#include "synack/stack.hpp"
#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"
#include "wire/udp.hpp"

using namespace synack;
using namespace synack::fuzz;
namespace fs = std::filesystem;

namespace {

using Frame = std::vector<std::uint8_t>;

struct Recorder final : link::CaptureSink {
  void on_capture(link::Direction dir, wire::Bytes frame, Instant) override {
    if (dir == link::Direction::out) frames.emplace_back(frame.begin(), frame.end());
  }
  std::vector<Frame> frames;
};

struct StackNode final : sim::Node {
  StackNode(sim::Network& net, sim::SimLink& l, Recorder& r, Ipv4Address address)
      : capture(l, r), stack(capture, net, {.address = address}) {}
  void poll(Instant now) override { stack.poll(now); }
  std::optional<Instant> next_deadline() const override { return stack.next_deadline(); }
  link::CaptureLink capture;
  Stack stack;
};

constexpr Ipv4Address kA{198, 18, 0, 1};
constexpr Ipv4Address kB{198, 18, 0, 2};

std::vector<Frame> record() {
  Recorder rec;
  sim::Network net(7, {.delay = milliseconds(5)});
  sim::SimLink& link_a = net.add_host(kA.to_u32());
  sim::SimLink& link_b = net.add_host(kB.to_u32());
  StackNode a(net, link_a, rec, kA);
  StackNode b(net, link_b, rec, kB);
  net.add_node(a, &link_a);  // with its link: an arrival wakes the node
  net.add_node(b, &link_b);
  std::vector<std::uint8_t> data(20000, 'd');
  std::vector<std::uint8_t> buf(65536);
  std::size_t n = 0;

  // Handshake, a lossy transfer both ways, FIN close, TIME_WAIT.
  net.set_path(kA.to_u32(), kB.to_u32(), {.delay = milliseconds(5), .loss = 0.1});
  SocketId l = -1, c = -1, s = -1;
  (void)b.stack.tcp_socket(l);
  (void)b.stack.bind(l, {Ipv4Address(), 80});
  (void)b.stack.listen(l, 8);
  (void)a.stack.tcp_socket(c);
  (void)a.stack.connect(c, {kB, 80});
  for (int i = 0; i < 100 && b.stack.accept(l, s); ++i) net.run_for(milliseconds(100));
  (void)a.stack.write(c, data, n);
  (void)b.stack.write(s, std::span(data).first(5000), n);
  for (int i = 0; i < 60; ++i) {
    if (i < 30) (void)a.stack.write(c, std::span(data).first(8000), n);
    net.run_for(milliseconds(100));
    (void)b.stack.read(s, buf, n);
    (void)a.stack.read(c, buf, n);
  }
  net.set_path(kA.to_u32(), kB.to_u32(), {.delay = milliseconds(5)});
  (void)a.stack.close(c);
  net.run_for(milliseconds(100));
  (void)b.stack.read(s, buf, n);
  (void)b.stack.close(s);
  net.run_for(seconds(70));

  // An abort: SO_LINGER 0, close() sends RST.
  (void)a.stack.tcp_socket(c);
  (void)a.stack.connect(c, {kB, 80});
  for (int i = 0; i < 100 && b.stack.accept(l, s); ++i) net.run_for(milliseconds(100));
  (void)a.stack.setsockopt(c, Option::linger, 0);
  (void)a.stack.close(c);
  net.run_for(milliseconds(100));
  (void)b.stack.close(s);

  // Refused: RST for a SYN to a closed port.
  (void)a.stack.tcp_socket(c);
  (void)a.stack.connect(c, {kB, 81});
  net.run_for(milliseconds(100));
  (void)a.stack.close(c);

  // UDP to an open port, and to a closed one (ICMP port unreachable).
  SocketId u = -1, v = -1;
  (void)b.stack.udp_socket(u);
  (void)b.stack.bind(u, {Ipv4Address(), 53});
  (void)a.stack.udp_socket(v);
  (void)a.stack.send_to(v, std::span(data).first(100), {kB, 53});
  (void)a.stack.send_to(v, std::span(data).first(30), {kB, 54});
  net.run_for(milliseconds(100));
  (void)b.stack.close(u);
  (void)a.stack.close(v);
  (void)b.stack.close(l);
  net.run_for(seconds(200));
  return rec.frames;
}

void write(const fs::path& dir, const std::string& name, const Frame& bytes) {
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
}

Frame cat(const Frame& a, wire::Bytes b) {
  Frame r = a;
  r.insert(r.end(), b.begin(), b.end());
  return r;
}

// One packet in stack_packets' format: control byte, length, bytes.
void append_packet(Frame& out, std::uint8_t control, const Frame& packet) {
  out.push_back(control);
  out.push_back(static_cast<std::uint8_t>(packet.size() >> 8));
  out.push_back(static_cast<std::uint8_t>(packet.size()));
  out.insert(out.end(), packet.begin(), packet.end());
}

// sim_api's encoding: choices read one byte each from the end, injected bytes from the front.
struct Script {
  Frame front, back;
  void step(std::uint8_t op, std::uint8_t side, std::uint8_t pick, std::uint8_t arg) {
    for (std::uint8_t b : {op, side, pick, arg}) back.push_back(b);
  }
  Frame bytes() const { return cat(front, Frame(back.rbegin(), back.rend())); }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: gen_corpus CORPUS_DIR\n");
    return 2;
  }
  const fs::path root = argv[1];
  const std::vector<Frame> frames = record();
  std::map<std::string, int> kept;  // one file per distinct (kind, flags), a few each
  const auto keep = [&](const std::string& key, int most) { return kept[key]++ < most; };

  Frame packets;  // stack_packets: frames turned toward its connections
  int index = 0;
  for (const Frame& f : frames) {
    auto ip = wire::Ipv4View::parse(f);
    if (!ip) continue;
    const std::string id = std::to_string(index++);
    Frame addrs(8);
    ip->src().store(&addrs[0]);
    ip->dst().store(&addrs[4]);
    if (ip->protocol() == wire::kTcp) {
      auto tcp = wire::TcpView::parse(ip->payload());
      const std::string key = "tcp" + std::to_string(tcp->flags().bits()) +
                              (tcp->payload().empty() ? "" : "d") +
                              (tcp->options().sack_block_count ? "s" : "");
      if (!keep(key, 2)) continue;
      write(root / "ipv4", id, f);
      write(root / "tcp", id, cat(addrs, ip->payload()));
      write(root / "tcp_options", id,
            cat(Frame{static_cast<std::uint8_t>(tcp->flags().has(wire::TcpFlags::syn))},
                tcp->options_bytes()));
      // Toward connection (index % 6), sequence numbers made relative, a little payload.
      Frame p(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(
                                         f.size(), 20 + tcp->header_length() + 64)));
      wire::store_be16(&p[20], static_cast<std::uint16_t>(index % 6));
      wire::store_be32(&p[24], tcp->flags().has(wire::TcpFlags::syn) ? 0xffffffffu : 0);
      wire::store_be32(&p[28], 0);
      Frame one;
      append_packet(one, 0x07 | 0x30, p);
      write(root / "stack_packets", id, one);
      if (packets.size() < 2000) append_packet(packets, 0x07 | 0x20, p);
    } else if (ip->protocol() == wire::kUdp) {
      if (!keep("udp", 2)) continue;
      write(root / "ipv4", id, f);
      write(root / "udp", id, cat(addrs, ip->payload()));
      Frame one;
      append_packet(one, 0x03, f);
      write(root / "stack_packets", id, one);
    } else if (ip->protocol() == wire::kIcmp) {
      if (!keep("icmp", 2)) continue;
      write(root / "ipv4", id, f);
      write(root / "icmp", id, Frame(ip->payload().begin(), ip->payload().end()));
      Frame one;
      append_packet(one, 0x03, f);
      write(root / "stack_packets", id, one);
    }
  }
  write(root / "stack_packets", "sequence", packets);
  // An echo request, for the ICMP parser and the stack's echo reply.
  Frame echo(64);
  const std::size_t e = wire::write_icmp_echo_request(echo, 1, 1, wire::Bytes(echo.data(), 16));
  echo.resize(e);
  write(root / "icmp", "echo", echo);
  Frame ping(20 + e);
  wire::write_ipv4_header(ping, {.src = kA, .dst = kB, .protocol = wire::kIcmp}, e);
  std::copy(echo.begin(), echo.end(), ping.begin() + 20);
  write(root / "ipv4", "echo", ping);
  Frame one;
  append_packet(one, 0x03, ping);
  write(root / "stack_packets", "echo", one);

  // sim_api: the classic flow, UDP, and an injected segment.

  Script classic;
  classic.step(kTcpSocket, 1, 0, 0);
  classic.step(kBind, 1, 0, 1);  // port 80
  classic.step(kListen, 1, 0, 4);
  classic.step(kTcpSocket, 0, 0, 0);
  classic.step(kConnect, 0, 0, 5);  // 198.18.0.2:80
  classic.step(kRun, 0, 0, 50);
  classic.step(kAccept, 1, 0, 0);
  classic.step(kWrite, 0, 0, 100);
  classic.step(kRun, 0, 0, 100);
  classic.step(kRead, 1, 1, 255);
  classic.step(kWrite, 1, 1, 20);
  classic.step(kRun, 0, 0, 50);
  classic.step(kRead, 0, 0, 255);
  classic.step(kShutdown, 0, 0, 1);  // write
  classic.step(kRun, 0, 0, 50);
  classic.step(kRead, 1, 1, 255);
  classic.step(kClose, 1, 1, 0);
  classic.step(kClose, 0, 0, 0);
  classic.step(kRun, 0, 0, 200);
  write(root / "sim_api", "classic", classic.bytes());
  Script udp;
  udp.step(kUdpSocket, 1, 0, 0);
  udp.step(kBind, 1, 0, 3);  // port 5000
  udp.step(kUdpSocket, 0, 0, 0);
  udp.step(kSendTo, 0, 0, 13);  // 198.18.0.2:5000
  udp.step(kSendTo, 0, 0, 9);   // 198.18.0.2:81, closed
  udp.step(kRun, 0, 0, 20);
  udp.step(kReceiveFrom, 1, 0, 255);
  udp.step(kObserve, 0, 0, 255);
  write(root / "sim_api", "udp", udp.bytes());
  Script inject = classic;
  for (const Frame& f : frames) {
    if (f.size() > 200 || inject.front.size() > 600) continue;
    inject.front.insert(inject.front.end(), f.begin(), f.end());
    inject.step(kInject, 1, 0, static_cast<std::uint8_t>(f.size()));
    inject.step(kRun, 1, 0, 10);
  }
  write(root / "sim_api", "inject", inject.bytes());
  std::printf("gen_corpus: %zu frames recorded into %s\n", frames.size(), root.c_str());
  return 0;
}
