// TIME_WAIT without a connection: what an orphaned connection in TIME_WAIT still needs to
// answer its peer (RFC 9293 §3.10.7.4 in TIME-WAIT, RFC 1337, RFC 7323 PAWS, RFC 5961), and
// the rule that answers. The stack keeps these in its compact TIME_WAIT table
// (stack/time_wait_table.hpp) instead of a whole Connection; Connection::time_wait_state()
// hands one out when the connection is orphaned in TIME_WAIT and nothing else it holds can
// change a reply.
//
// The rule mirrors Connection::on_segment in TIME_WAIT step by step (tcp/arrival.cpp), and
// time_wait_ack() the bare ACK Connection::next_segment then sends; the unit test
// TimeWaitTable.CompactEntryAnswersAsTheConnection holds the two to the same replies.
// (The rule is written beside the connection's rather than shared with it: Connection's
// TIME_WAIT handling runs through the same steps as every other state's, and pulling it out
// would reshape arrival.cpp.) One difference, on purpose: an RST out of the window whose
// payload lies below RCV.NXT leaves the connection a D-SACK that its next ACK reports; an
// entry forgets it (RFC 2883 reports duplicate data, and an RST carries none to repeat).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "stack/counters.hpp"
#include "synack/endpoint.hpp"
#include "synack/time.hpp"
#include "tcp/segment.hpp"
#include "tcp/seq.hpp"

namespace synack::tcp {

struct TimeWaitState {
  Seq snd_nxt;  // SND.UNA = SND.NXT = SND.MAX: our FIN is acknowledged
  Seq rcv_nxt;  // past the peer's FIN; also the last ACK sent (RFC 7323 §4.3 Last.ACK.sent)
  // The window our ACKs carry (SEG.WND, already scaled) and our shift: RCV.WND is exactly
  // window << rcv_wscale (the edge of the ACK that entered TIME_WAIT, never moved since).
  std::uint16_t window = 0;
  std::uint8_t rcv_wscale = 0;
  // RFC 5961 §5.2 needs MAX.SND.WND, which an in-window ACK may still raise (3.10.7.4
  // fifth, through SND.WL1: SND.WL2 is at or below SND.UNA, so only SND.WL1 decides).
  std::uint8_t snd_wscale = 0;
  std::uint32_t max_snd_wnd = 0;
  Seq snd_wl1;
  bool ts_ok = false;
  bool sack_ok = false;
  std::uint32_t ts_recent = 0;
  std::uint32_t ts_offset = 0;  // our timestamp clock's start (RFC 7323 §5.4)
  Instant expiry{};             // the end of 2·MSL
  // RFC 5961 §7: the connection's own challenge-ACK budget, and its settings.
  Instant challenge_window_start{};
  std::uint32_t challenge_acks_in_window = 0;
  // The socket's settings the wait still reads.
  Duration msl{};
  std::uint32_t challenge_ack_limit = 0;
  Duration challenge_ack_window{};

  std::uint32_t rcv_wnd() const { return std::uint32_t{window} << rcv_wscale; }
  std::uint32_t ts_now(Instant now) const {
    return static_cast<std::uint32_t>(to_nanos(now) / 1'000'000) + ts_offset;
  }
};

// What a segment that reaches a TIME_WAIT entry does.
struct TimeWaitReply {
  bool ack = false;                      // send time_wait_ack()
  std::string_view ack_cause;            // its cause, for the trace
  std::string_view drop_reason;          // traced as a drop (as Connection::take_drop_reason)
  bool restart = false;                  // 2·MSL starts again (a retransmitted FIN)
  std::optional<wire::SackBlock> dsack;  // RFC 2883: reported in the ACK when SACK is on
};

// RFC 9293 §3.10.7.4 in TIME-WAIT, as Connection::on_segment does it: updates `s`
// (TS.Recent, MAX.SND.WND, the challenge-ACK budget) and the counters; `restart` is left to
// the caller, which knows where the entry lives.
TimeWaitReply time_wait_arrival(TimeWaitState& s, const Segment& seg, Instant now,
                                Counters& counters);

// The ACK a TIME_WAIT connection sends: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, its window,
// timestamps and a D-SACK block. Counts it (out_segs, dsacks_sent).
OutSegment time_wait_ack(const TimeWaitState& s, const FourTuple& tuple, const TimeWaitReply& reply,
                         Instant now, Counters& counters);

}  // namespace synack::tcp
