// A TCP connection: the transmission control block and the state machine of RFC 9293.
// It is sans-I/O (DESIGN.md principle 1): segments, application calls and timer expiries
// go in with `now`; segments to send come out of next_segment(); deadlines come out of
// deadline(). It never reads a clock, allocates per packet, or calls the OS.
//
//   conn.on_segment(seg, now);
//   OutSegment out;
//   while (conn.next_segment(now, out)) stack.transmit(conn, out);
//
// Segment arrival follows RFC 9293 §3.10.7 in its order (tcp/arrival.cpp), output is in
// tcp/output.cpp, timers in tcp/timers.cpp, the application's calls in tcp/connection.cpp.
#pragma once

#include <algorithm>
#include <array>
#include <memory>
#include <optional>
#include <span>
#include <system_error>
#include <utility>

#include "base/buffer_budget.hpp"
#include "base/buffer_pool.hpp"
#include "base/byte_ring.hpp"
#include "stack/counters.hpp"
#include "synack/endpoint.hpp"
#include "tcp/cause.hpp"
#include "tcp/config.hpp"
#include "tcp/congestion.hpp"
#include "tcp/optional_instant.hpp"
#include "tcp/reassembly.hpp"
#include "tcp/rto.hpp"
#include "tcp/scoreboard.hpp"
#include "tcp/segment.hpp"
#include "tcp/shared_config.hpp"
#include "tcp/state.hpp"
#include "tcp/syn_cookie.hpp"
#include "tcp/time_wait.hpp"
#include "trace/trace.hpp"

namespace synack::tcp {

enum class Timer : std::uint8_t {
  Retransmit,  // RFC 6298: SYN, FIN and data not yet acknowledged
  DelayedAck,  // RFC 9293 §3.8.6.3 / RFC 1122: ACK at most this late
  TimeWait,    // 2·MSL in TIME_WAIT; also Linux's FIN_WAIT_2 timeout for orphans
  Keepalive,   // SO_KEEPALIVE probes
  Persist,     // zero-window probes (RFC 9293 §3.8.6.1)
};
inline constexpr std::size_t kTimerCount = 5;
std::string_view to_string(Timer t);

// What the connection needs from the stack that owns it.
struct Context {
  Counters& counters;
  trace::Sink* trace = nullptr;  // null: no tracing
  // The stack's buffer memory: each connection charges the bytes it holds, and refuses
  // data and writes that would go over the limit. Null: no limit.
  BufferBudget* memory = nullptr;
  // Where the send and receive rings take their storage while they hold data (null: the
  // heap directly); it outlives every connection made with this context.
  BufferPool* buffers = nullptr;
  // The most payload one outgoing segment may carry when the link segments it (TSO, see
  // link::Link::send_segmented): several MSS-sized segments go as one. 0: one MSS each.
  std::size_t max_super_segment = 0;
};

class Connection {
 public:
  // CLOSED -> SYN_SENT: an active open (connect). The SYN goes out on next_segment().
  static Connection active_open(Context& ctx, SharedConfig config, const FourTuple& tuple, Seq iss,
                                Instant now);
  // LISTEN -> SYN_RECEIVED: a listener's child for an arriving SYN (3.10.7.2 third).
  static Connection passive_open(Context& ctx, SharedConfig config, const FourTuple& tuple, Seq iss,
                                 const Segment& syn, Instant now);
  // LISTEN, half-open queue full (RFC 4987 SYN cookies): the SYN,ACK for `syn` with the
  // cookie as its ISS, made without a TCB. What the cookie cannot hold (window scale,
  // SACK-permitted) rides in our TSval when the SYN offers timestamps, and is otherwise
  // not offered.
  static OutSegment cookie_syn_ack(const Config& config, const FourTuple& tuple, Seq cookie,
                                   const Segment& syn, Instant now);
  // LISTEN -> ESTABLISHED: the connection a valid cookie stands for, from the ACK that
  // returned it (SEG.ACK - 1 the cookie, our ISS; SEG.SEQ - 1 the IRS), with the peer's MSS
  // from the cookie and its options from the ACK's TSecr. The ACK itself (its window and
  // timestamp) is taken as the handshake's last; its text, if any, is for on_segment().
  static Connection from_cookie(Context& ctx, SharedConfig config, const FourTuple& tuple,
                                const Segment& ack, std::uint16_t peer_mss,
                                const CookieOptions& options, Instant now);

