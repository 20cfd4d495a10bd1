// The stack's counters, like `netstat -s`: every drop has a reason and a count
// (DESIGN.md principle 8). Plain integers: the stack is driven by one thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "tcp/state.hpp"

namespace synack {

struct IpCounters {
  std::uint64_t in_receives = 0;  // frames handed up by the link
  std::uint64_t in_delivers = 0;  // handed to TCP, UDP or ICMP
  std::uint64_t out_requests = 0;
  std::uint64_t in_hdr_errors = 0;  // truncated, bad version, IHL, total length or IP option
  std::uint64_t in_bad_checksum = 0;
  std::uint64_t in_addr_errors = 0;  // not for our address
  std::uint64_t in_unknown_protos = 0;
  std::uint64_t in_bad_source = 0;  // broadcast (ours too), multicast or our own address as source
  // Reassembly (RFC 791 §3.2; Linux's ReasmReqds, ReasmOKs, ReasmFails).
  std::uint64_t reasm_reqds = 0;       // fragments received
  std::uint64_t reasm_oks = 0;         // datagrams reassembled
  std::uint64_t reasm_fails = 0;       // fragments refused and datagrams given up, any reason
  std::uint64_t reasm_timeouts = 0;    // of those, partial datagrams whose time ran out
  std::uint64_t reasm_overlaps = 0;    // of those, datagrams dropped for overlapping fragments
  std::uint64_t reasm_duplicates = 0;  // exact copies of a fragment held, dropped (not a fail)
};

struct TcpCounters {
  std::uint64_t active_opens = 0;   // CLOSED -> SYN_SENT
  std::uint64_t passive_opens = 0;  // LISTEN -> SYN_RECEIVED
  std::uint64_t attempt_fails = 0;  // SYN_SENT/SYN_RECEIVED -> CLOSED (or LISTEN)
  std::uint64_t estab_resets = 0;   // ESTABLISHED/CLOSE_WAIT -> CLOSED by RST
  std::uint64_t in_segs = 0;
  std::uint64_t out_segs = 0;
  std::uint64_t retrans_segs = 0;
  std::uint64_t out_rsts = 0;
  std::uint64_t in_rsts = 0;
  std::uint64_t bad_checksum = 0;
  std::uint64_t malformed = 0;         // header parse errors
  std::uint64_t bad_options = 0;       // known options with the wrong length (ignored)
  std::uint64_t no_port = 0;           // segments to a port with no socket (answered by RST)
  std::uint64_t out_of_window = 0;     // failed the 3.10.7.4 sequence check
  std::uint64_t bad_ack = 0;           // ACK of something not yet sent
  std::uint64_t old_ack = 0;           // duplicate ACK below SND.UNA (ignored)
  std::uint64_t ack_too_old = 0;       // RFC 5961 §5.2: below SND.UNA - MAX.SND.WND, dropped
  std::uint64_t rst_ignored = 0;       // RST outside the window, or in LISTEN
  std::uint64_t challenge_acks = 0;    // RFC 5961: for an in-window RST or SYN, an ACK too new
  std::uint64_t time_wait_rsts = 0;    // RFC 1337: RST in TIME_WAIT, dropped
  std::uint64_t syn_dropped = 0;       // SYN to a listener whose queues are full
  std::uint64_t listen_overflows = 0;  // handshake completed but the accept queue was full
  std::uint64_t out_of_order = 0;      // data or FIN past RCV.NXT
  std::uint64_t timeouts = 0;          // retransmission timer expirations
  std::uint64_t time_wait_reused = 0;  // a new SYN accepted in TIME_WAIT (RFC 6191)
  std::uint64_t no_ack_flag = 0;       // segment without ACK where one is required
  std::uint64_t bad_flags = 0;         // SYN+FIN in LISTEN: dropped, as Linux does
  std::uint64_t dup_acks = 0;          // duplicate ACKs received (RFC 5681 §2)
  std::uint64_t fast_retransmits = 0;  // recoveries entered by duplicate ACKs or SACK
  std::uint64_t sack_recoveries = 0;   // of those, recoveries driven by the scoreboard
  // RFC 5961 §7: challenge ACKs not sent, being over the connection's rate limit
  std::uint64_t challenge_acks_suppressed = 0;
  std::uint64_t zero_window_probes = 0;
  std::uint64_t paws_rejected = 0;        // old timestamps (RFC 7323 §5)
  std::uint64_t ofo_dropped = 0;          // out-of-order data we had no room to keep
  std::uint64_t dsacks_received = 0;      // duplicates the peer reported (RFC 2883)
  std::uint64_t spurious_recoveries = 0;  // recoveries undone: all retransmissions D-SACKed
  std::uint64_t dsacks_sent = 0;          // duplicate segments reported (RFC 2883)
  // Resource limits (StackConfig::max_sockets, max_buffer_memory):
  std::uint64_t rcv_mem_drops = 0;    // data dropped, not ACKed: no buffer memory left
  std::uint64_t snd_mem_refused = 0;  // write() refused with ENOBUFS: no buffer memory left
  std::uint64_t syn_limit_drops = 0;  // SYN to a listener dropped: at the socket or memory limit

  // RFC 4987 SYN cookies (Linux's SyncookiesSent, SyncookiesRecv, SyncookiesFailed).
  std::uint64_t syncookies_sent = 0;       // SYN,ACKs with a cookie, the half-open queue full
  std::uint64_t syncookies_validated = 0;  // ACKs whose cookie was good: a connection made
  std::uint64_t syncookies_failed = 0;     // ACKs checked as cookies that were not (RST)

  std::array<std::uint64_t, tcp::kStateCount> in_state{};  // connections now in each state
};

struct UdpCounters {
  std::uint64_t in_datagrams = 0;
  std::uint64_t out_datagrams = 0;
  std::uint64_t no_ports = 0;
  std::uint64_t in_errors = 0;        // malformed or bad checksum
  std::uint64_t rcvbuf_errors = 0;    // dropped: receive queue full
  std::uint64_t rcv_mem_drops = 0;    // dropped: no buffer memory left (max_buffer_memory)
  std::uint64_t snd_mem_refused = 0;  // send refused with ENOBUFS: no buffer memory left
};

struct IcmpCounters {
  std::uint64_t in_msgs = 0;
  std::uint64_t in_errors = 0;
  std::uint64_t in_echos = 0;
  std::uint64_t out_echo_reps = 0;
  std::uint64_t out_dest_unreachs = 0;
  std::uint64_t out_time_excds = 0;  // reassembly time exceeded (RFC 1122 §3.3.2)
  std::uint64_t out_parm_probs = 0;  // bad IP options (RFC 1122 §3.2.2.5)
  std::uint64_t in_dest_unreachs = 0;
};

struct StackCounters {
  std::uint64_t sockets_refused = 0;  // socket() or accept() refused with EMFILE (max_sockets)
};

struct Counters {
  StackCounters stack;
  IpCounters ip;
  TcpCounters tcp;
  UdpCounters udp;
  IcmpCounters icmp;
};

// Every counter as "name value" lines, like `netstat -s`.
std::string to_text(const Counters& c);

}  // namespace synack
