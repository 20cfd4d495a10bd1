// Bad input from the wire (DESIGN.md principle 8): a raw node beside the stacks sends the
// server every kind of garbage while a transfer runs between a client and the server.
// Each frame is dropped or answered as the RFCs say, and counted under its reason: every
// test states the exact change of every drop counter (any counter it does not name must
// not move), what came back to the raw node, and that the server received exactly the
// frames sent to it. The transfer completes byte-exact in both directions.
#include <gtest/gtest.h>

#include <map>

#include "link/sim/rng.hpp"
#include "stack/counters.hpp"
#include "support/flow.hpp"
#include "support/raw_node.hpp"
#include "trace/trace.hpp"
#include "wire/checksum.hpp"
#include "wire/icmp.hpp"
#include "wire/udp.hpp"

namespace synack::testing {
namespace {

using tcp::State;
using wire::TcpFlags;

constexpr Ipv4Address kRawAddr{198, 18, 0, 66};
constexpr std::uint16_t kListenPort = 80;
constexpr std::uint16_t kClosedPort = 81;
constexpr std::size_t kTransferBytes = 1'000'000;

// Every counter of a drop, a reply or an effect on a connection, by name.
// clang-format off
#define SYNACK_WATCHED_COUNTERS(X) \
  X(ip, in_hdr_errors) \
  X(ip, in_bad_checksum) \
  X(ip, in_addr_errors) \
  X(ip, in_unknown_protos) \
  X(ip, in_bad_source) \
  X(ip, reasm_reqds) \
  X(ip, reasm_oks) \
  X(ip, reasm_fails) \
  X(ip, reasm_timeouts) \
  X(ip, reasm_overlaps) \
  X(ip, reasm_duplicates) \
  X(tcp, malformed) \
  X(tcp, bad_checksum) \
  X(tcp, bad_options) \
  X(tcp, no_port) \
  X(tcp, out_of_window) \
  X(tcp, bad_ack) \
  X(tcp, old_ack) \
  X(tcp, rst_ignored) \
  X(tcp, syn_dropped) \
  X(tcp, no_ack_flag) \
  X(tcp, bad_flags) \
  X(tcp, in_rsts) \
  X(tcp, out_rsts) \
  X(tcp, estab_resets) \
  X(tcp, attempt_fails) \
  X(tcp, passive_opens) \
  X(tcp, active_opens) \
  X(tcp, listen_overflows) \
  X(tcp, out_of_order) \
  X(tcp, timeouts) \
  X(tcp, retrans_segs) \
  X(udp, in_datagrams) \
  X(udp, in_errors) \
  X(udp, no_ports) \
  X(icmp, in_errors) \
  X(icmp, in_echos) \
  X(icmp, out_echo_reps) \
  X(icmp, in_dest_unreachs) \
  X(icmp, out_dest_unreachs) \
  X(icmp, out_time_excds) \
  X(icmp, out_parm_probs)
// clang-format on

using CounterDeltas = std::map<std::string, std::uint64_t>;

CounterDeltas deltas(const Counters& before, const Counters& after) {
  CounterDeltas d;
#define SYNACK_DELTA(group, field) d[#group "." #field] = after.group.field - before.group.field;
  SYNACK_WATCHED_COUNTERS(SYNACK_DELTA)
#undef SYNACK_DELTA
  return d;
}

// The deltas are exactly `expected` (unnamed counters: 0), apart from the counters in
// `sums`, each group of which must add up to its total.
void expect_counted(
    const Counters& before, const Counters& after, const CounterDeltas& expected,
    const std::vector<std::pair<std::vector<std::string>, std::uint64_t>>& sums = {}) {
  CounterDeltas d = deltas(before, after);
  for (const auto& [names, total] : sums) {
    std::uint64_t sum = 0;
    for (const std::string& n : names) {
      sum += d.at(n);
      d.erase(n);
    }
    EXPECT_EQ(sum, total) << "sum of " << ::testing::PrintToString(names);
  }
  for (const auto& [name, value] : d) {
    const auto it = expected.find(name);
    EXPECT_EQ(value, it == expected.end() ? 0u : it->second) << name;
  }
}

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Rewrites the IPv4 header of `f` with `change` and recomputes its checksum.
template <class F>
void reheader(Frame& f, F change) {
  change(f);
  // An IHL the frame cannot hold is what some tests want: sum what there is.
  const std::size_t ihl = std::min(std::size_t{f[0] & 0x0fu} * 4, f.size());
  f[10] = f[11] = 0;
  wire::store_be16(f.data() + 10, wire::internet_checksum(wire::Bytes(f.data(), ihl)));
}

// How RFC 791 validation must classify a frame, worked out here from first principles
// (in the order Ipv4View::parse documents) to predict the counters without asking the
// parser under test.
enum class IpFate { header_error, bad_checksum, valid };
IpFate ip_fate(const Frame& f) {
  if (f.size() < 20 || (f[0] >> 4) != 4) return IpFate::header_error;
  const std::size_t ihl = std::size_t{f[0] & 0x0fu} * 4;
  if (ihl < 20 || ihl > f.size()) return IpFate::header_error;
  const std::size_t total = wire::load_be16(f.data() + 2);
  if (total < ihl || total > f.size()) return IpFate::header_error;
  if (wire::internet_checksum(wire::Bytes(f.data(), ihl)) != 0) return IpFate::bad_checksum;
  return IpFate::valid;
}

struct BadInput : ::testing::Test {
  sim::World world{21, sim::ChannelParams{.delay = milliseconds(5)}};
  sim::Host& client = world.add_host(kClientAddr);
  sim::Host& server = world.add_host(kServerAddr);
  RawNode raw{world.net(), kRawAddr};
  sim::Rng rng{0x5eed};
  Pair p;
  Endpoint client_end;  // the live connection's client side

