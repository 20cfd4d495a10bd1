// The small trace sinks and helpers, one by one: the tee, the pcap writer's bytes, the
// JSON and XML escaping, the ladder model's relative numbers and the fate of each packet.
#include <gtest/gtest.h>

#include <sstream>
#include <vector>

#include "trace/json_lines.hpp"
#include "trace/ladder_model.hpp"
#include "trace/ladder_svg.hpp"
#include "trace/ladder_text.hpp"
#include "trace/pcap_writer.hpp"
#include "trace/recording.hpp"
#include "trace/tee.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"

namespace synack::trace {
namespace {

constexpr Ipv4Address kA{198, 18, 0, 1};
constexpr Ipv4Address kB{198, 18, 0, 2};

// An IPv4 packet holding a TCP segment from a:1000 to b:80 (or back, with `reverse`).
std::vector<std::uint8_t> segment(std::uint16_t id, wire::TcpFlags flags, std::uint32_t seq,
                                  std::uint32_t ack, std::string_view payload = "",
                                  bool reverse = false, wire::TcpOptions options = {}) {
  std::vector<std::uint8_t> p(1500);
  wire::TcpHeader h;
  h.src_port = reverse ? 80 : 1000;
  h.dst_port = reverse ? 1000 : 80;
  h.seq = seq;
  h.ack = ack;
  h.flags = flags;
  h.window = 1000;
  h.options = options;
  const Ipv4Address src = reverse ? kB : kA, dst = reverse ? kA : kB;
  const auto data =
      std::span(reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size());
  const std::size_t len =
      wire::write_tcp(wire::MutableBytes(p).subspan(20), h, data, src.to_u32(), dst.to_u32());
  wire::write_ipv4_header(p, {.src = src, .dst = dst, .protocol = 6, .id = id}, len);
  p.resize(20 + len);
  return p;
}

Instant ms(int n) {
  return kEpoch + milliseconds(n);
}

TEST(Tee, ForwardsEveryEventToEverySinkInOrder) {
  Recording a, b;
  Tee tee;
  tee.add(a);
  tee.add(b);
  const auto syn = segment(1, wire::TcpFlags::syn, 5, 0);
  tee.on_packet(ms(0), kA, Direction::out, syn, "connect()");
  tee.on_timer(ms(1), FourTuple{{kA, 1000}, {kB, 80}}, "retransmit");
  tee.on_drop(ms(2), kB, syn, "tcp", "bad checksum");
  ASSERT_EQ(a.events().size(), 3u);
  ASSERT_EQ(b.events().size(), 3u);
  EXPECT_EQ(b.events()[1].kind, Event::Kind::timer);
  EXPECT_EQ(b.events()[2].cause, "bad checksum");
  tee.remove(a);
  tee.on_timer(ms(3), FourTuple{}, "2MSL");
  EXPECT_EQ(a.events().size(), 3u);
  EXPECT_EQ(b.events().size(), 4u);
}

std::vector<std::uint8_t> bytes_of(const std::ostringstream& s) {
  const std::string str = s.str();
  return {str.begin(), str.end()};
}

TEST(PcapWriter, NanosecondFileHeaderThenRecordsLittleEndian) {
  std::ostringstream out;
  PcapWriter w(out);
  const std::vector<std::uint8_t> header{0x4d, 0x3c, 0xb2, 0xa1, 2,    0,    4, 0, 0,   0, 0, 0,
                                         0,    0,    0,    0,    0xff, 0xff, 0, 0, 101, 0, 0, 0};
  EXPECT_EQ(bytes_of(out), header);
  const std::vector<std::uint8_t> packet{1, 2, 3};
  w.write(kEpoch + seconds(3) + nanoseconds(250), packet);
  const auto b = bytes_of(out);
  ASSERT_EQ(b.size(), 24u + 16u + 3u);
  const std::vector<std::uint8_t> record{3, 0, 0, 0, 250, 0, 0, 0, 3, 0, 0, 0, 3, 0, 0, 0, 1, 2, 3};
  EXPECT_EQ(std::vector<std::uint8_t>(b.begin() + 24, b.end()), record);
  EXPECT_EQ(w.records(), 1u);
}

TEST(PcapWriter, MicrosecondsWhenAsked) {
  std::ostringstream out;
  PcapWriter w(out, PcapResolution::microseconds);
  w.write(kEpoch + milliseconds(1500), std::vector<std::uint8_t>{9});
  const auto b = bytes_of(out);
  EXPECT_EQ(b[0], 0xd4);  // 0xa1b2c3d4
  EXPECT_EQ(b[24], 1);    // 1 s
  EXPECT_EQ(b[28] | (b[29] << 8) | (b[30] << 16), 500000);
}

TEST(PcapSink, OnlyItsHostsPacketsAndWhatItsIpLayerRefused) {
  std::ostringstream out;
  PcapSink sink(out, kA);
  const auto p = segment(1, wire::TcpFlags::syn, 5, 0);
  sink.on_packet(ms(0), kA, Direction::out, p, "");
  sink.on_packet(ms(5), kB, Direction::in, p, "");         // the other host's
  sink.on_drop(ms(6), kA, p, "ip", "bad checksum");        // arrived, then refused: captured
  sink.on_drop(ms(7), kA, p, "tcp", "no socket on port");  // already captured on arrival
  sink.on_drop(ms(8), kA, p, kLinkLayer, "loss");          // lost on the way: captured as sent
  EXPECT_EQ(sink.records(), 2u);
}

TEST(JsonString, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(json_string("a\"b\\c\r\n\t\x01"), "\"a\\\"b\\\\c\\r\\n\\t\\u0001\"");
}

TEST(JsonLines, APacketWithItsFields) {
  std::ostringstream out;
  JsonLines sink(out);
  sink.on_packet(ms(5), kA, Direction::out, segment(7, wire::TcpFlags::ack, 10, 20, "hi"),
                 "write()");
  const std::string line = out.str();
  EXPECT_EQ(line.back(), '\n');
  for (const char* part : {"\"t_ns\":5000000", "\"event\":\"packet\"", "\"dir\":\"out\"",
                           "\"src\":\"198.18.0.1:1000\"", "\"flags\":\"ACK\"", "\"seq\":10",
                           "\"ack\":20", "\"len\":2", "\"cause\":\"write()\"", "\"hex\":\"45"}) {
    EXPECT_NE(line.find(part), std::string::npos) << part << " in " << line;
  }
}

TEST(XmlEscape, TheFiveSpecialCharacters) {
  EXPECT_EQ(xml_escape("<mss 1460> & \"x\" 'y'"),
            "&lt;mss 1460&gt; &amp; &quot;x&quot; &apos;y&apos;");
}

TEST(ErrnoName, PosixNamesForMessages) {
  EXPECT_EQ(errno_name(std::make_error_code(std::errc::connection_refused).message()),
            "ECONNREFUSED");
  EXPECT_EQ(errno_name(std::make_error_code(std::errc::operation_in_progress).message()),
            "EINPROGRESS");
  EXPECT_EQ(errno_name("blocks"), "blocks");
}

// A handshake and one data segment, with the second data segment lost on the link.
Recording small_flow() {
  Recording r;
  r.name_host(kA, "client");
  r.name_host(kB, "server");
  wire::TcpOptions ws;
  ws.window_scale = 2;
  const auto syn = segment(1, wire::TcpFlags::syn, 1000, 0, "", false, ws);
  const auto synack =
      segment(1, wire::TcpFlags::syn | wire::TcpFlags::ack, 5000, 1001, "", true, ws);
  const auto ack = segment(2, wire::TcpFlags::ack, 1001, 5001);
  const auto data1 = segment(3, wire::TcpFlags::ack, 1001, 5001, "hello");
  const auto data2 = segment(4, wire::TcpFlags::ack, 1006, 5001, "world");
  r.on_packet(ms(0), kA, Direction::out, syn, "connect()");
  r.on_packet(ms(5), kB, Direction::in, syn, "");
  r.on_packet(ms(5), kB, Direction::out, synack, "SYN received");
  r.on_packet(ms(10), kA, Direction::in, synack, "");
  r.on_packet(ms(10), kA, Direction::out, ack, "ack");
  r.on_packet(ms(10), kA, Direction::out, data1, "write()");
  r.on_packet(ms(10), kA, Direction::out, data2, "write()");
  r.on_drop(ms(10), kA, data2, kLinkLayer, "loss");
  r.on_packet(ms(15), kB, Direction::in, ack, "");
  r.on_packet(ms(15), kB, Direction::in, data1, "");
  r.on_packet(ms(300), kA, Direction::out, data2, "retransmit: RTO");
  return r;
}

TEST(LadderModel, RelativeNumbersScaledWindowsAndFates) {
  const Recording r = small_flow();
  const LadderModel m = build_ladder(r);
  ASSERT_EQ(m.columns.size(), 2u);
  EXPECT_EQ(m.columns[0].heading(), "client 198.18.0.1:1000");
  EXPECT_EQ(m.columns[1].heading(), "server 198.18.0.2:80");
  ASSERT_EQ(m.arrows.size(), 6u);
  using L = std::vector<std::string>;
  EXPECT_EQ(m.arrows[0].label, (L{"SYN", "seq=0", "win=1000", "<ws 2>"}));
  EXPECT_EQ(m.arrows[1].label, (L{"SYN+ACK", "seq=0", "ack=1", "win=1000", "<ws 2>"}));
  EXPECT_EQ(m.arrows[2].label, (L{"ACK", "ack=1", "win=4000"})) << "scaled; seq left out";
  EXPECT_EQ(m.arrows[3].label, (L{"ACK", "seq=1:6", "ack=1", "win=4000", "\"hello\""}));
  EXPECT_EQ(m.arrows[0].from, 0u);
  EXPECT_EQ(m.arrows[1].from, 1u);
  EXPECT_EQ(m.arrows[3].arrived, ms(15));
  EXPECT_EQ(m.arrows[4].link_drop, "loss");
  EXPECT_FALSE(m.arrows[4].arrived);
  EXPECT_TRUE(m.arrows[5].retransmission);
  EXPECT_EQ(m.arrows[5].cause, "retransmit: RTO");
  EXPECT_TRUE(m.arrows[3].cause.empty()) << "write() is shown beside the column, not here";

  const LadderModel raw = build_ladder(r, {.absolute_seq = true});
  EXPECT_EQ(raw.arrows[3].label[1], "seq=1001:1006");
}

TEST(LadderModel, TextShowsTheLossAndTheRetransmission) {
  std::ostringstream out;
  render_text_ladder(build_ladder(small_flow()), {.gap = milliseconds(100)}, out);
  const std::string text = out.str();
  EXPECT_NE(text.find("✗"), std::string::npos);
  EXPECT_NE(text.find("[dropped by link: loss]"), std::string::npos);
  EXPECT_NE(text.find("[retransmit: RTO]"), std::string::npos);
  EXPECT_NE(text.find("… 290.000 ms later …"), std::string::npos) << text;
}

}  // namespace
}  // namespace synack::trace