  Connection(Connection&&) noexcept = default;
  Connection& operator=(Connection&&) noexcept = default;
  ~Connection();

  // --- Events in -------------------------------------------------------------------------
  // RFC 9293 §3.10.7.3 (SYN-SENT) and §3.10.7.4 (every other state).
  void on_segment(const Segment& seg, Instant now);
  void on_timer(Timer timer, Instant now);

  // --- The application's calls (RFC 9293 §3.10.2 to §3.10.6) -------------------------------
  // Appends to the send buffer; returns how much fit (a short write when nearly full).
  // Errors: resource_unavailable_try_again (buffer full, or not yet connected),
  // no_buffer_space (the stack's buffer memory is used up), broken_pipe (after
  // shutdown(write) or a reset), connection_reset, timed_out.
  std::size_t write(std::span<const std::uint8_t> data, std::error_code& ec);
  // Copies received bytes out; 0 with no error means end of stream (the peer's FIN).
  std::size_t read(std::span<std::uint8_t> out, std::error_code& ec);
  // read() that leaves the bytes in the receive buffer (MSG_PEEK); the same errors.
  std::size_t peek(std::span<std::uint8_t> out, std::error_code& ec);
  // Half-close: our FIN follows the data already written.
  void shutdown_write(Instant now);
  void shutdown_read();
  // close(): FIN after the data, or RST when unread data would be lost or SO_LINGER is
  // zero (as Linux does). The connection lives on, orphaned, until the close completes.
  void close(Instant now);
  // ABORT (RFC 9293 §3.10.5): RST now, everything discarded.
  void abort(Instant now);
  // A socket option changed (keepalive, Nagle): re-evaluate timers and output.
  void settings_changed();

  // --- Output ------------------------------------------------------------------------------
  // The next segment to send at `now`, if any. Call until it returns false.
  bool next_segment(Instant now, OutSegment& out);
  const ByteRing& send_buffer() const { return send_buffer_; }
  const ByteRing& receive_buffer() const { return receive_buffer_; }

  // --- Queries -----------------------------------------------------------------------------
  State state() const { return state_; }
  const FourTuple& tuple() const { return tuple_; }
  std::optional<Instant> deadline(Timer t) const {
    const Instant d = timers_[static_cast<std::size_t>(t)];
    return d == kUnarmed ? std::nullopt : std::optional<Instant>(d);
  }
  // The earliest armed deadline, in one pass over the plain array: building an optional
  // per timer and comparing them cost a store-forwarding stall each, 5% of bulk's time.
  std::optional<Instant> earliest_deadline() const {
    const Instant d = *std::min_element(timers_.begin(), timers_.end());
    return d == kUnarmed ? std::nullopt : std::optional<Instant>(d);
  }