  // The transfer: both directions at once, an application pumping each socket.
  const std::string up = pattern(kTransferBytes, 11), down = pattern(kTransferBytes, 12);
  std::size_t up_sent = 0, down_sent = 0;
  std::size_t up_limit = kTransferBytes;  // the client writes this much of `up`
  std::string up_got, down_got;

  std::uint64_t frames_sent = 0;  // by the raw node to the server
  Counters before;

  void SetUp() override {
    p = open_pair(world, client, server, kListenPort);
    ASSERT_FALSE(client.stack.getsockname(p.client, client_end));
    pump();
    world.run_until(
        [&] {
          pump();
          return false;
        },
        milliseconds(20));  // the transfer is well under way
    ASSERT_GT(up_got.size(), 0u);
    ASSERT_LT(up_got.size(), kTransferBytes / 2);
    before = server.stack.counters();
  }

  void pump() {
    auto push = [](sim::Host& h, SocketId s, const std::string& data, std::size_t limit,
                   std::size_t& sent) {
      std::size_t n = 0;
      if (sent < limit) h.stack.write(s, bytes_of(data).subspan(sent, limit - sent), n);
      sent += n;
    };
    auto pull = [](sim::Host& h, SocketId s, std::string& got) {
      std::uint8_t buf[16384];
      std::size_t n = 0;
      while (!h.stack.read(s, buf, n) && n > 0) got.append(reinterpret_cast<char*>(buf), n);
    };
    push(client, p.client, up, up_limit, up_sent);
    push(server, p.server, down, kTransferBytes, down_sent);
    pull(server, p.server, up_got);
    pull(client, p.client, down_got);
  }

  void run_for(Duration d) {
    world.run_until(
        [&] {
          pump();
          return false;
        },
        d);
  }

  // Sends the frames to the server, ten every millisecond, with the transfer running.
  // `by_ip`: routed by their IPv4 destination; otherwise put on the server's wire as they are.
  void barrage(const std::vector<Frame>& frames, bool by_ip = false) {
    for (std::size_t i = 0; i < frames.size(); ++i) {
      if (by_ip) {
        raw.send(frames[i]);
      } else {
        raw.send_to_host(kServerAddr, frames[i]);
      }
      ++frames_sent;
      if (i % 10 == 9) run_for(milliseconds(1));
    }
    run_for(milliseconds(20));  // the last ones arrive, and any replies come back
  }

