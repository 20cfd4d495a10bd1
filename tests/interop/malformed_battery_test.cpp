// The malformed-packet battery over the real TUN link (issue 8). malformed_battery.py
// (scapy, on the kernel's side of synack0) sends broken, odd and hostile packets at
// `synack serve` while curl downloads 20 MB from it. For every case the test checks what
// came back on the wire and what synack's trace says it did (the drop and its reason, or
// the segment it sent and why), then the counters synack wrote when it stopped; and the
// download, byte for byte.
#include <iostream>
#include <map>
#include <sstream>

#include "interop.hpp"

namespace synack::interop {
namespace {

const std::string kScript = SYNACK_INTEROP_SCRIPTS "/malformed_battery.py";
// Debian's interpreter, where python3-scapy is installed (not a python3 earlier in PATH).
const std::string kPython = "/usr/bin/python3";

struct Expected {
  const char* name;
  const char* reply;    // on the wire: none, SYN,ACK, ACK
  const char* synack;   // synack's trace: drop(layer: reason), out(cause), state(to), silent
  const char* counter;  // the counter the case moves ("" for none but the usual ones)
  std::uint64_t count = 1;
};

// RFC 1122 §3.2.1.3 (sources), §3.2.1.7 (TTL), §3.2.1.8 (options), RFC 9293 §3.10.7.2
// (LISTEN), §3.10.7.4 (synchronized states) with RFC 5961's challenge ACKs. A SYN,ACK means
// a half-open connection, which the script then removes with an RST at its RCV.NXT.
// clang-format off
const Expected kCases[] = {
    // IP header: every fault is a counted drop, never an answer.
    {"ip_bad_checksum", "none", "drop(ip: bad_checksum)", "ip.in_bad_checksum"},
    {"ip_truncated_header", "none", "drop(ip: truncated)", "ip.in_hdr_errors"},
    {"ip_ihl_below_5", "none", "drop(ip: bad_ihl)", "ip.in_hdr_errors"},
    {"ip_ihl_past_end", "none", "drop(ip: bad_ihl)", "ip.in_hdr_errors"},
    {"ip_total_length_past_end", "none", "drop(ip: bad_total_length)", "ip.in_hdr_errors"},
    // TCP header and options: dropped before any connection or listener sees them.
    {"tcp_bad_checksum", "none", "drop(tcp: bad checksum)", "tcp.bad_checksum"},
    {"tcp_truncated_header", "none", "drop(tcp: truncated)", "tcp.malformed"},
    {"tcp_data_offset_past_end", "none", "drop(tcp: bad_data_offset)", "tcp.malformed"},
    {"tcp_data_offset_below_5", "none", "drop(tcp: bad_data_offset)", "tcp.malformed"},
    {"tcp_option_length_0", "none", "drop(tcp: bad_option_length)", "tcp.malformed"},
    {"tcp_option_length_1", "none", "drop(tcp: bad_option_length)", "tcp.malformed"},
    {"tcp_option_past_header", "none", "drop(tcp: bad_option_length)", "tcp.malformed"},
    {"tcp_option_length_missing", "none", "drop(tcp: bad_option_length)", "tcp.malformed"},
    // IP options are skipped, not interpreted [RFC9293 MUST-50]; a list that cannot be
    // walked (RFC 791 §3.1) is a header error, answered with a parameter problem pointing
    // at the bad length (RFC 1122 §3.2.2.5), as Linux does.
    {"ip_options_valid", "SYN,ACK", "state(SYN_RECEIVED) out(SYN received)", "tcp.passive_opens"},
    {"ip_options_malformed", "ICMP 12/0", "drop(ip: bad IP option length)", "ip.in_hdr_errors"},
    {"ip_options_length_0", "ICMP 12/0", "drop(ip: bad IP option length)", "ip.in_hdr_errors"},
    // Reassembly (src/ip/reassembly.hpp): tiny TCP fragments are dropped (RFC 1858 §3.2),
    // an overlap drops the whole datagram (as Linux), a well-formed fragmented SYN is
    // reassembled and answered like any SYN.
    {"fragments_tiny", "none", "drop(ip: tiny fragment: first TCP fragment under 16 bytes (RFC 1858)); drop(ip: tiny fragment: TCP at offset 8 (RFC 1858))", "ip.reasm_fails", 2},
    {"fragments_overlapping", "none", "in(fragment held); drop(ip: overlapping fragment)", "ip.reasm_overlaps"},
    {"fragments_syn", "SYN,ACK", "in(fragment held); in(fragment completes the datagram) in(reassembled from 2 fragments) state(SYN_RECEIVED) out(SYN received)", "tcp.passive_opens"},
    // A host MUST NOT drop a datagram for its TTL (RFC 1122 §3.2.1.7).
    {"ttl_0", "SYN,ACK", "state(SYN_RECEIVED) out(SYN received)", "tcp.passive_opens"},
    // Sources that are never a real peer [RFC9293 MUST-63], the /24's broadcast among them.
    {"land", "none", "drop(ip: bad source address)", "ip.in_bad_source"},
    {"source_limited_broadcast", "none", "drop(ip: bad source address)", "ip.in_bad_source"},
    {"source_subnet_broadcast", "none", "drop(ip: bad source address)", "ip.in_bad_source"},
    {"source_multicast", "none", "drop(ip: bad source address)", "ip.in_bad_source"},
    {"source_unspecified", "none", "drop(ip: bad source address)", "ip.in_bad_source"},
    // LISTEN (RFC 9293 §3.10.7.2): an RST is ignored first; a segment without SYN or ACK is
    // dropped; SYN+FIN is dropped as Linux does; URG on a SYN changes nothing.
    {"listen_syn_fin", "none", "drop(tcp: SYN+FIN)", "tcp.bad_flags"},
    {"listen_syn_rst", "none", "drop(tcp: RST in LISTEN)", "tcp.rst_ignored"},
    {"listen_no_flags", "none", "drop(tcp: neither SYN nor ACK in LISTEN)", "tcp.no_ack_flag"},
    {"listen_all_flags", "none", "drop(tcp: RST in LISTEN)", "tcp.rst_ignored"},
    {"listen_xmas_fin_psh_urg", "none", "drop(tcp: neither SYN nor ACK in LISTEN)", "tcp.no_ack_flag"},
    {"listen_syn_urgent", "SYN,ACK", "state(SYN_RECEIVED) out(SYN received)", "tcp.passive_opens"},
    // ESTABLISHED (RFC 9293 §3.10.7.4): the RST check comes before the SYN check, so an
    // RST at RCV.NXT resets whatever else is set; in the window, RST or SYN get a challenge
    // ACK (RFC 5961 §3.2, §4.2), as does an ACK of unsent data (§5.2). No ACK: dropped.
    // Urgent data is delivered in line and acknowledged; TTL 0 changes nothing.
    {"estab_tcp_bad_checksum", "none", "drop(tcp: bad checksum)", "tcp.bad_checksum"},
    {"estab_ip_bad_checksum", "none", "drop(ip: bad_checksum)", "ip.in_bad_checksum"},
    {"estab_option_length_0", "none", "drop(tcp: bad_option_length)", "tcp.malformed"},
    {"estab_syn_fin", "ACK", "out(challenge ACK: SYN)", "tcp.challenge_acks"},
    {"estab_syn_rst_in_window", "ACK", "out(challenge ACK: RST)", "tcp.challenge_acks"},
    {"estab_syn_rst_exact", "none", "state(CLOSED)", "tcp.estab_resets"},
    {"estab_rst_in_window", "ACK", "out(challenge ACK: RST)", "tcp.challenge_acks"},
    {"estab_no_flags", "none", "drop(tcp: no ACK flag)", "tcp.no_ack_flag"},
    {"estab_all_flags", "none", "state(CLOSED)", "tcp.estab_resets"},
    {"estab_xmas_fin_psh_urg", "none", "drop(tcp: no ACK flag)", "tcp.no_ack_flag"},
    {"estab_ack_too_new", "ACK", "out(challenge ACK: unsent data acked)", "tcp.challenge_acks"},
    {"estab_urgent", "ACK", "out(delayed ack)", ""},
    {"estab_ttl_0", "ACK", "out(delayed ack)", ""},
};
// clang-format on

// What the battery's own connections add to the counters the cases name: 13 established
// cases, the zero-window peer and curl each make a passive open; the 11 established cases
// that leave their connection open and the zero-window peer end it with an RST at RCV.NXT.
const std::map<std::string, std::uint64_t> kBesidesTheCases = {{"tcp.passive_opens", 15},
                                                               {"tcp.estab_resets", 12}};

// "CASE <name> reply=<...> synack=<...>" lines: name -> {reply, synack}.
std::map<std::string, std::pair<std::string, std::string>> read_verdicts(const std::string& out) {
  std::map<std::string, std::pair<std::string, std::string>> verdicts;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("CASE ", 0) != 0) continue;
    const auto reply = line.find(" reply=");
    const auto synack = line.find(" synack=");
    if (reply == std::string::npos || synack == std::string::npos) continue;
    verdicts[line.substr(5, reply - 5)] = {line.substr(reply + 7, synack - reply - 7),
                                           line.substr(synack + 8)};
  }
  return verdicts;
}