  bool readable() const;
  bool writable() const;
  // In-order bytes read() would return (FIONREAD).
  std::size_t bytes_readable() const { return receive_buffer_.size(); }
  // Bytes written and not yet acknowledged, sent or not; SYN and FIN not counted (SIOCOUTQ).
  std::size_t bytes_unacknowledged() const { return send_buffer_.size(); }
  // The error the next call will report (SO_ERROR), if any.
  std::error_code pending_error() const {
    return error_ == std::errc{} ? std::error_code{} : std::make_error_code(error_);
  }
  std::error_code take_error() {
    const std::error_code e = pending_error();
    error_ = {};
    return e;
  }
  // Why on_segment() dropped the segment it was given, if it did so for a reason the stack
  // traces as a drop (empty otherwise); reading it clears it.
  std::string_view take_drop_reason() { return std::exchange(drop_reason_, {}).text(); }
  // Bytes held: the send buffer, the receive buffer and out-of-order data (what the
  // connection charges to Context::memory).
  std::size_t buffered_bytes() const;
  // The TCB invariants (invariants.cpp): SND.UNA <= SND.NXT <= SND.MAX, buffers consistent
  // with the sequence space, no shrinking of the offered window, timers armed exactly when
  // the state needs them. A violation is printed to stderr, with the values, the state and
  // the 4-tuple, and aborts. The stack calls it after every event and API call in builds
  // without NDEBUG.
  void check_invariants() const;
  // The connection is over and its memory may be reclaimed.
  bool finished() const { return state_ == State::Closed; }
  // What the last segment asked for may wait for the end of the frames at hand: no ACK is
  // owed but the cumulative one for the bytes' count, and no RST. A receiver may then send
  // one ACK for several segments, as Linux does for a GRO batch; a duplicate ACK, a window
  // update, the ACK of a FIN or a D-SACK still goes out segment by segment (RFC 5681 §4.2:
  // at once for an out-of-order segment; the sender counts them).
  bool output_can_wait() const { return (!ack_now_ || ack_for_count_) && !rst_pending_; }
  bool passive() const { return passive_; }
  bool orphaned() const { return orphaned_; }
  // The options; the non-const one makes them this connection's own (copy-on-write).
  Config& config() { return config_.edit(); }
  const Config& config() const { return *config_; }
  const SharedConfig& shared_config() const { return config_; }
  // Orphaned in TIME_WAIT with nothing left that could change a reply: what the stack's
  // compact TIME_WAIT table keeps instead of the connection (tcp/time_wait.cpp).
  std::optional<TimeWaitState> time_wait_state(Instant now) const;

  // The TCB, for tests and traces.
  Seq iss() const { return iss_; }
  Seq irs() const { return irs_; }
  Seq snd_una() const { return snd_una_; }
  Seq snd_nxt() const { return snd_nxt_; }
  std::uint32_t snd_wnd() const { return snd_wnd_; }
  Seq rcv_nxt() const { return rcv_nxt_; }
  std::uint32_t rcv_wnd() const;
  std::uint16_t effective_mss() const { return send_mss_; }
  const RtoEstimator& rto() const { return rto_; }
  const CongestionControl& congestion() const { return cc_; }
  bool in_recovery() const { return in_recovery_; }
  bool sack_permitted() const { return sack_ok_; }
  bool timestamps() const { return ts_ok_; }

 private:
  Connection(Context& ctx, SharedConfig config, const FourTuple& tuple, Seq iss, Instant now);

  // arrival.cpp: the steps of RFC 9293 §3.10.7
  void on_segment_syn_sent(const Segment& seg, Instant now);
  bool acceptable(const Segment& seg) const;
  bool on_rst(const Segment& seg, Instant now);
  bool on_ack(const Segment& seg, Instant now);
  void on_text(const Segment& seg, Instant now);
  void on_fin(const Segment& seg, Instant now);
  void take_fin(Instant now);
  void take_peer_syn_options(const Segment& seg, Instant now);
  void update_send_window(const Segment& seg);
  void schedule_ack(std::size_t bytes, Instant now);
  bool paws_rejects(const Segment& seg) const;
  void take_timestamp(const Segment& seg);

  // recovery.cpp: duplicate ACKs, fast retransmit and recovery (RFC 5681, 6582, 6675)
  void on_new_ack(const Segment& seg, std::uint32_t acked, std::uint32_t flight, Instant now);
  void on_duplicate_ack(bool newly_sacked);
  void enter_recovery();
  // RFC 2883: a D-SACK for a retransmission shows it was not needed.
  void on_dsack(const Segment& seg);
  std::uint32_t flight_size() const { return static_cast<std::uint32_t>(snd_max_ - snd_una_); }
  // RFC 7323 §3: our timestamp clock, 1 ms per tick (as Linux).
  std::uint32_t ts_now(Instant now) const;
  // A per-connection start for that clock, from the ISS (RFC 7323 §5.4), and the clock
  // with a given start: a cookie's SYN,ACK, sent before there is a connection, reads it as
  // the connection's ts_now() will.
  static std::uint32_t ts_offset_for(Seq iss) { return iss.raw() * 0x9e3779b1u; }
  static std::uint32_t ts_clock(std::uint32_t offset, Instant now) {
    return static_cast<std::uint32_t>(to_nanos(now) / 1'000'000) + offset;
  }

  // The retransmission timeout now, within this connection's Config bounds.
  Duration current_rto() const { return rto_.rto(config_->rto_min, config_->rto_max); }

