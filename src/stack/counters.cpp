#include "stack/counters.hpp"

namespace synack {

std::string to_text(const Counters& c) {
  std::string out;
  auto line = [&](const char* name, std::uint64_t v) {
    out += name;
    out += ' ';
    out += std::to_string(v);
    out += '\n';
  };
#define SYNACK_COUNTER(group, field) line(#group "." #field, c.group.field)
  SYNACK_COUNTER(stack, sockets_refused);
  SYNACK_COUNTER(ip, in_receives);
  SYNACK_COUNTER(ip, in_delivers);
  SYNACK_COUNTER(ip, out_requests);
  SYNACK_COUNTER(ip, in_hdr_errors);
  SYNACK_COUNTER(ip, in_bad_checksum);
  SYNACK_COUNTER(ip, in_addr_errors);
  SYNACK_COUNTER(ip, in_unknown_protos);
  SYNACK_COUNTER(ip, in_bad_source);
  SYNACK_COUNTER(ip, reasm_reqds);
  SYNACK_COUNTER(ip, reasm_oks);
  SYNACK_COUNTER(ip, reasm_fails);
  SYNACK_COUNTER(ip, reasm_timeouts);
  SYNACK_COUNTER(ip, reasm_overlaps);
  SYNACK_COUNTER(ip, reasm_duplicates);
  SYNACK_COUNTER(tcp, active_opens);
  SYNACK_COUNTER(tcp, passive_opens);
  SYNACK_COUNTER(tcp, attempt_fails);
  SYNACK_COUNTER(tcp, estab_resets);
  SYNACK_COUNTER(tcp, in_segs);
  SYNACK_COUNTER(tcp, out_segs);
  SYNACK_COUNTER(tcp, retrans_segs);
  SYNACK_COUNTER(tcp, out_rsts);
  SYNACK_COUNTER(tcp, in_rsts);
  SYNACK_COUNTER(tcp, bad_checksum);
  SYNACK_COUNTER(tcp, malformed);
  SYNACK_COUNTER(tcp, bad_options);
  SYNACK_COUNTER(tcp, no_port);
  SYNACK_COUNTER(tcp, out_of_window);
  SYNACK_COUNTER(tcp, bad_ack);
  SYNACK_COUNTER(tcp, old_ack);
  SYNACK_COUNTER(tcp, ack_too_old);
  SYNACK_COUNTER(tcp, rst_ignored);
  SYNACK_COUNTER(tcp, challenge_acks);
  SYNACK_COUNTER(tcp, time_wait_rsts);
  SYNACK_COUNTER(tcp, syn_dropped);
  SYNACK_COUNTER(tcp, syncookies_sent);
  SYNACK_COUNTER(tcp, syncookies_validated);
  SYNACK_COUNTER(tcp, syncookies_failed);
  SYNACK_COUNTER(tcp, listen_overflows);
  SYNACK_COUNTER(tcp, out_of_order);
  SYNACK_COUNTER(tcp, timeouts);
  SYNACK_COUNTER(tcp, time_wait_reused);
  SYNACK_COUNTER(tcp, no_ack_flag);
  SYNACK_COUNTER(tcp, dup_acks);
  SYNACK_COUNTER(tcp, fast_retransmits);
  SYNACK_COUNTER(tcp, sack_recoveries);
  SYNACK_COUNTER(tcp, challenge_acks_suppressed);
  SYNACK_COUNTER(tcp, zero_window_probes);
  SYNACK_COUNTER(tcp, paws_rejected);
  SYNACK_COUNTER(tcp, ofo_dropped);
  SYNACK_COUNTER(tcp, dsacks_sent);
  SYNACK_COUNTER(tcp, dsacks_received);
  SYNACK_COUNTER(tcp, spurious_recoveries);
  SYNACK_COUNTER(tcp, bad_flags);
  SYNACK_COUNTER(tcp, rcv_mem_drops);
  SYNACK_COUNTER(tcp, snd_mem_refused);
  SYNACK_COUNTER(tcp, syn_limit_drops);
  SYNACK_COUNTER(udp, in_datagrams);
  SYNACK_COUNTER(udp, out_datagrams);
  SYNACK_COUNTER(udp, no_ports);
  SYNACK_COUNTER(udp, in_errors);
  SYNACK_COUNTER(udp, rcvbuf_errors);
  SYNACK_COUNTER(udp, rcv_mem_drops);
  SYNACK_COUNTER(udp, snd_mem_refused);
  SYNACK_COUNTER(icmp, in_msgs);
  SYNACK_COUNTER(icmp, in_errors);
  SYNACK_COUNTER(icmp, in_echos);
  SYNACK_COUNTER(icmp, out_echo_reps);
  SYNACK_COUNTER(icmp, out_dest_unreachs);
  SYNACK_COUNTER(icmp, out_time_excds);
  SYNACK_COUNTER(icmp, out_parm_probs);
  SYNACK_COUNTER(icmp, in_dest_unreachs);
#undef SYNACK_COUNTER
  for (std::size_t s = 0; s < tcp::kStateCount; ++s) {
    out += "tcp.connections.";
    out += tcp::to_string(static_cast<tcp::State>(s));
    out += ' ';
    out += std::to_string(c.tcp.in_state[s]);
    out += '\n';
  }
  return out;
}

}  // namespace synack