TEST(MalformedBattery, EveryCaseIsDroppedOrAnsweredAsTheRfcsSayWhileCurlDownloads) {
  SYNACK_REQUIRE_NETNS();
  if (run({kPython, "-c", "import scapy.all"}).status != 0) {
    GTEST_SKIP() << "python3-scapy is not installed";
  }
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  TempDir dir;
  SynackServer server(ns, dir,
                      {"--verbose", "--json", (dir / "trace.jsonl").string(), "--counters",
                       (dir / "counters").string()});
  ASSERT_TRUE(server.ready()) << server.log();

  // The bulk transfer, slowed so that it runs through the whole battery.
  const std::string url = "http://" + kStackIp.to_string() + ":8080/bytes/20M";
  Process download({"curl", "-sS", "--max-time", "55", "--limit-rate", "600K", "-o",
                    (dir / "body").string(), url},
                   ns.name(), {"", "", (dir / "curl.err").string()});
  ASSERT_TRUE(download.started());
  ASSERT_TRUE(wait_for_text(dir / "serve.log", "connection from", 5000ms)) << server.log();

  const RunResult attack = run(
      {kPython, kScript, "attack", "--out", (dir / "results.json").string()}, ns.name(), 50000ms);
  ASSERT_EQ(attack.status, 0) << attack.out << attack.err;
  const std::optional<int> curl_status = download.wait(40000ms);
  ASSERT_TRUE(curl_status.has_value()) << "curl still running";
  EXPECT_EQ(*curl_status, 0) << read_file(dir / "curl.err");
  EXPECT_EQ(check_body_pattern(dir / "body", 20 << 20), "");
  EXPECT_EQ(server.stop(), 0) << server.log();

  const RunResult verdict =
      run({kPython, kScript, "verdict", "--results", (dir / "results.json").string(), "--trace",
           (dir / "trace.jsonl").string()},
          "", 60000ms);
  ASSERT_EQ(verdict.status, 0) << verdict.err;
  std::cout << verdict.out;
  const auto verdicts = read_verdicts(verdict.out);
  EXPECT_EQ(verdicts.size(), std::size(kCases)) << verdict.out;
  for (const Expected& e : kCases) {
    const auto it = verdicts.find(e.name);
    if (it == verdicts.end()) {
      ADD_FAILURE() << e.name << ": no verdict";
      continue;
    }
    EXPECT_EQ(it->second.first, e.reply) << e.name;
    EXPECT_EQ(it->second.second, e.synack) << e.name;
  }

  // The zero window, shut for the whole battery: synack probes with a growing interval
  // (RFC 9293 §3.8.6.1, RFC 6298 backoff) and keeps the connection while we answer.
  const auto zero = verdict.out.find("ZERO_WINDOW probes=");
  ASSERT_NE(zero, std::string::npos) << verdict.out;
  std::istringstream zline(verdict.out.substr(zero + 19));
  std::uint64_t probes = 0;
  std::string error, intervals;
  zline >> probes >> error >> intervals;
  EXPECT_EQ(error, "error=none");
  EXPECT_GE(probes, 4u) << intervals;
  std::vector<long> gaps;
  std::istringstream glist(intervals.substr(intervals.find('=') + 1));
  for (std::string g; std::getline(glist, g, ',');) gaps.push_back(std::stol(g));
  for (std::size_t i = 1; i < gaps.size(); ++i) {
    EXPECT_GE(gaps[i], gaps[i - 1] * 3 / 2) << "the probe interval backs off: " << intervals;
  }

  const auto c = read_counters(dir / "counters");
  ASSERT_FALSE(c.empty()) << server.log();
  std::map<std::string, std::uint64_t> expected = kBesidesTheCases;
  for (const Expected& e : kCases) {
    if (*e.counter) expected[e.counter] += e.count;
  }
  expected["tcp.bad_ack"] = 1;        // estab_ack_too_new, beside its challenge ACK
  expected["tcp.rst_ignored"] += 2;   // the two in-window RSTs, beside their challenge ACKs
  expected["tcp.attempt_fails"] = 4;  // the half-open connections removed by an RST
  expected["ip.reasm_fails"] += 1;    // fragments_overlapping, beside its overlap
  expected["ip.reasm_reqds"] = 6;     // the fragments of the three fragments_ cases
  expected["ip.reasm_oks"] = 1;       // fragments_syn
  expected["ip.reasm_timeouts"] = 0;  // nothing was left half-made
  expected["icmp.out_parm_probs"] = 2;
  expected["tcp.challenge_acks_suppressed"] = 0;
  expected["tcp.out_of_window"] = 0;
  for (const auto& [name, value] : expected) {
    EXPECT_EQ(c.contains(name) ? c.at(name) : ~0ull, value) << name;
  }
  EXPECT_GE(c.at("tcp.zero_window_probes"), probes);
  // Nothing left behind: every connection the battery opened is gone.
  for (const auto& [name, value] : c) {
    if (name.rfind("tcp.connections.", 0) == 0) {
      EXPECT_EQ(value, 0u) << name;
    }
  }
  std::cout << read_file(dir / "counters");
}

}  // namespace
}  // namespace synack::interop