  // timers.cpp: giving up (RFC 9293 §3.8.3 R2, or the user timeout)
  bool user_timeout_applies() const;
  // Why the retransmission timer, expiring at `now`, ends the connection; empty if not.
  std::string_view retransmission_limit(Instant now) const;
  // A timer due at `when` fires no later than the end of the user timeout counted from
  // `since` (Linux's tcp_clamp_rto_to_user_timeout and tcp_clamp_probe0_to_user_timeout).
  Instant clamp_to_user_timeout(Instant when, std::optional<Instant> since, Instant now) const;

  // connection.cpp: shared mechanics
  void set_state(State next, std::string_view cause, Instant now);
  void fail(std::errc error, std::string_view cause, Instant now);
  void queue_fin(Instant now);
  void arm(Timer t, Instant when);
  void cancel(Timer t);
  void restart_retransmit_timer(Instant now);
  void enter_time_wait(Instant now);
  // What read() and peek() say when there is nothing to copy: the pending error, end of
  // stream (0), or would-block.
  void nothing_to_read(std::error_code& ec);
  Seq send_buffer_end() const;  // the sequence number after the last byte written
  std::optional<Seq> fin_seq() const;

  // output.cpp
  std::uint16_t window_to_advertise() const;
  // connection.cpp: the receive buffer's free space the application's SO_RCVBUF allows.
  std::size_t receive_space() const;
  // Whether the free space is enough past the right edge already offered to move it.
  bool right_edge_moves() const;
  void fill_header(OutSegment& out, Seq seq, TcpFlags flags, Instant now) const;
  bool next_syn(Instant now, OutSegment& out);
  bool next_retransmission(Instant now, OutSegment& out);
  // `force`: the persist timer fired; send what the window allows, however small.
  bool next_data_or_fin(Instant now, OutSegment& out, bool force);
  // Output is held back (Nagle, SWS avoidance, a shut window): arms the persist timer when
  // nothing in flight will bring an ACK to restart it.
  void hold_output(std::size_t avail, Instant now);
  // A segment of data (and FIN, if it reaches it) from `start`, at most `len` octets.
  // `super_segment`: with TSO, the most payload one segment may carry, in whole segments
  // of max_payload() (Context::max_super_segment); 0: one segment's worth.
  void fill_data(OutSegment& out, Seq start, std::size_t len, Instant now,
                 std::size_t super_segment = 0) const;
  // The most payload one segment can carry after its options (RFC 6691).
  std::size_t max_payload(const OutSegment& out) const;
  // Records what went out; `in_line` segments continue from SND.NXT.
  void note_sent(const OutSegment& out, Instant now, bool in_line = true);
  void reset_with(Seq seq, bool with_ack, Cause cause);

  // Brings the charge to Context::memory up to buffered_bytes(). Every public call that can
  // change a buffer makes one of these first, so the charge is current when it returns.
  void account_memory();
  struct AccountOnExit {
    Connection& c;
    ~AccountOnExit() { c.account_memory(); }
  };
  // Whether `more` bytes may be held (always, with no budget).
  bool memory_admits(std::size_t more) const { return !ctx_->memory || ctx_->memory->admits(more); }
  // invariants.cpp: reports a broken invariant and aborts.
  [[noreturn]] void invariant_failed(std::string_view invariant, std::string_view values) const;
  friend struct InvariantTestAccess;  // tests: corrupts a TCB to see the check fire

  // Nulled in a moved-from connection, so only the live one counts itself in in_state.
  struct ContextRef {
    Context* ptr = nullptr;
    ContextRef(Context* p) : ptr(p) {}  // NOLINT: implicit by design
    ContextRef(ContextRef&& o) noexcept : ptr(std::exchange(o.ptr, nullptr)) {}
    ContextRef& operator=(ContextRef&& o) noexcept {
      ptr = std::exchange(o.ptr, nullptr);
      return *this;
    }
    Context* operator->() const { return ptr; }
    explicit operator bool() const { return ptr != nullptr; }
  };
  // RFC 5961 §7: challenge ACKs are limited per connection (config_.challenge_ack_limit
  // per config_.challenge_ack_window): the rest are counted and dropped.
  void challenge_ack(Cause why, Instant now);
  static void bump(std::uint16_t& count) {
    if (count < UINT16_MAX) ++count;
  }
  static int count_limit(int limit) { return std::min(limit, static_cast<int>(UINT16_MAX)); }
  void set_dsack(Seq left, Seq right) {
    dsack_ = wire::SackBlock{left.raw(), right.raw()};
    has_dsack_ = true;
  }
  void ack_now(Cause why) {
    if (!ack_now_) ack_cause_ = why;
    ack_now_ = true;
    ack_for_count_ = false;
  }