  // A TCP segment from the raw node to the server.
  Frame segment(std::uint16_t dst_port, TcpFlags flags, std::uint32_t seq, std::uint32_t ack = 0,
                const std::string& payload = "", Ipv4Address src = kRawAddr,
                std::uint16_t src_port = 40000) {
    wire::TcpHeader h;
    h.src_port = src_port;
    h.dst_port = dst_port;
    h.seq = seq;
    h.ack = ack;
    h.flags = flags;
    h.window = 1024;
    return tcp_frame(src, kServerAddr, h, bytes_of(payload));
  }
  // A segment that claims to come from the client, on the live connection's 4-tuple.
  Frame spoofed(TcpFlags flags, std::uint32_t seq, std::uint32_t ack,
                std::uint16_t window = 65535) {
    wire::TcpHeader h;
    h.src_port = client_end.port;
    h.dst_port = kListenPort;
    h.seq = seq;
    h.ack = ack;
    h.flags = flags;
    h.window = window;
    return tcp_frame(kClientAddr, kServerAddr, h);
  }
  std::uint32_t random32() { return static_cast<std::uint32_t>(rng.next()); }

  // What the raw node got back: TCP segments, parsed.
  std::vector<wire::TcpHeader> replies() {
    std::vector<wire::TcpHeader> out;
    while (auto f = raw.pop()) {
      auto ip = wire::Ipv4View::parse(*f);
      EXPECT_TRUE(ip);
      if (!ip) continue;
      EXPECT_EQ(ip->src(), kServerAddr);
      if (ip->protocol() != wire::kTcp) {
        ADD_FAILURE() << "unexpected protocol " << int{ip->protocol()};
        continue;
      }
      auto tcp = wire::TcpView::parse(ip->payload());
      EXPECT_TRUE(tcp);
      if (tcp) out.push_back(tcp->to_header());
    }
    return out;
  }

