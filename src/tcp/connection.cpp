#include "tcp/connection.hpp"

#include <algorithm>

namespace synack::tcp {

std::string_view to_string(Timer t) {
  switch (t) {
    case Timer::Retransmit:
      return "retransmit";
    case Timer::DelayedAck:
      return "delayed ack";
    case Timer::TimeWait:
      return "2MSL";
    case Timer::Keepalive:
      return "keepalive";
    case Timer::Persist:
      return "persist";
  }
  return "?";
}

std::uint8_t window_shift_for(std::size_t buffer) {
  std::uint8_t shift = 0;
  while (shift < 14 && (buffer >> shift) > 0xffff) ++shift;
  return shift;
}

namespace {

// The shift our SYN offers: for the largest buffer the connection may have, as Linux's
// tcp_select_initial_window, while the windows we advertise come from the buffer it has.
std::uint8_t offered_shift(const Config& config) {
  if (!config.window_scaling) return 0;
  return window_shift_for(std::max(config.receive_buffer, config.receive_buffer_max));
}

// Room beyond SO_RCVBUF for one unit of the scaled window, less an octet: rounding a kept
// window up to a whole unit, so as never to shrink it, must not offer octets the buffer
// cannot take (see window_to_advertise).
std::size_t scale_slack(const Config& config) {
  return (std::size_t{1} << offered_shift(config)) - 1;
}

}  // namespace

Connection::Connection(Context& ctx, SharedConfig config, const FourTuple& tuple, Seq iss,
                       Instant now)
    : ctx_(&ctx),
      config_(std::move(config)),
      send_buffer_(config_->send_buffer, ctx.buffers),
      receive_buffer_(config_->receive_buffer + scale_slack(*config_), ctx.buffers),
      rto_(config_->rto_initial),
      last_received_(now),
      tuple_(tuple),
      iss_(iss),
      snd_una_(iss),
      snd_nxt_(iss),
      snd_max_(iss),
      send_buffer_seq_(iss + 1),
      cc_(kDefaultSendMss) {
  // A per-connection start for the timestamp clock, so tsval reveals neither uptime nor
  // other connections (RFC 7323 §5.4); derived from the ISS, itself a keyed hash.
  ts_offset_ = ts_offset_for(iss);
  rcv_wscale_ = offered_shift(*config_);
  ++ctx_->counters.tcp.in_state[static_cast<std::size_t>(state_)];
}

Connection::~Connection() {
  // A moved-from connection has no context and counts for nothing.
  if (!ctx_) return;
  --ctx_->counters.tcp.in_state[static_cast<std::size_t>(state_)];
  if (ctx_->memory) ctx_->memory->update(charged_, 0);
}

std::size_t Connection::buffered_bytes() const {
  // Out-of-order data sits in the receive ring past its readable bytes; after
  // shutdown(SHUT_RD) nothing is written there, only remembered for the ACKs.
  return send_buffer_.size() + receive_buffer_.size() + (read_shutdown_ ? 0 : reassembly_.bytes());
}

void Connection::account_memory() {
  const std::size_t now_held = buffered_bytes();
  if (ctx_->memory) ctx_->memory->update(charged_, now_held);
  charged_ = now_held;
}

Connection Connection::active_open(Context& ctx, SharedConfig config, const FourTuple& tuple,
                                   Seq iss, Instant now) {
  Connection c(ctx, std::move(config), tuple, iss, now);
  ++ctx.counters.tcp.active_opens;
  c.set_state(State::SynSent, "connect()", now);
  return c;
}

Connection Connection::passive_open(Context& ctx, SharedConfig config, const FourTuple& tuple,
                                    Seq iss, const Segment& syn, Instant now) {
  Connection c(ctx, std::move(config), tuple, iss, now);
  c.passive_ = true;
  ++ctx.counters.tcp.passive_opens;
  // 3.10.7.2 third: RCV.NXT = SEG.SEQ+1, IRS = SEG.SEQ; the SYN,ACK goes out next.
  c.irs_ = syn.seq;
  c.rcv_nxt_ = syn.seq + 1;
  c.rcv_adv_ = c.rcv_nxt_;
  c.take_peer_syn_options(syn, now);
  c.snd_wnd_ = syn.window;  // a SYN's window is never scaled (RFC 7323 §2.2)
  c.max_snd_wnd_ = c.snd_wnd_;
  c.snd_wl1_ = syn.seq;
  c.set_state(State::SynReceived, "SYN received", now);
  return c;
}

namespace {

// What a cookie keeps of the SYN's options: only with timestamps, whose low bits carry it.
std::optional<CookieOptions> cookie_options_of(const Config& config, const Segment& syn) {
  if (!config.timestamps || !syn.options.timestamps) return std::nullopt;
  CookieOptions o;
  if (config.window_scaling) o.window_scale = syn.options.window_scale;
  o.sack_permitted = config.sack && syn.options.sack_permitted;
  return o;
}

// The window a SYN,ACK offers: the receive buffer, unscaled (RFC 7323 §2.2).
std::uint16_t syn_ack_window(const Config& config) {
  return static_cast<std::uint16_t>(std::min<std::size_t>(config.receive_buffer, 0xffff));
}

}  // namespace

OutSegment Connection::cookie_syn_ack(const Config& config, const FourTuple& tuple, Seq cookie,
                                      const Segment& syn, Instant now) {
  // What next_syn() sends for a passive open, with what the cookie carries instead of
  // what a TCB would remember.
  OutSegment out;
  auto& h = out.header;
  h.src_port = tuple.local.port;
  h.dst_port = tuple.remote.port;
  h.seq = cookie.raw();
  h.ack = (syn.seq + 1).raw();
  h.flags = TcpFlags::syn | TcpFlags::ack;
  h.window = syn_ack_window(config);
  h.options.mss = config.mss;
  if (const auto carried = cookie_options_of(config, syn)) {
    if (carried->window_scale) h.options.window_scale = offered_shift(config);
    h.options.sack_permitted = carried->sack_permitted;
    h.options.timestamps =
        wire::TcpTimestamps{syn_cookie_tsval(ts_clock(ts_offset_for(cookie), now), *carried),
                            syn.options.timestamps->tsval};
  }
  out.cause = "SYN received: SYN cookie";
  return out;
}

Connection Connection::from_cookie(Context& ctx, SharedConfig config, const FourTuple& tuple,
                                   const Segment& ack, std::uint16_t peer_mss,
                                   const CookieOptions& options, Instant now) {
  const Seq iss = ack.ack - 1;
  Connection c(ctx, std::move(config), tuple, iss, now);
  c.passive_ = true;
  ++ctx.counters.tcp.passive_opens;
  // The SYN as the cookie remembers it: its sequence number, the MSS rounded down to the
  // table's, and, with timestamps, window scale and SACK-permitted from our TSval.
  Segment syn;
  syn.seq = ack.seq - 1;
  syn.flags = TcpFlags::syn;
  syn.options.mss = peer_mss;
  if (c.config_->timestamps && ack.options.timestamps) {
    syn.options.window_scale = options.window_scale;
    syn.options.sack_permitted = options.sack_permitted;
    syn.options.timestamps = wire::TcpTimestamps{ack.options.timestamps->tsval, 0};
  }
  c.irs_ = syn.seq;
  c.rcv_nxt_ = ack.seq;
  c.take_peer_syn_options(syn, now);
  // As if our SYN,ACK had gone out from this connection (note_sent) and been acknowledged.
  c.last_ack_sent_ = c.rcv_nxt_;
  c.rcv_adv_ = c.rcv_nxt_ + std::uint32_t{syn_ack_window(*c.config_)};
  c.snd_una_ = iss + 1;
  c.snd_nxt_ = iss + 1;
  c.snd_max_ = iss + 1;
  // 3.10.7.4 fifth, SYN-RECEIVED: the ACK of our SYN sets the window, scaled now.
  c.snd_wnd_ = static_cast<std::uint32_t>(ack.window) << c.snd_wscale_;
  c.max_snd_wnd_ = c.snd_wnd_;
  c.snd_wl1_ = ack.seq;
  c.snd_wl2_ = ack.ack;
  c.set_state(State::Established, "ACK of SYN cookie", now);
  return c;
}

// --- Shared mechanics ----------------------------------------------------------------------

void Connection::set_state(State next, std::string_view cause, Instant now) {
  if (next == state_) return;
  const State prev = state_;
  auto& in_state = ctx_->counters.tcp.in_state;
  --in_state[static_cast<std::size_t>(prev)];
  ++in_state[static_cast<std::size_t>(next)];
  state_ = next;
  // Keepalive runs in every synchronized state but TIME_WAIT; it starts on the way in,
  // which is usually ESTABLISHED but is FIN_WAIT_1 for a close() in SYN_RECEIVED.
  if (config_->keepalive.enabled && synchronized(next) && !synchronized(prev) &&
      next != State::TimeWait) {
    arm(Timer::Keepalive, now + config_->keepalive.idle);
  }
  if (ctx_->trace) ctx_->trace->on_state(now, tuple_, prev, next, cause);
  if (next == State::Closed) {
    for (std::size_t t = 0; t < kTimerCount; ++t) cancel(static_cast<Timer>(t));
  }
}

void Connection::fail(std::errc error, std::string_view cause, Instant now) {
  if (state_ == State::SynSent || state_ == State::SynReceived) {
    ++ctx_->counters.tcp.attempt_fails;
  }
  if (!orphaned_) error_ = error;  // [RFC9293 MUST-12, MUST-47]
  send_buffer_.release();
  receive_buffer_.release();
  set_state(State::Closed, cause, now);
}

void Connection::reset_with(Seq seq, bool with_ack, Cause cause) {
  rst_pending_ = true;
  rst_seq_ = seq;
  rst_with_ack_ = with_ack;
  rst_cause_ = cause;
}

void Connection::arm(Timer t, Instant when) {
  auto& slot = timers_[static_cast<std::size_t>(t)];
  if (slot == when) return;
  slot = when;
}

void Connection::cancel(Timer t) {
  auto& slot = timers_[static_cast<std::size_t>(t)];
  if (slot == kUnarmed) return;
  slot = kUnarmed;
}

void Connection::restart_retransmit_timer(Instant now) {
  if (snd_una_ == snd_max_) {
    cancel(Timer::Retransmit);  // RFC 6298 (5.2): everything is acknowledged
  } else {
    arm(Timer::Retransmit, now + current_rto());  // RFC 6298 (5.3)
  }
}

Seq Connection::send_buffer_end() const {
  return send_buffer_seq_ + send_buffer_.size();
}

std::optional<Seq> Connection::fin_seq() const {
  if (!fin_queued_) return std::nullopt;
  return send_buffer_end();
}

void Connection::queue_fin(Instant now) {
  if (fin_queued_) return;
  fin_queued_ = true;
  switch (state_) {
    case State::SynReceived:
    case State::Established:
      set_state(State::FinWait1, "close()", now);
      break;
    case State::CloseWait:
      set_state(State::LastAck, "close()", now);
      break;
    default:
      break;
  }
}

void Connection::enter_time_wait(Instant now) {
  set_state(State::TimeWait, "FIN exchange done", now);
  cancel(Timer::Retransmit);
  cancel(Timer::Keepalive);
  cancel(Timer::DelayedAck);
  cancel(Timer::Persist);
  // TIME_WAIT keeps the sequence numbers and nothing else (DESIGN.md principle 5), except
  // data the application has yet to read: that stays readable, as on Linux.
  send_buffer_.release();
  if (orphaned_ || receive_buffer_.empty()) receive_buffer_.release();
  arm(Timer::TimeWait, now + 2 * config_->msl);  // [RFC9293 MUST-13]
}

std::size_t Connection::receive_space() const {
  // The ring's capacity is SO_RCVBUF and the scale's slack; the slack is never offered as
  // free space. A released buffer (TIME_WAIT) offers nothing.
  const std::size_t buffer = std::min(receive_buffer_.capacity(), config_->receive_buffer);
  return buffer > receive_buffer_.size() ? buffer - receive_buffer_.size() : 0;
}

bool Connection::right_edge_moves() const {
  // RFC 9293 §3.8.6.2.2: by an MSS, or half the buffer, whichever is less.
  const auto threshold = std::min<std::size_t>(config_->receive_buffer / 2, send_mss_);
  const std::size_t space = receive_space();
  const std::uint32_t offered = rcv_wnd();
  return space > offered && space - offered >= threshold;
}

std::uint32_t Connection::rcv_wnd() const {
  const std::int32_t w = rcv_adv_ - rcv_nxt_;
  return w > 0 ? static_cast<std::uint32_t>(w) : 0;
}

bool Connection::readable() const {
  if (pending_error()) return true;
  if (!receive_buffer_.empty()) return true;
  // End of stream: read() returns 0 without blocking.
  return fin_received_ || read_shutdown_ || state_ == State::Closed;
}

bool Connection::writable() const {
  if (pending_error()) return true;
  switch (state_) {
    case State::Established:
    case State::CloseWait:
      return !fin_queued_ && send_buffer_.free() > 0;
    case State::Closed:
      return true;  // a write reports the error at once
    default:
      return false;
  }
}

// --- The application's calls ----------------------------------------------------------------

std::size_t Connection::write(std::span<const std::uint8_t> data, std::error_code& ec) {
  const AccountOnExit account{*this};
  ec.clear();
  if (pending_error()) {
    ec = take_error();
    return 0;
  }
  switch (state_) {
    case State::SynSent:
    case State::SynReceived:
      ec = std::make_error_code(std::errc::resource_unavailable_try_again);
      return 0;
    case State::Established:
    case State::CloseWait:
      break;
    default:  // our FIN is queued or the connection is over: EPIPE, as POSIX says
      ec = std::make_error_code(std::errc::broken_pipe);
      return 0;
  }
  if (fin_queued_) {
    ec = std::make_error_code(std::errc::broken_pipe);
    return 0;
  }
  // The stack's buffer memory bounds the write as the socket's own buffer does; with the
  // buffer full the caller waits for ACKs (EAGAIN), with the stack's memory used up it is
  // told so (ENOBUFS), as a write the system has no memory for is.
  const std::size_t room = ctx_->memory ? ctx_->memory->room() : data.size();
  const std::size_t n = send_buffer_.push(data.first(std::min(data.size(), room)));
  if (n == 0 && !data.empty()) {
    if (send_buffer_.free() > 0 && room == 0) {
      ++ctx_->counters.tcp.snd_mem_refused;
      ec = std::make_error_code(std::errc::no_buffer_space);
    } else {
      ec = std::make_error_code(std::errc::resource_unavailable_try_again);
    }
  }
  return n;
}

std::size_t Connection::read(std::span<std::uint8_t> out, std::error_code& ec) {
  const AccountOnExit account{*this};
  ec.clear();
  if (!receive_buffer_.empty() && !read_shutdown_) {
    const std::size_t n = receive_buffer_.pop(out);
    // A window update when reading lets the right edge move (window_to_advertise): the
    // receiver's side of SWS avoidance (RFC 9293 §3.8.6.2.2), and the update that unblocks
    // a sender facing a zero window.
    const bool receiving =
        state_ == State::Established || state_ == State::FinWait1 || state_ == State::FinWait2;
    if (receiving && n > 0 && right_edge_moves()) ack_now("window update");
    return n;
  }
  nothing_to_read(ec);
  return 0;
}

std::size_t Connection::peek(std::span<std::uint8_t> out, std::error_code& ec) {
  ec.clear();
  // Nothing leaves the buffer, so the window stays as it is: no update to send.
  if (!receive_buffer_.empty() && !read_shutdown_) return receive_buffer_.copy_out(0, out);
  nothing_to_read(ec);
  return 0;
}

void Connection::nothing_to_read(std::error_code& ec) {
  if (pending_error()) {
    ec = take_error();
    return;
  }
  if (fin_received_ || read_shutdown_ || state_ == State::Closed) return;  // EOF
  ec = std::make_error_code(std::errc::resource_unavailable_try_again);
}

void Connection::shutdown_write(Instant now) {
  const AccountOnExit account{*this};
  switch (state_) {
    case State::SynSent:
      fail(std::errc::not_connected, "shutdown() before connect", now);
      break;
    case State::SynReceived:
    case State::Established:
    case State::CloseWait:
      queue_fin(now);
      break;
    default:
      break;
  }
}

void Connection::shutdown_read() {
  const AccountOnExit account{*this};
  read_shutdown_ = true;
  receive_buffer_.consume(receive_buffer_.size());
}

void Connection::close(Instant now) {
  const AccountOnExit account{*this};
  orphaned_ = true;
  error_ = {};
  const bool unread = !receive_buffer_.empty();
  const bool linger_abort = config_->linger.enabled && config_->linger.seconds == 0;
  if (state_ == State::SynSent) {
    set_state(State::Closed, "close()", now);
    return;
  }
  if ((unread || linger_abort) && state_ != State::Closed && state_ != State::TimeWait) {
    // Linux (and RFC 2525 §2.17): closing with unread data resets the connection, so the
    // peer learns the data was not consumed.
    abort(now);
    return;
  }
  read_shutdown_ = true;
  queue_fin(now);
  // Half-closed before (shutdown(SHUT_WR)), FIN_WAIT_2 already: an orphan now, it waits
  // for the peer's FIN no longer than Linux's tcp_fin_timeout, as one that got there after
  // close() does (on_ack).
  if (state_ == State::FinWait2) arm(Timer::TimeWait, now + 2 * config_->msl);
}

void Connection::settings_changed() {
  if (config_->keepalive.enabled && synchronized(state_) && state_ != State::TimeWait) {
    // The idle time counts from the last segment received, with the TCP_KEEPIDLE now set:
    // an application sets SO_KEEPALIVE first and TCP_KEEPIDLE after, and the timer armed
    // by the first must follow the second (as Linux's keepalive_time_set re-arms it).
    // While probes are out, the interval runs on.
    if (keepalive_probes_ == 0 || !deadline(Timer::Keepalive)) {
      arm(Timer::Keepalive, last_received_ + config_->keepalive.idle);
    }
  } else {
    cancel(Timer::Keepalive);
  }
}

void Connection::abort(Instant now) {
  const AccountOnExit account{*this};
  switch (state_) {
    case State::SynReceived:
    case State::Established:
    case State::FinWait1:
    case State::FinWait2:
    case State::CloseWait:
      reset_with(snd_nxt_, true, "abort");
      break;
    default:
      break;
  }
  orphaned_ = true;  // our own abort reports no error to us
  send_buffer_.release();
  receive_buffer_.release();
  set_state(State::Closed, "abort", now);
}

}  // namespace synack::tcp
