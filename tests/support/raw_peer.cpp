#include "support/raw_peer.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "wire/ipv4.hpp"

namespace synack {
void PrintTo(Instant t, std::ostream* os) {
  *os << static_cast<double>(to_nanos(t)) / 1e9 << " s";
}
}  // namespace synack

namespace synack::tcp {
void PrintTo(State s, std::ostream* os) {
  *os << to_string(s);
}
}  // namespace synack::tcp

namespace synack::testing {

void QueueLink::send(wire::Bytes frame, Instant now) {
  outgoing_.emplace_back(frame.begin(), frame.end());
  sent_log.push_back({now, outgoing_.back()});
}

std::size_t QueueLink::receive(Instant now, link::FrameSink& sink, std::size_t budget) {
  std::size_t n = 0;
  while (n < budget && !incoming_.empty()) {
    auto in = std::move(incoming_.front());
    incoming_.pop_front();
    if (in.trusted) {
      sink.on_trusted_frame(in.frame, now);
    } else {
      sink.on_frame(in.frame, now);
    }
    ++n;
  }
  return n;
}

void QueueLink::send_segmented(wire::Bytes frame, Instant now, std::size_t segment_size) {
  segmented_log.push_back({{frame.begin(), frame.end()}, segment_size});
  Link::send_segmented(frame, now, segment_size);
}

std::optional<std::vector<std::uint8_t>> QueueLink::pop_outgoing() {
  if (outgoing_.empty()) return std::nullopt;
  auto f = std::move(outgoing_.front());
  outgoing_.pop_front();
  return f;
}

std::string Seen::describe() const {
  std::ostringstream os;
  os << wire::to_string(header.flags) << " seq=" << header.seq << " ack=" << header.ack
     << " win=" << header.window << " len=" << payload.size();
  return os.str();
}

tcp::Config RawPeer::test_config() {
  tcp::Config c;
  c.window_scaling = false;  // raw windows unless a test turns scaling on
  return c;
}

wire::TcpOptions RawPeer::default_syn_options() {
  wire::TcpOptions o;
  o.mss = 1460;
  return o;
}

namespace {
StackConfig at_local_address(StackConfig c) {
  c.address = RawPeer::kLocal;
  return c;
}
}  // namespace

RawPeer::RawPeer(tcp::Config config, StackConfig stack)
    : stack_(link_, clock_, at_local_address(stack)) {
  stack_.tcp_defaults() = config;
}

void RawPeer::advance(Duration d) {
  clock_.set(clock_.now() + d);
  poll();
}

void RawPeer::advance_to(Instant t) {
  EXPECT_GE(t, clock_.now()) << "time does not go back";
  if (t > clock_.now()) clock_.set(t);
  poll();
}

bool RawPeer::advance_to_next_deadline(Duration limit) {
  const Instant end = clock_.now() + limit;
  const std::size_t sent_before = link_.sent_log.size();
  const std::size_t timers_before = stack_.timers_armed();
  for (int step = 0; step < 1000; ++step) {
    const auto next = stack_.next_deadline();
    if (!next || *next > end) return step > 0;
    if (*next > clock_.now()) clock_.set(*next);
    poll();
    if (link_.sent_log.size() != sent_before || stack_.timers_armed() < timers_before) {
      return true;
    }
  }
  ADD_FAILURE() << "the stack's deadlines did not converge";
  return false;
}

void RawPeer::inject(const In& in, bool bad_checksum) {
  inject_raw(frame_of(in, bad_checksum));
}

void RawPeer::inject_together(std::initializer_list<In> segments) {
  for (const In& in : segments) link_.push_incoming(frame_of(in, false));
  poll();
}

std::vector<std::uint8_t> RawPeer::frame_of(const In& in, bool bad_checksum) const {
  wire::TcpHeader h;
  h.src_port = in.src_port ? in.src_port : kRemotePort;
  h.dst_port = in.dst_port ? in.dst_port : local_port_;
  h.seq = in.seq;
  h.ack = in.ack;
  h.flags = in.flags;
  h.window = in.window;
  h.options = in.options;
  std::vector<std::uint8_t> frame(20 + 60 + in.payload.size());
  const std::size_t len = wire::write_tcp(
      wire::MutableBytes(frame.data() + 20, frame.size() - 20), h,
      wire::Bytes(reinterpret_cast<const std::uint8_t*>(in.payload.data()), in.payload.size()),
      kRemote.to_u32(), kLocal.to_u32());
  EXPECT_GT(len, 0u);
  wire::Ipv4Header ip;
  ip.src = kRemote;
  ip.dst = kLocal;
  ip.protocol = wire::kTcp;
  wire::write_ipv4_header(wire::MutableBytes(frame.data(), 20), ip, len);
  frame.resize(20 + len);
  if (bad_checksum) frame[20 + 16] ^= 0x01;
  return frame;
}

void RawPeer::inject_raw(std::vector<std::uint8_t> frame) {
  link_.push_incoming(std::move(frame));
  poll();
}

std::optional<Seen> RawPeer::next() {
  while (auto frame = link_.pop_outgoing()) {
    auto ip = wire::Ipv4View::parse(*frame);
    EXPECT_TRUE(ip.has_value()) << "the stack sent a malformed IPv4 packet";
    if (!ip || ip->protocol() != wire::kTcp) continue;
    auto tcp = wire::TcpView::parse(ip->payload());
    EXPECT_TRUE(tcp.has_value()) << "the stack sent a malformed TCP segment";
    if (!tcp) continue;
    EXPECT_TRUE(wire::tcp_checksum_ok(ip->src().to_u32(), ip->dst().to_u32(), ip->payload()))
        << "the stack sent a bad TCP checksum";
    Seen s;
    s.at = clock_.now();
    s.header = tcp->to_header();
    s.payload.assign(tcp->payload().begin(), tcp->payload().end());
    return s;
  }
  return std::nullopt;
}

Seen check_seen(const std::optional<Seen>& s, const Out& out) {
  if (!s) {
    ADD_FAILURE() << "expected a segment " << wire::to_string(out.flags) << ", got nothing";
    return {};
  }
  EXPECT_EQ(s->header.flags, out.flags) << s->describe();
  if (out.seq) {
    EXPECT_EQ(s->header.seq, *out.seq) << s->describe();
  }
  if (out.ack) {
    EXPECT_EQ(s->header.ack, *out.ack) << s->describe();
  }
  if (out.window) {
    EXPECT_EQ(s->header.window, *out.window) << s->describe();
  }
  if (out.len) {
    EXPECT_EQ(s->payload.size(), *out.len) << s->describe();
  }
  if (out.payload) {
    EXPECT_EQ(std::string(s->payload.begin(), s->payload.end()), *out.payload) << s->describe();
  }
  return *s;
}

Seen RawPeer::expect(const Out& out) {
  return check_seen(next(), out);
}

void RawPeer::expect_nothing() {
  if (auto s = next()) ADD_FAILURE() << "expected no segment, got " << s->describe();
}

SocketId RawPeer::listen(std::uint16_t port, int backlog) {
  SocketId s = -1;
  EXPECT_FALSE(stack_.tcp_socket(s));
  EXPECT_FALSE(stack_.bind(s, {Ipv4Address(), port}));
  EXPECT_FALSE(stack_.listen(s, backlog));
  local_port_ = port;
  return s;
}

std::uint32_t RawPeer::handshake_to(std::uint16_t port, std::uint32_t peer_iss,
                                    const wire::TcpOptions& syn_options) {
  local_port_ = port;
  inject({.flags = SYN, .seq = peer_iss, .options = syn_options});
  const Seen synack = expect({.flags = SYN | ACK, .ack = peer_iss + 1});
  inject({.flags = ACK, .seq = peer_iss + 1, .ack = synack.header.seq + 1});
  expect_nothing();
  return synack.header.seq;
}

SocketId RawPeer::connect_from_stack(std::uint16_t remote_port) {
  SocketId s = -1;
  EXPECT_FALSE(stack_.tcp_socket(s));
  EXPECT_EQ(stack_.connect(s, {kRemote, remote_port}), std::errc::operation_in_progress);
  poll();
  Endpoint local;
  stack_.getsockname(s, local);
  local_port_ = local.port;
  return s;
}

Opened RawPeer::accept_established(std::uint32_t peer_iss, std::uint16_t window,
                                   const wire::TcpOptions& syn_options, std::uint16_t port) {
  Opened o;
  o.peer_iss = peer_iss;
  o.listener = listen(port);
  inject({.flags = SYN, .seq = peer_iss, .options = syn_options});
  o.iss = expect({.flags = SYN | ACK, .ack = peer_iss + 1}).header.seq;
  inject({.flags = ACK, .seq = peer_iss + 1, .ack = o.iss + 1, .window = window});
  expect_nothing();
  EXPECT_FALSE(stack_.accept(o.listener, o.socket));
  EXPECT_EQ(stack_.tcp_state(o.socket), tcp::State::Established);
  return o;
}

Opened RawPeer::connect_established(std::uint32_t peer_iss, std::uint16_t window,
                                    const wire::TcpOptions& syn_options) {
  Opened o;
  o.peer_iss = peer_iss;
  o.socket = connect_from_stack();
  o.iss = expect({.flags = SYN}).header.seq;
  inject({.flags = SYN | ACK,
          .seq = peer_iss,
          .ack = o.iss + 1,
          .window = window,
          .options = syn_options});
  expect({.flags = ACK, .seq = o.iss + 1, .ack = peer_iss + 1});
  EXPECT_EQ(stack_.tcp_state(o.socket), tcp::State::Established);
  return o;
}

Opened RawPeer::accept_in_state(tcp::State state) {
  using tcp::State;
  const Opened c = accept_established();
  const std::uint32_t peer = c.peer_iss + 1;  // the peer's next sequence number
  const auto our_fin = [&] {
    shutdown(c.socket, Shutdown::write);
    expect({.flags = FIN | ACK, .seq = c.iss + 1});
  };
  const auto peer_fin = [&](std::uint32_t ack) {
    inject({.flags = FIN | ACK, .seq = peer, .ack = ack});
    expect({.flags = ACK, .ack = peer + 1});
  };
  switch (state) {
    case State::Established:
      break;
    case State::FinWait1:
      our_fin();
      break;
    case State::FinWait2:
      our_fin();
      inject({.flags = ACK, .seq = peer, .ack = c.iss + 2});
      break;
    case State::Closing:
      our_fin();
      peer_fin(c.iss + 1);
      break;
    case State::TimeWait:
      our_fin();
      peer_fin(c.iss + 2);
      break;
    case State::CloseWait:
      peer_fin(c.iss + 1);
      break;
    case State::LastAck:
      peer_fin(c.iss + 1);
      our_fin();
      break;
    default:
      ADD_FAILURE() << "accept_in_state cannot reach " << tcp::to_string(state);
  }
  expect_nothing();
  EXPECT_EQ(stack_.tcp_state(c.socket), state);
  return c;
}

std::error_code RawPeer::write(SocketId s, std::string_view data, std::size_t* written) {
  std::size_t n = 0;
  const auto ec = stack_.write(
      s, std::span(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()), n);
  if (written) *written = n;
  poll();
  return ec;
}

std::error_code RawPeer::read(SocketId s, std::string& out, std::size_t max) {
  std::vector<std::uint8_t> buf(max);
  std::size_t n = 0;
  const auto ec = stack_.read(s, buf, n);
  out.assign(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
  poll();
  return ec;
}

std::error_code RawPeer::close(SocketId s) {
  const auto ec = stack_.close(s);
  poll();
  return ec;
}

std::error_code RawPeer::shutdown(SocketId s, Shutdown how) {
  const auto ec = stack_.shutdown(s, how);
  poll();
  return ec;
}

}  // namespace synack::testing