  // The transfer finishes byte-exact; the connection was never disturbed; every frame
  // that reached the server was counted on arrival.
  void TearDown() override {
    if (HasFatalFailure()) return;
    ASSERT_TRUE(world
                    .run_until(
                        [&] {
                          pump();
                          return up_got.size() == up_limit && down_got.size() == kTransferBytes;
                        },
                        seconds(30))
                    .done)
        << up_got.size() << " and " << down_got.size() << " bytes arrived";
    EXPECT_TRUE(same_bytes(up_got, up.substr(0, up_limit)));
    EXPECT_TRUE(same_bytes(down_got, down));
    EXPECT_EQ(client.stack.tcp_state(p.client), State::Established);
    EXPECT_EQ(server.stack.tcp_state(p.server), State::Established);
    for (const sim::Host* h : {&client, &server}) {
      EXPECT_EQ(h->stack.counters().tcp.estab_resets, 0u);
      EXPECT_EQ(h->stack.counters().tcp.in_rsts, 0u);
    }
    ASSERT_FALSE(client.stack.close(p.client));
    EXPECT_EQ(read_to_eof(world, server, p.server), "");
    ASSERT_FALSE(server.stack.close(p.server));
    ASSERT_FALSE(server.stack.close(p.listener));
    EXPECT_TRUE(run_until_no_connections(world, {&client, &server}, seconds(200)));
    EXPECT_EQ(server.stack.timers_armed(), 0u);
    // Nothing in flight now: every frame the client and the raw node sent the server
    // arrived (the paths lose nothing) and was counted on arrival.
    EXPECT_EQ(server.stack.counters().ip.in_receives,
              frames_sent + client.stack.counters().ip.out_requests);
  }
};

TEST_F(BadInput, RandomBytesAreHeaderErrorsOrBadChecksums) {
  std::vector<Frame> frames;
  std::uint64_t header_errors = 0, bad_checksums = 0;
  while (frames.size() < 3000) {
    Frame f(rng.below(200));
    for (auto& b : f) b = static_cast<std::uint8_t>(rng.next());
    if (f.size() >= 20 && rng.chance(0.5)) {
      // Half look like IPv4 (version, IHL and total length right), to reach the checksum.
      f[0] = 0x45;
      wire::store_be16(f.data() + 2, static_cast<std::uint16_t>(f.size()));
    }
    const IpFate fate = ip_fate(f);
    if (fate == IpFate::valid) continue;  // a random valid header: not what this tests
    (fate == IpFate::header_error ? header_errors : bad_checksums) += 1;
    frames.push_back(std::move(f));
  }
  ASSERT_GT(header_errors, 1000u);
  ASSERT_GT(bad_checksums, 500u);
  barrage(frames);
  expect_counted(before, server.stack.counters(),
                 {{"ip.in_hdr_errors", header_errors}, {"ip.in_bad_checksum", bad_checksums}});
  EXPECT_EQ(raw.received_total(), 0u) << "garbage is never answered";
}

TEST_F(BadInput, MutatedFramesAreAllCaughtByAChecksumOrAParser) {
  // Valid frames of each protocol, each with one random bit flipped: the Internet
  // checksum catches every single-bit error, unless a header check fails first.
  const std::vector<Frame> templates = {
      spoofed(TcpFlags::ack | TcpFlags::psh, 12345, 67890),
      segment(kListenPort, TcpFlags::syn, 1000),
      udp_frame({kRawAddr, 5000}, {kServerAddr, 53}, bytes_of("query")),
      icmp_echo_request(kRawAddr, kServerAddr, 1, 2, bytes_of("ping data")),
  };
  std::vector<Frame> frames;
  for (int i = 0; i < 2000; ++i) {
    Frame f = templates[rng.below(templates.size())];
    const std::size_t bit = rng.below(f.size() * 8);
    f[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    frames.push_back(std::move(f));
  }
  barrage(frames);
  expect_counted(before, server.stack.counters(), {},
                 {{{"ip.in_hdr_errors", "ip.in_bad_checksum", "tcp.malformed", "tcp.bad_checksum",
                    "udp.in_errors", "icmp.in_errors"},
                   2000}});
  EXPECT_EQ(raw.received_total(), 0u);
}

TEST_F(BadInput, BrokenIpv4Headers) {
  const Frame good = segment(kListenPort, TcpFlags::syn, 7);
  std::vector<Frame> frames;
  for (std::ptrdiff_t n = 0; n < 20; ++n) frames.emplace_back(good.begin(), good.begin() + n);
  for (const int first : {0x65, 0x44, 0x4f, 0x05}) {  // version 6, IHL 4, IHL 15, version 0
    Frame f = good;
    reheader(f, [&](Frame& g) { g[0] = static_cast<std::uint8_t>(first); });
    frames.push_back(f);  // 4
  }
  for (const int total : {19, 50, 2000}) {  // below the header, past the frame
    Frame f = good;
    reheader(f,
             [&](Frame& g) { wire::store_be16(g.data() + 2, static_cast<std::uint16_t>(total)); });
    frames.push_back(f);  // 3
  }
  const std::size_t header_errors = frames.size();  // 27
  for (int i = 0; i < 10; ++i) {
    Frame f = good;
    f[10] ^= static_cast<std::uint8_t>(1 + i);  // the header checksum itself is wrong
    frames.push_back(f);
  }
  barrage(frames);
  expect_counted(before, server.stack.counters(),
                 {{"ip.in_hdr_errors", header_errors}, {"ip.in_bad_checksum", 10}});
  EXPECT_EQ(raw.received_total(), 0u);
}

TEST_F(BadInput, FragmentsOtherDestinationsAndImpossibleSources) {
  std::vector<Frame> frames;
  // Fragments: first (MF) and middle (MF, offset) with 20 octets, not a multiple of 8, are
  // refused; a last one (offset 1480) is held, a copy of it dropped as a duplicate, and
  // one with other bytes at the same place drops the datagram as an overlap: nothing is
  // left to time out.
  auto fragment = [&](int flags_offset, std::uint32_t seq) {
    Frame f = segment(kListenPort, TcpFlags::syn, seq);
    reheader(f, [&](Frame& g) {
      wire::store_be16(g.data() + 4, 77);  // one identification for all
      wire::store_be16(g.data() + 6, static_cast<std::uint16_t>(flags_offset));
    });
    return f;
  };
  frames.push_back(fragment(0x2000, 1));
  frames.push_back(fragment(0x2000 | 185, 1));
  frames.push_back(fragment(185, 1));
  frames.push_back(fragment(185, 1));
  frames.push_back(fragment(185, 2));
  // For another host (delivered on the server's wire anyway), or for everyone.
  for (const Ipv4Address dst : {Ipv4Address(198, 18, 0, 77), Ipv4Address(255, 255, 255, 255)}) {
    Frame f = segment(kListenPort, TcpFlags::syn, 2);
    reheader(f, [&](Frame& g) { dst.store(g.data() + 16); });
    frames.push_back(f);
  }
  // Sources no real peer can have (RFC 1122 §3.2.1.3): broadcast, multicast, unspecified,
  // loopback, and the server's own address (a LAND attack): a SYN, and a ping (a smurf).
  // And our /24's directed broadcast and network address.
  for (const Ipv4Address src : {Ipv4Address(255, 255, 255, 255), Ipv4Address(224, 0, 0, 1),
                                Ipv4Address(), Ipv4Address(127, 0, 0, 1), kServerAddr,
                                Ipv4Address(198, 18, 0, 255), Ipv4Address(198, 18, 0, 0)}) {
    frames.push_back(segment(kListenPort, TcpFlags::syn, 3, 0, "", src));
    frames.push_back(icmp_echo_request(src, kServerAddr, 9, 9, bytes_of("smurf")));
  }
  barrage(frames);
  expect_counted(before, server.stack.counters(),
                 {{"ip.reasm_reqds", 5},
                  {"ip.reasm_fails", 3},
                  {"ip.reasm_overlaps", 1},
                  {"ip.reasm_duplicates", 1},
                  {"ip.in_addr_errors", 2},
                  {"ip.in_bad_source", 14}});
  EXPECT_EQ(server.stack.connection_count(), 1u) << "no SYN made a connection";
  EXPECT_EQ(raw.received_total(), 0u);
}

TEST_F(BadInput, BrokenTcpHeaders) {
  std::vector<Frame> frames;
  const Frame good = segment(kListenPort, TcpFlags::syn, 100);
  // Truncated: the IPv4 header is right, the TCP header is 0..19 bytes.
  for (std::size_t n = 0; n < 20; ++n) {
    Frame f(good.begin(), good.begin() + 20 + static_cast<std::ptrdiff_t>(n));
    reheader(
        f, [&](Frame& g) { wire::store_be16(g.data() + 2, static_cast<std::uint16_t>(g.size())); });
    frames.push_back(f);  // 20
  }
  // Data offset below 5 words, or past the end of the segment.
  for (const int offset : {0, 4, 6, 15}) {
    Frame f = good;
    f[20 + 12] = static_cast<std::uint8_t>(offset << 4);
    frames.push_back(f);  // 4
  }
  // Options with a length of 0 or 1 (MSS, window scale, timestamps, an unknown kind), or
  // running past the header: each makes the options walk impossible.
  for (const std::array<std::uint8_t, 4> options : {std::array<std::uint8_t, 4>{2, 0, 0, 0},
                                                    {2, 1, 0, 0},
                                                    {3, 0, 0, 0},
                                                    {8, 1, 0, 0},
                                                    {99, 0, 0, 0},
                                                    {1, 1, 99, 1},
                                                    {2, 4, 5, 0xb4 /* ok */},
                                                    {1, 1, 2, 8}}) {
    wire::TcpHeader h;
    h.src_port = 40000;
    h.dst_port = kListenPort;
    h.seq = 5;
    h.flags = TcpFlags::syn;
    Frame seg(24);
    EXPECT_EQ(
        wire::write_tcp(seg, h, wire::Bytes(options), kRawAddr.to_u32(), kServerAddr.to_u32()),
        24u);
    seg[12] = 0x60;  // the four bytes are options, not payload
    seg[16] = seg[17] = 0;
    wire::store_be16(
        seg.data() + 16,
        wire::transport_checksum(kRawAddr.to_u32(), kServerAddr.to_u32(), wire::kTcp, seg));
    frames.push_back(ipv4_frame({.src = kRawAddr, .dst = kServerAddr, .protocol = wire::kTcp},
                                seg));  // 8, one of them well formed
  }
  // A bad checksum: one on the live connection with data in it, one a SYN to the listener.
  {
    Frame f = spoofed(TcpFlags::ack | TcpFlags::psh, 1, 1);
    Frame data = segment(kListenPort, TcpFlags::ack, 1, 1, "not for you");
    for (Frame* g : {&f, &data}) {
      (*g)[20 + 16] ^= 0x5a;
      frames.push_back(*g);
    }
    Frame syn = good;
    syn[20 + 17] ^= 0x01;
    frames.push_back(syn);  // 3
  }
  barrage(frames);
  // The well-formed MSS option is a SYN from the raw node: a connection attempt that the
  // raw node never completes. It is the one frame answered.
  expect_counted(
      before, server.stack.counters(),
      {{"tcp.malformed", 20 + 4 + 7}, {"tcp.bad_checksum", 3}, {"tcp.passive_opens", 1}});
  const auto got = replies();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].flags, TcpFlags::syn | TcpFlags::ack);
  EXPECT_EQ(got[0].ack, 6u);
  EXPECT_EQ(got[0].options.mss, 1460) << "MSS 1460 came through, the wire's own 1460";
}

// Flag combinations no opener sends, to the listening port, to a closed port, and ACKs
// to the listener: each dropped or answered as RFC 9293 §3.10.7.1-2 says.
TEST_F(BadInput, OddFlagsToTheListenerAndToAClosedPort) {
  constexpr std::uint32_t kSeq = 0x10000000;
  const TcpFlags none, syn = TcpFlags::syn, fin = TcpFlags::fin, rst = TcpFlags::rst,
                       ack = TcpFlags::ack;
  struct Case {
    std::uint16_t port;
    TcpFlags flags;
    std::uint32_t ack;
    std::string payload;
    std::optional<TcpFlags> reply;  // what comes back, if anything
    std::uint32_t reply_seq, reply_ack;
  };
  const Case cases[] = {
      // To the listener. SYN+FIN: dropped (as Linux does: no real opener sends it, scanners
      // do). SYN+RST and RST: an RST in LISTEN is ignored (§3.10.7.2 first). No flags, or
      // FIN alone: every segment but a SYN must carry an ACK (fourth: drop). An ACK, and
      // SYN+ACK, get <SEQ=SEG.ACK><CTL=RST> (second).
      {kListenPort, syn | fin, 0, "", std::nullopt, 0, 0},
      {kListenPort, syn | rst, 0, "", std::nullopt, 0, 0},
      {kListenPort, rst, 0, "", std::nullopt, 0, 0},
      {kListenPort, none, 0, "data, no flags", std::nullopt, 0, 0},
      {kListenPort, fin, 0, "", std::nullopt, 0, 0},
      {kListenPort, ack, 0xabcdef01, "", rst, 0xabcdef01, 0},
      {kListenPort, syn | ack, 0x12345678, "", rst, 0x12345678, 0},
      // To a port nobody listens on (§3.10.7.1): all but an RST get an RST; a segment
      // without ACK is acknowledged by it: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
      {kClosedPort, syn | fin, 0, "", rst | ack, 0, kSeq + 2},
      {kClosedPort, syn | rst, 0, "", std::nullopt, 0, 0},
      {kClosedPort, none, 0, "xyz", rst | ack, 0, kSeq + 3},
      {kClosedPort, ack, 0x0badcafe, "", rst, 0x0badcafe, 0},
      {kClosedPort, fin | TcpFlags::psh | TcpFlags::urg, 0, "", rst | ack, 0, kSeq + 1},
  };
  std::vector<Frame> frames;
  std::uint16_t src_port = 41000;  // a 4-tuple of its own for each case
  for (const Case& c : cases)
    frames.push_back(segment(c.port, c.flags, kSeq, c.ack, c.payload, kRawAddr, src_port++));
  barrage(frames);

  expect_counted(before, server.stack.counters(),
                 {{"tcp.bad_flags", 1},
                  {"tcp.rst_ignored", 2},
                  {"tcp.no_ack_flag", 2},
                  {"tcp.bad_ack", 2},
                  {"tcp.no_port", 5},
                  {"tcp.out_rsts", 2 + 4}});
  const auto got = replies();
  std::size_t next = 0;
  src_port = 41000;
  for (const Case& c : cases) {
    SCOPED_TRACE(src_port);
    const std::uint16_t from = src_port++;
    if (!c.reply) continue;
    ASSERT_LT(next, got.size());
    const wire::TcpHeader& r = got[next++];
    EXPECT_EQ(r.src_port, c.port);
    EXPECT_EQ(r.dst_port, from);
    EXPECT_EQ(r.flags, *c.reply);
    EXPECT_EQ(r.seq, c.reply_seq);
    EXPECT_EQ(r.ack, c.reply_ack);
  }
  EXPECT_EQ(next, got.size()) << "no other replies";
  EXPECT_EQ(server.stack.connection_count(), 1u) << "nothing made a connection";
}

// A blind attacker who knows the 4-tuple but not the sequence numbers (RFC 5961): RSTs
// with random sequence numbers are outside the window (dropped) or inside but not exactly
// at RCV.NXT (a challenge ACK to the real client); none resets the connection. ACKs and
// bare segments with random numbers are outside the window (an ACK in reply) or, inside
// it, acknowledge something never sent or long acknowledged.
TEST_F(BadInput, BlindRstsAndAcksWithRandomNumbersDoNotHurtTheConnection) {
  std::vector<Frame> frames;
  for (int i = 0; i < 1000; ++i) frames.push_back(spoofed(TcpFlags::rst, random32(), 0));
  for (int i = 0; i < 1000; ++i) {
    frames.push_back(spoofed(TcpFlags::rst | TcpFlags::ack, random32(), random32()));
  }
  for (int i = 0; i < 1000; ++i) {
    frames.push_back(spoofed(TcpFlags::ack, random32(), random32(),
                             static_cast<std::uint16_t>(rng.below(65536))));
  }
  for (int i = 0; i < 500; ++i) frames.push_back(spoofed(TcpFlags(), random32(), 0));
  barrage(frames, /*by_ip=*/true);
  expect_counted(
      before, server.stack.counters(), {},
      {{{"tcp.out_of_window", "tcp.rst_ignored", "tcp.bad_ack", "tcp.old_ack", "tcp.no_ack_flag"},
        3500}});
  const CounterDeltas d = deltas(before, server.stack.counters());
  EXPECT_GT(d.at("tcp.out_of_window"), 3400u) << "nearly all miss a 64 KB window";
  EXPECT_EQ(raw.received_total(), 0u) << "replies go to the real client, not the attacker";
}

// Remembers the next sequence number of the last TCP segment a host sent.
struct SendSequence final : trace::Sink {
  std::optional<std::uint32_t> next;
  std::uint32_t ack = 0;  // the last acknowledgment number sent
  void on_packet(Instant, Ipv4Address, trace::Direction dir, wire::Bytes packet,
                 std::string_view) override {
    if (dir != trace::Direction::out) return;
    auto ip = wire::Ipv4View::parse(packet);
    if (!ip || ip->protocol() != wire::kTcp) return;
    auto tcp = wire::TcpView::parse(ip->payload());
    if (!tcp) return;
    const auto len = static_cast<std::uint32_t>(tcp->payload().size()) +
                     (tcp->flags().has(TcpFlags::syn) ? 1u : 0u) +
                     (tcp->flags().has(TcpFlags::fin) ? 1u : 0u);
    next = tcp->seq() + len;
    ack = tcp->ack();
  }
};

// An attacker who has the sequence number right (in the window) but not the
// acknowledgment number: an ACK far below SND.UNA with a zero window. RFC 9293 §3.10.7.4
// updates the send window only for SND.UNA =< SEG.ACK =< SND.NXT (an older ACK "can be
// ignored"), and RFC 5961 §5.2 discards an ACK below SND.UNA - MAX.SND.WND with a
// challenge ACK. The server's stream to the client must not stop.
TEST_F(BadInput, AnInWindowSegmentWithAnAncientAckDoesNotCloseTheWindow) {
  // The client stops writing; the server keeps streaming to it.
  up_limit = up_sent;
  SendSequence client_seq;
  client.stack.set_trace(&client_seq);
  run_for(milliseconds(20));
  ASSERT_TRUE(client_seq.next);
  const std::uint32_t rcv_nxt = *client_seq.next;  // the server's RCV.NXT: the client is idle
  const std::uint32_t snd_una = client_seq.ack;    // about the server's SND.UNA
  const std::size_t down_before = down_got.size();
  frames_sent += 1;
  raw.send(spoofed(TcpFlags::ack, rcv_nxt + 1000, snd_una - 0x40000000u, 0));
  run_for(milliseconds(50));
  client.stack.set_trace(nullptr);
  expect_counted(before, server.stack.counters(),
                 {{"tcp.ack_too_old", 1}, {"tcp.challenge_acks", 1}});
  EXPECT_GT(down_got.size(), down_before + 100000) << "the stream goes on";
}

TEST_F(BadInput, BrokenUdpIcmpAndUnknownProtocols) {
  std::vector<Frame> frames;
  // UDP: shorter than its header, a length field past the end, a wrong checksum.
  for (const std::size_t n : {0u, 4u, 7u}) {
    frames.push_back(
        ipv4_frame({.src = kRawAddr, .dst = kServerAddr, .protocol = wire::kUdp}, Frame(n, 0x11)));
  }
  {
    Frame f = udp_frame({kRawAddr, 5000}, {kServerAddr, 53}, bytes_of("dns?"));
    wire::store_be16(f.data() + 20 + 4, 100);  // length 100 in a 12-byte datagram
    frames.push_back(f);
    Frame g = udp_frame({kRawAddr, 5000}, {kServerAddr, 53}, bytes_of("dns?"));
    g[20 + 6] ^= 0xff;
    ASSERT_NE(wire::load_be16(g.data() + 20 + 6), 0) << "0 would mean: no checksum";
    frames.push_back(g);
  }
  // ICMP: shorter than its header, a wrong checksum.
  frames.push_back(
      ipv4_frame({.src = kRawAddr, .dst = kServerAddr, .protocol = wire::kIcmp}, Frame{8, 0, 0}));
  {
    Frame f = icmp_echo_request(kRawAddr, kServerAddr, 1, 1, bytes_of("ping"));
    f[20 + 2] ^= 0x10;
    frames.push_back(f);
  }
  // A forged port unreachable quoting the live TCP connection: TCP takes no hard error
  // from ICMP (RFC 1122 §4.2.3.9: port unreachable is not for an established connection).
  {
    const Frame quoted = spoofed(TcpFlags::ack, 1, 1);  // as if the server had sent it...
    Frame from_server = quoted;
    reheader(from_server, [](Frame& g) {
      kServerAddr.store(g.data() + 12);
      kClientAddr.store(g.data() + 16);
    });
    Frame message(8 + from_server.size());
    const std::size_t n =
        wire::write_icmp_destination_unreachable(message, wire::kIcmpPortUnreachable, from_server);
    ASSERT_GT(n, 0u);
    message.resize(n);
    frames.push_back(
        ipv4_frame({.src = kClientAddr, .dst = kServerAddr, .protocol = wire::kIcmp}, message));
  }
  // Protocols nobody here speaks: GRE, ESP, 255. Answered with protocol unreachable
  // (RFC 1122 §3.2.2.1), quoting the datagram.
  for (const int proto : {47, 50, 255}) {
    frames.push_back(ipv4_frame(
        {.src = kRawAddr, .dst = kServerAddr, .protocol = static_cast<std::uint8_t>(proto)},
        Frame(16, 0)));
  }
  barrage(frames);
  expect_counted(before, server.stack.counters(),
                 {{"udp.in_errors", 5},
                  {"icmp.in_errors", 2},
                  {"icmp.in_dest_unreachs", 1},
                  {"ip.in_unknown_protos", 3},
                  {"icmp.out_dest_unreachs", 3}});
  for (const int proto : {47, 50, 255}) {
    SCOPED_TRACE(proto);
    const auto reply = raw.pop();
    ASSERT_TRUE(reply);
    auto ip = wire::Ipv4View::parse(*reply);
    ASSERT_TRUE(ip);
    EXPECT_EQ(ip->src(), kServerAddr);
    EXPECT_EQ(ip->dst(), kRawAddr);
    auto icmp = wire::IcmpView::parse(ip->payload());
    ASSERT_TRUE(icmp);
    EXPECT_EQ(icmp->type(), wire::kIcmpDestinationUnreachable);
    EXPECT_EQ(icmp->code(), wire::kIcmpProtocolUnreachable);
    auto quoted = icmp->quoted_ipv4();
    ASSERT_TRUE(quoted);
    EXPECT_EQ(quoted->protocol(), proto);
    EXPECT_EQ(quoted->payload().size(), 16u);
  }
  EXPECT_EQ(raw.pending(), 0u);
}

}  // namespace
}  // namespace synack::testing