  // The members are ordered by alignment, 8-byte ones first, and the flags are bits, so
  // that nothing is padding: an idle established connection is mostly this object (issue 9:
  // at most 512 bytes per endpoint, the socket and the stack's tables included). Within each
  // size they are grouped by purpose.

  // --- 8-byte aligned ---
  ContextRef ctx_;
  SharedConfig config_;   // shared with the socket and every connection with the same options
  ByteRing send_buffer_;  // from SND.UNA (data only, not SYN): sent-unACKed, then unsent
  ByteRing receive_buffer_;
  // Receiver: out-of-order data waiting for its hole to fill, and what to SACK.
  Reassembly reassembly_;
  Scoreboard scoreboard_;  // loss recovery: what the peer SACKed
  // Retransmission (RFC 6298) and round-trip timing (one timed segment, Karn's rule).
  RtoEstimator rto_;
  Instant rtt_start_{};
  // Linux's retrans_stamp: the first retransmission since the last progress (the first
  // SYN while connecting), from which TCP_USER_TIMEOUT counts.
  OptionalInstant retrans_stamp_;
  // The first persist timer expiry since the peer's window was last open (Linux's
  // icsk_probes_tstamp), from which TCP_USER_TIMEOUT counts.
  OptionalInstant probes_stamp_;
  Instant challenge_window_start_{};  // see challenge_ack()
  Instant last_received_{};
  // Each timer's deadline, kUnarmed when not armed (half the size of an optional).
  static constexpr Instant kUnarmed = Instant::max();
  std::array<Instant, kTimerCount> timers_{kUnarmed, kUnarmed, kUnarmed, kUnarmed, kUnarmed};
  std::size_t charged_ = 0;  // bytes charged to Context::memory

  // --- 4-byte aligned ---
  FourTuple tuple_;
  // Send sequence variables (RFC 9293 §3.3.1).
  Seq iss_, snd_una_, snd_nxt_;
  Seq snd_max_;  // the highest SND.NXT so far (SND.NXT steps back on timeout)
  std::uint32_t snd_wnd_ = 0;
  std::uint32_t max_snd_wnd_ = 0;  // largest window the peer offered (RFC 9293 §3.8.6.2.1)
  Seq snd_wl1_, snd_wl2_;
  Seq send_buffer_seq_;  // the sequence number of the send buffer's front byte
  // Receive sequence variables.
  Seq irs_, rcv_nxt_;
  Seq rcv_adv_;              // the right edge of the window we advertised: it never moves left
  Seq peer_fin_;             // a FIN that arrived ahead of data, when has_peer_fin_
  wire::SackBlock dsack_{};  // RFC 2883: a duplicate to report first, when has_dsack_
  // Received since our last ACK: at most a receive buffer's worth (saturates, see schedule_ack).
  std::uint32_t unacked_bytes_ = 0;
  // Acknowledgment state (RFC 9293 §3.8.6.3, RFC 5681 §4.2).
  Seq last_ack_sent_;
  std::uint32_t challenge_acks_in_window_ = 0;
  Seq rst_seq_;  // the sequence number of the RST owed (rst_pending_)
  // RFC 7323 timestamps.
  std::uint32_t ts_recent_ = 0;
  std::uint32_t ts_offset_ = 0;  // a per-connection random start for our clock (RFC 7323 §5.4)
  // Retransmission and probes.
  Seq rtt_seq_;  // timed segment, when has_rtt_seq_: a sample when an ACK passes it
  // Congestion control and loss recovery.
  // Inline rather than behind a pointer: Reno is the only algorithm, and a separate
  // allocation cost every connection ~56 bytes. A second one would make this a variant.
  Reno cc_;
  Seq recover_;   // RFC 6582 "recover": SND.MAX when recovery began
  Seq high_rxt_;  // RFC 6675 HighRxt: the highest octet retransmitted
  // Undo of a spurious recovery: the window before it (and undo_retrans_, below).
  std::uint32_t prior_cwnd_ = 0, prior_ssthresh_ = 0;
  std::errc error_{};  // the error the next call reports (pending_error()); {}: none
  // The right edge (RCV.ADV) the last check_invariants() saw, when has_checked_rcv_adv_: it
  // must never move left.
  mutable Seq checked_rcv_adv_;

