// TCP input: parse and verify, then demultiplex: an existing connection (by 4-tuple), a
// listener (RFC 9293 §3.10.7.2), or nobody (CLOSED, §3.10.7.1: answer with RST).
#include <algorithm>

#include "stack/stack_impl.hpp"

namespace synack {

using tcp::Seq;
using wire::TcpFlags;

void Stack::Impl::send_tcp(const FourTuple& tuple, const tcp::OutSegment& out,
                           const ByteRing* payload) {
  constexpr std::size_t kIp = 20;
  const std::size_t header = wire::tcp_header_length(out.header);
  // Built where the link keeps its frames when it lends them (one copy of the data less),
  // else in tx.
  std::span<std::uint8_t> frame = link.lend(kIp + header + out.payload_length);
  if (frame.empty()) frame = tx;
  const wire::MutableBytes segment = frame.subspan(kIp);
  const std::uint32_t src = tuple.local.address.to_u32(), dst = tuple.remote.address.to_u32();
  const auto data = payload ? payload->pieces(out.payload_offset, out.payload_length)
                            : std::array<wire::Bytes, 2>{};
  if (link.max_segmented_frame() != 0) {
    // With segmentation offload the link completes each piece's checksum [RFC9293 MUST-2]
    // from the pseudo-header sum left in the field (a segment without data too).
    std::uint8_t* to = segment.data() + header;
    for (const wire::Bytes piece : data) to = std::copy(piece.begin(), piece.end(), to);
    const std::size_t len =
        wire::write_tcp_in_place_for_offload(segment, out.header, out.payload_length, src, dst);
    send_ip(tuple.remote.address, wire::kTcp, len, out.cause,
            out.segment_size != 0 ? out.segment_size : std::size_t{0xffff}, out.pieces(),
            frame.data());
    return;
  }
  // Otherwise the builder computes it [RFC9293 MUST-2], summing the data as it copies it.
  const std::size_t len = wire::write_tcp_gathering(segment, out.header, data, src, dst);
  send_ip(tuple.remote.address, wire::kTcp, len, out.cause, 0, 1, frame.data());
}

// RFC 9293 §3.10.7.1: if the incoming segment has an ACK, <SEQ=SEG.ACK><CTL=RST>;
// otherwise <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. An RST is never answered.
void Stack::Impl::send_reset_for(const FourTuple& tuple, const tcp::Segment& seg,
                                 std::string_view cause) {
  if (seg.has(TcpFlags::rst)) return;
  tcp::OutSegment out;
  out.header.src_port = tuple.local.port;
  out.header.dst_port = tuple.remote.port;
  if (seg.has(TcpFlags::ack)) {
    out.header.seq = seg.ack.raw();
    out.header.flags = TcpFlags::rst;
  } else {
    out.header.seq = 0;
    out.header.ack = (seg.seq + seg.len()).raw();
    out.header.flags = TcpFlags::rst | TcpFlags::ack;
  }
  out.cause = cause;
  ++counters.tcp.out_rsts;
  ++counters.tcp.out_segs;
  send_tcp(tuple, out, nullptr);
}

void Stack::Impl::tcp_input(const wire::Ipv4View& ip) {
  const wire::Bytes bytes = ip.payload();
  auto parsed = wire::TcpView::parse(bytes);
  if (!parsed) {
    ++counters.tcp.malformed;
    drop(ip.packet(), "tcp", wire::to_string(parsed.error()));
    return;
  }
  // [RFC9293 MUST-3], unless the medium vouches for it (link::FrameSink::on_trusted_frame).
  if (!rx_checksum_trusted && !wire::tcp_checksum_ok(ip.src().to_u32(), ip.dst().to_u32(), bytes)) {
    ++counters.tcp.bad_checksum;
    drop(ip.packet(), "tcp", "bad checksum");
    return;
  }
  ++counters.tcp.in_segs;
  const tcp::Segment seg = tcp::Segment::from(*parsed);
  if (seg.options.malformed_known) ++counters.tcp.bad_options;
  const FourTuple tuple{{config.address, parsed->dst_port()}, {ip.src(), parsed->src_port()}};

  if (const ConnId id = demux_find(tuple); id != kNoConn) {
    ConnSlot& slot = conns[id];
    tcp::Connection& c = *slot.conn;
    if (c.state() == tcp::State::TimeWait && seg.has(TcpFlags::syn) && !seg.has(TcpFlags::ack) &&
        !seg.has(TcpFlags::rst) && after(seg.seq, c.rcv_nxt()) &&
        listeners.contains(tuple.local.port)) {
      // RFC 9293 §3.10.7.4 / RFC 6191: a new SYN above the old connection's sequence space
      // may reopen a 4-tuple in TIME_WAIT. The old incarnation goes; the listener takes the
      // SYN with an ISS past the old SND.NXT, so no old segment can be confused with new.
      ++counters.tcp.time_wait_reused;
      const Seq old_snd_nxt = c.snd_nxt();
      c.abort(now);  // TIME_WAIT: closes quietly, sends nothing
      after_event(id);
      const std::string_view why =
          listen_input(listeners.at(tuple.local.port), tuple, seg, old_snd_nxt + 65536 + 2);
      if (!why.empty()) drop(ip.packet(), "tcp", why);
      return;
    }
    if (slot.listener >= 0 && c.state() == tcp::State::SynReceived && seg.has(TcpFlags::ack) &&
        !seg.has(TcpFlags::rst) && !seg.has(TcpFlags::syn)) {
      const Listener& l = *sockets[static_cast<std::size_t>(slot.listener)].listener;
      if (l.accept_queue.size() >= static_cast<std::size_t>(l.backlog)) {
        // Linux (tcp_abort_on_overflow = 0): with the accept queue full, the final ACK is
        // dropped; the child stays in SYN_RECEIVED and its SYN,ACK is retransmitted, so
        // the handshake completes once the application accepts.
        ++counters.tcp.listen_overflows;
        drop(ip.packet(), "tcp", "accept queue full");
        return;
      }
    }
    c.on_segment(seg, now);
    if (const std::string_view why = c.take_drop_reason(); !why.empty()) {
      drop(ip.packet(), "tcp", why);
    }
    // Output that may wait for the end of the batch of frames: one cumulative ACK for all
    // of its in-order segments [RFC9293 MUST-58].
    if (in_input_batch && slot.listener < 0 && !c.finished() && c.output_can_wait()) {
      if (!slot.output_waits) {
        slot.output_waits = true;
        output_waiting.push_back(id);
      }
      return;
    }
    after_event(id);
    return;
  }

  // An orphan's TIME_WAIT, compacted (stack/time_wait.cpp).
  if (const auto h = time_wait.find(tuple)) {
    time_wait_input(*h, tuple, seg, ip.packet());
    return;
  }

  // A listener sees only what no connection claims [RFC9293 MUST-41].
  if (auto it = listeners.find(tuple.local.port); it != listeners.end()) {
    if (const std::string_view why = listen_input(it->second, tuple, seg); !why.empty()) {
      drop(ip.packet(), "tcp", why);
    }
    return;
  }

  ++counters.tcp.no_port;
  drop(ip.packet(), "tcp", "no socket on port");
  send_reset_for(tuple, seg, "no socket: RST");
}

// RFC 9293 §3.10.7.2, LISTEN.
std::string_view Stack::Impl::listen_input(SocketId listener, const FourTuple& tuple,
                                           const tcp::Segment& seg,
                                           std::optional<tcp::Seq> min_iss) {
  // first: an RST is ignored.
  if (seg.has(TcpFlags::rst)) {
    ++counters.tcp.rst_ignored;
    return "RST in LISTEN";
  }
  // second: an ACK is bad in LISTEN: <SEQ=SEG.ACK><CTL=RST>, unless it is the last of a
  // handshake whose SYN was answered with a cookie.
  if (seg.has(TcpFlags::ack)) {
    if (!seg.has(TcpFlags::syn)) {
      if (const auto cookie = cookie_ack_input(listener, tuple, seg)) return *cookie;
    }
    ++counters.tcp.bad_ack;
    send_reset_for(tuple, seg, "ACK in LISTEN: RST");
    return "";
  }
  // fourth (taken first, as it only drops): a segment with neither SYN nor ACK has no
  // business here: every segment but the opening SYN must carry an ACK.
  if (!seg.has(TcpFlags::syn)) {
    ++counters.tcp.no_ack_flag;
    return "neither SYN nor ACK in LISTEN";
  }
  // third: a SYN makes a child in SYN_RECEIVED, if both queues have room. A SYN that
  // finds the accept queue full is dropped (the client retries), as on Linux; one that
  // finds only the half-open queue full gets a SYN cookie (RFC 4987), or with cookies off
  // is dropped too.
  // SYN+FIN: RFC 9293 would take the SYN and then the FIN in SYN_RECEIVED, but no real
  // opener sends both at once and port scanners do; like Linux (since 3.5) and FreeBSD
  // (net.inet.tcp.drop_synfin), drop it and count it.
  if (seg.has(TcpFlags::fin)) {
    ++counters.tcp.bad_flags;
    return "SYN+FIN";
  }
  if (syn_over_limits()) return "SYN at the socket or memory limit";
  SocketSlot& ls = sockets[static_cast<std::size_t>(listener)];
  Listener& l = *ls.listener;
  const auto limit = static_cast<std::size_t>(l.backlog);
  if (l.accept_queue.size() >= limit || (l.half_open >= limit && !ls.tcp->syn_cookies)) {
    ++counters.tcp.syn_dropped;
    return l.accept_queue.size() >= limit ? "SYN: accept queue full" : "SYN: half-open queue full";
  }
  if (l.half_open >= limit) {
    // A cookie cannot honour a reopened TIME_WAIT's `min_iss`; as on Linux it is sent all
    // the same (the old incarnation is gone, and RFC 6191 leans on timestamps, which PAWS
    // checks, more than on the ISS).
    send_syn_cookie(listener, tuple, seg);
    return "";
  }
  Seq iss = isn(tuple);
  if (min_iss && before(iss, *min_iss)) iss = *min_iss;
  auto child = tcp::Connection::passive_open(ctx, ls.tcp, tuple, iss, seg, now);
  ++l.half_open;
  const ConnId id = add_connection(std::move(child), -1, listener);
  after_event(id);
  return "";
}

// RFC 4987 §3.6: the SYN,ACK's ISS is a cookie of the 4-tuple, the SYN's sequence number,
// the time and the peer's MSS; no TCB is made, so a flood of SYNs costs no memory.
void Stack::Impl::send_syn_cookie(SocketId listener, const FourTuple& tuple,
                                  const tcp::Segment& syn) {
  SocketSlot& ls = sockets[static_cast<std::size_t>(listener)];
  const std::uint8_t mss_index = tcp::syn_cookie_mss_index(syn.options.mss.value_or(536));
  const Seq cookie =
      tcp::syn_cookie_encode(cookie_key, tuple, syn.seq, tcp::syn_cookie_counter(now), mss_index);
  const tcp::OutSegment out = tcp::Connection::cookie_syn_ack(*ls.tcp, tuple, cookie, syn, now);
  ls.listener->last_cookie_sent = now;
  ++counters.tcp.syncookies_sent;
  ++counters.tcp.out_segs;
  send_tcp(tuple, out, nullptr);
}

// An ACK in LISTEN that may complete a handshake answered with a cookie: SEG.ACK - 1 must
// be a cookie made for this 4-tuple and SEG.SEQ - 1 within the last two counters.
std::optional<std::string_view> Stack::Impl::cookie_ack_input(SocketId listener,
                                                              const FourTuple& tuple,
                                                              const tcp::Segment& ack) {
  SocketSlot& ls = sockets[static_cast<std::size_t>(listener)];
  Listener& l = *ls.listener;
  // Like Linux's tcp_synq_no_recent_overflow: with no cookie sent lately no ACK can carry
  // a good one, and checking would only give a blind guesser its one-in-2^22 chance.
  if (!ls.tcp->syn_cookies || !l.last_cookie_sent ||
      now - *l.last_cookie_sent > tcp::kCookieValidity) {
    return std::nullopt;
  }
  const auto mss_index = tcp::syn_cookie_check(cookie_key, tuple, ack.seq - 1, ack.ack - 1,
                                               tcp::syn_cookie_counter(now));
  if (!mss_index) {
    ++counters.tcp.syncookies_failed;
    return std::nullopt;
  }
  // The options in the TSecr are only read when the SYN,ACK could have carried timestamps.
  tcp::CookieOptions options;
  if (ls.tcp->timestamps && ack.options.timestamps) {
    options = tcp::syn_cookie_options(ack.options.timestamps->tsecr);
  }
  ++counters.tcp.syncookies_validated;
  if (l.accept_queue.size() >= static_cast<std::size_t>(l.backlog)) {
    // As for a child's final ACK: dropped, and the peer's next segment (a retransmission,
    // or data, each with the same ACK) tries again while the cookie is young.
    ++counters.tcp.listen_overflows;
    return "good SYN cookie: accept queue full";
  }
  auto conn = tcp::Connection::from_cookie(ctx, ls.tcp, tuple, ack,
                                           tcp::kCookieMssTable[*mss_index], options, now);
  const ConnId id = add_connection(std::move(conn), -1, listener);
  ConnSlot& slot = conns[id];
  // Straight to the accept queue: it never was half-open.
  slot.in_accept_queue = true;
  l.accept_queue.push_back(id);
  slot.conn->on_segment(ack, now);  // the ACK's text and FIN, if it has any
  after_event(id);
  return "";
}

}  // namespace synack