  // --- 2 and 1 bytes ---
  // Retry and probe counts, 16 bits (issue 9): each one timer expiry or segment apart, they
  // stop at the top (bump()) rather than wrap, and a limit above it is read as the top
  // (count_limit()): 65535 expiries are 18 hours even at keepalive's 1 s floor.
  std::uint16_t retries_ = 0;
  std::uint16_t persist_backoff_ = 0;
  std::uint16_t window_probes_ = 0;  // persist timer expiries since the peer last sent anything
  std::uint16_t keepalive_probes_ = 0;
  std::uint16_t dup_acks_ = 0;
  // Retransmissions in this recovery not yet reported as duplicates (D-SACK); -1: nothing to
  // undo, as after more than 32767 of them (too many to track).
  std::int16_t undo_retrans_ = -1;
  // RFC 9293 §3.7.1: 536 unless the peer says more (cc_, declared before, starts from it too).
  static constexpr std::uint16_t kDefaultSendMss = 536;
  std::uint16_t send_mss_ = kDefaultSendMss;
  State state_ = State::Closed;
  std::uint8_t snd_wscale_ = 0;  // the peer's shift: applied to windows we receive
  std::uint8_t rcv_wscale_ = 0;  // our shift: applied to windows we send
  Cause ack_cause_ = "ack";      // why, for the trace: the first reason given
  Cause rst_cause_;              // for the trace
  Cause drop_reason_;            // see take_drop_reason()

  // --- Flags, one bit each ---
  bool passive_ : 1 = false;   // opened by a listener (SYN_RECEIVED returns to LISTEN on RST)
  bool orphaned_ : 1 = false;  // the application has called close()
  bool fin_queued_ : 1 = false;
  bool fin_received_ : 1 = false;
  bool read_shutdown_ : 1 = false;
  bool ack_now_ : 1 = false;  // an ACK is owed now (ack_cause_ says why)
  // The ACK owed is owed only for the count of bytes received (every second segment): one
  // ACK after several such segments says all they would (see output_can_wait).
  bool ack_for_count_ : 1 = false;
  bool rst_pending_ : 1 = false;   // send RST on the next output
  bool rst_with_ack_ : 1 = false;  // our abort (RST+ACK, as Linux) rather than a reply to a segment
  bool keepalive_probe_ : 1 = false;  // send a keepalive probe on the next output
  bool window_probe_ : 1 = false;     // send a zero-window probe on the next output
  // Options both SYNs carried.
  bool window_scaling_ : 1 = false;  // the window scale option
  bool sack_ok_ : 1 = false;         // RFC 2018
  bool ts_ok_ : 1 = false;           // RFC 7323 timestamps
  // Loss recovery.
  bool in_recovery_ : 1 = false;
  bool recovered_once_ : 1 = false;  // recover_ is meaningful
  bool rtx_first_ : 1 = false;       // retransmit the segment at SND.UNA next (fast retransmit)
  // Whether the Seq members of those names hold a value (an optional's flag, as a bit).
  bool has_peer_fin_ : 1 = false;
  bool has_dsack_ : 1 = false;
  bool has_rtt_seq_ : 1 = false;
  mutable bool has_checked_rcv_adv_ : 1 = false;
};

// Issue 9: a million idle connections, at most 512 bytes per endpoint with the socket and
// the stack's tables; the Connection was 592 bytes before its members were packed, 448
// before SharedConfig became one pointer and the counters and optionals were narrowed. A
// member added here is paid for a million times: keep it under this (or raise it knowing).
static_assert(sizeof(Connection) <= 408, "the TCB grew: see the comment above");

}  // namespace synack::tcp
