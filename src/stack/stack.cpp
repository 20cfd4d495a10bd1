// The public socket API: argument checks, then the socket table and the connection.
#include "synack/stack.hpp"

#include <algorithm>

#include "stack/stack_impl.hpp"

namespace synack {
namespace {

std::error_code err(std::errc e) {
  return std::make_error_code(e);
}

}  // namespace

Stack::Impl::Impl(link::Link& l, const Clock& c, const StackConfig& cfg)
    : link(l), clock(c), config(cfg), secret{cfg.secret[0], cfg.secret[1]} {
  memory.limit = cfg.max_buffer_memory;
  // Our MSS follows the link's MTU, MMS_R - 40 [RFC9293 MUST-67].
  tcp_defaults.mss = static_cast<std::uint16_t>(std::min<std::size_t>(l.mtu() - 40, 0xffff));
}

SocketSlot* Stack::Impl::slot(SocketId s) {
  if (s < 0 || static_cast<std::size_t>(s) >= sockets.size()) return nullptr;
  SocketSlot& slot = sockets[static_cast<std::size_t>(s)];
  return slot.kind == SocketSlot::Kind::free ? nullptr : &slot;
}

const SocketSlot* Stack::Impl::slot(SocketId s) const {
  return const_cast<Impl*>(this)->slot(s);
}

tcp::Connection* Stack::Impl::conn_of(SocketId s) {
  SocketSlot* sl = slot(s);
  if (!sl || sl->conn == kNoConn) return nullptr;
  return &*conns[sl->conn].conn;
}

const tcp::Connection* Stack::Impl::conn_of(SocketId s) const {
  return const_cast<Impl*>(this)->conn_of(s);
}

std::error_code Stack::Impl::new_socket(SocketSlot::Kind kind, SocketId& out) {
  if (open_sockets() >= config.max_sockets) {
    ++counters.stack.sockets_refused;
    return err(std::errc::too_many_files_open);
  }
  if (!free_sockets.empty()) {
    // Lowest free number first, as file descriptors are allocated.
    const auto lowest = std::min_element(free_sockets.begin(), free_sockets.end());
    out = *lowest;
    free_sockets.erase(lowest);
  } else {
    out = static_cast<SocketId>(sockets.size());
    reserve_one_more(sockets, config.max_sockets);
    sockets.emplace_back();
  }
  SocketSlot& s = sockets[static_cast<std::size_t>(out)];
  s = SocketSlot{};
  s.kind = kind;
  if (kind == SocketSlot::Kind::udp) s.udp = std::make_unique<UdpSocket>();
  // Sockets made with the same defaults share one copy of them (tcp::SharedConfig).
  if (*shared_defaults != tcp_defaults) shared_defaults = tcp::SharedConfig(tcp_defaults);
  s.tcp = shared_defaults;
  return {};
}

void Stack::Impl::free_socket(SocketId s) {
  SocketSlot& sl = sockets[static_cast<std::size_t>(s)];
  if (sl.bound) {
    if (sl.kind == SocketSlot::Kind::tcp) {
      PortUse& use = tcp_ports[sl.local.port];
      --(sl.autobound ? use.autobound : use.sockets);
      if (sl.listener) listeners.erase(sl.local.port);
      if (use.unused()) tcp_ports.erase(sl.local.port);
    } else {
      udp_ports.erase(sl.local.port);
    }
  }
  if (sl.udp) memory.update(sl.udp->queued_bytes, 0);  // datagrams not read go with the socket
  sl = SocketSlot{};
  free_sockets.push_back(s);
  // The last socket closed: the table gives its memory back (ids start again from 0, as
  // any free id may be reused).
  if (free_sockets.size() == sockets.size()) {
    std::vector<SocketSlot>().swap(sockets);
    std::vector<SocketId>().swap(free_sockets);
  }
}

Stack::Stack(link::Link& link, const Clock& clock, const StackConfig& config)
    : impl_(std::make_unique<Impl>(link, clock, config)) {}

Stack::~Stack() = default;

Ipv4Address Stack::address() const {
  return impl_->config.address;
}
const Counters& Stack::counters() const {
  return impl_->counters;
}
tcp::Config& Stack::tcp_defaults() {
  return impl_->tcp_defaults;
}
std::size_t Stack::timers_armed() const {
  // Each kind a connection has armed, though the wheel holds one timer per connection.
  std::size_t n = 0;
  for (const ConnSlot& slot : impl_->conns) {
    if (!slot.conn) continue;
    for (std::size_t k = 0; k < tcp::kTimerCount; ++k) {
      if (slot.conn->deadline(static_cast<tcp::Timer>(k))) ++n;
    }
  }
  return n;
}
std::size_t Stack::buffer_memory() const {
  return impl_->memory.used;
}

std::size_t Stack::connection_count() const {
  return impl_->conns.size() - impl_->free_conns.size() + impl_->time_wait.size();
}

void Stack::set_trace(trace::Sink* sink) {
  impl_->trace = sink;
  impl_->ctx.trace = sink;
}

std::optional<Instant> Stack::next_deadline() const {
  if (!impl_->dirty.empty()) return impl_->now;  // output waits: poll again at once
  std::optional<Instant> next;
  for (const auto d : {impl_->wheel.next_deadline(), impl_->reasm.next_deadline(),
                       impl_->time_wait.next_deadline()}) {
    if (d && (!next || *d < *next)) next = d;
  }
  return next;
}

void Stack::poll(Instant now) {
  Impl& s = *impl_;
  s.now = std::max(s.now, now);
  // Frames first, in bounded batches so timers are never starved.
  s.in_input_batch = true;
  for (int batch = 0; batch < 64; ++batch) {
    const std::size_t frames = s.link.receive(s.now, s, 64);
    s.end_input_batch();
    if (frames == 0) break;
  }
  s.in_input_batch = false;
  s.wheel.advance(s.now, [&](TimerId id, std::uint64_t tag) { s.on_timer(id, tag); });
  s.expire_time_wait();
  s.expire_fragments();
  // Output the application's calls asked for.
  while (!s.dirty.empty()) {
    const ConnId id = s.dirty.back();
    s.dirty.pop_back();
    s.conns[id].dirty = false;
    s.after_event(id);
  }
  s.link.flush(s.now);  // a batching link sends what this poll queued
}

// --- Sockets ---------------------------------------------------------------------------------

// Callers test s.trace first, so that with no sink attached no string is ever built: a
// read() or write() of a few bytes spent a fifth of its time formatting its trace line.
void trace_api(Stack::Impl& s, SocketId id, std::string_view name, std::string detail,
               std::error_code ec, std::string ok) {
  trace::ApiCall call;
  call.socket = id;
  call.name = name;
  call.detail = std::move(detail);
  call.result = ec ? ec.message() : std::move(ok);
  if (const SocketSlot* sl = s.slot(id)) {
    call.local = sl->local;
    // A socket bound to the wildcard lives on this host: the trace places it there.
    if (call.local.address.is_unspecified()) call.local.address = s.config.address;
  }
  s.trace->on_api(s.clock.now(), s.config.address, call);
}

std::error_code Stack::tcp_socket(SocketId& out) {
  auto ec = impl_->new_socket(SocketSlot::Kind::tcp, out);
  if (impl_->trace) trace_api(*impl_, out, "socket", "SOCK_STREAM", ec, "= " + std::to_string(out));
  return ec;
}

std::error_code Stack::udp_socket(SocketId& out) {
  auto ec = impl_->new_socket(SocketSlot::Kind::udp, out);
  if (impl_->trace) trace_api(*impl_, out, "socket", "SOCK_DGRAM", ec, "= " + std::to_string(out));
  return ec;
}

std::error_code Stack::bind(SocketId id, Endpoint local) {
  Impl& s = *impl_;
  SocketSlot* sl = s.slot(id);
  std::error_code ec;
  if (!sl) {
    ec = err(std::errc::bad_file_descriptor);
  } else if (sl->bound || sl->conn != kNoConn) {
    ec = err(std::errc::invalid_argument);  // already bound (Linux: EINVAL)
  } else if (!local.address.is_unspecified() && local.address != s.config.address) {
    // The local address is optional, and checked when given [RFC9293 MUST-43].
    ec = err(std::errc::address_not_available);
  } else if (sl->kind == SocketSlot::Kind::tcp) {
    if (local.port == 0) {
      auto port = s.ephemeral_tcp_port(Endpoint{});
      if (!port)
        ec = err(std::errc::address_in_use);
      else
        local.port = *port;
    } else if (!s.tcp_port_free_for_bind(local.port, sl->reuse_addr)) {
      ec = err(std::errc::address_in_use);
    }
    if (!ec) ++s.tcp_ports[local.port].sockets;
  } else {
    if (local.port == 0) {
      auto port = s.ephemeral_udp_port();
      if (!port)
        ec = err(std::errc::address_in_use);
      else
        local.port = *port;
    } else if (s.udp_ports.contains(local.port)) {
      ec = err(std::errc::address_in_use);
    }
    if (!ec) s.udp_ports[local.port] = id;
  }
  if (!ec) {
    // The address as given: a socket bound to the wildcard reports 0.0.0.0 from
    // getsockname() until connect() settles its local address (POSIX, as Linux).
    sl->local = {local.address, local.port};
    sl->bound = true;
  }
  if (s.trace) trace_api(s, id, "bind", local.to_string(), ec);
  return ec;
}

std::error_code Stack::listen(SocketId id, int backlog) {
  Impl& s = *impl_;
  SocketSlot* sl = s.slot(id);
  std::error_code ec;
  if (!sl) {
    ec = err(std::errc::bad_file_descriptor);
  } else if (sl->kind != SocketSlot::Kind::tcp) {
    ec = err(std::errc::operation_not_supported);
  } else if (sl->conn != kNoConn) {
    ec = err(std::errc::invalid_argument);  // connected sockets cannot listen
  } else {
    if (!sl->bound) {  // Linux binds an ephemeral port for listen() on an unbound socket
      ec = bind(id, Endpoint{});
    }
    if (!ec) {
      if (s.listeners.contains(sl->local.port) && !sl->listener) {
        ec = err(std::errc::address_in_use);
      } else {
        // Linux clamps the backlog to [0, somaxconn]; 0 still lets one connection wait.
        const int clamped = std::clamp(backlog, 1, 4096);
        if (!sl->listener) sl->listener = std::make_unique<Listener>();
        sl->listener->backlog = clamped;
        s.listeners[sl->local.port] = id;
      }
    }
  }
  if (s.trace) trace_api(s, id, "listen", std::to_string(backlog), ec);
  return ec;
}

std::error_code Stack::accept(SocketId id, SocketId& out, Endpoint* peer) {
  Impl& s = *impl_;
  SocketSlot* sl = s.slot(id);
  if (!sl) return err(std::errc::bad_file_descriptor);
  if (!sl->listener) return err(std::errc::invalid_argument);
  auto& queue = sl->listener->accept_queue;
  if (queue.empty()) return err(std::errc::resource_unavailable_try_again);
  SocketId child;
  if (auto ec = s.new_socket(SocketSlot::Kind::tcp, child)) return ec;
  sl = s.slot(id);  // the table may have grown
  const ConnId conn = sl->listener->accept_queue.front();
  sl->listener->accept_queue.pop_front();
  ConnSlot& c = s.conns[conn];
  c.in_accept_queue = false;
  c.listener = -1;
  c.socket = child;
  SocketSlot& cs = s.sockets[static_cast<std::size_t>(child)];
  cs.conn = conn;
  cs.local = c.conn->tuple().local;
  cs.tcp = c.conn->shared_config();
  if (peer) *peer = c.conn->tuple().remote;
  out = child;
  if (s.trace)
    trace_api(s, child, "accept", c.conn->tuple().remote.to_string(), {},
              "= " + std::to_string(child));
  return {};
}

std::error_code Stack::connect(SocketId id, Endpoint remote) {
  Impl& s = *impl_;
  SocketSlot* sl = s.slot(id);
  std::error_code ec;
  if (!sl) return err(std::errc::bad_file_descriptor);
  if (sl->kind == SocketSlot::Kind::udp) {
    if (remote == Endpoint{}) {  // connect(AF_UNSPEC): datagrams from anyone again
      sl->udp->remote.reset();
      if (s.trace) trace_api(s, id, "connect", "AF_UNSPEC", {});
      return {};
    }
    if (!sl->bound) ec = bind(id, Endpoint{});
    if (!ec) {
      sl->udp->remote = remote;
      sl->local.address = s.config.address;  // connected: the source address is settled
    }
    if (s.trace) trace_api(s, id, "connect", remote.to_string(), ec);
    return ec;
  }
  if (sl->listener) {
    ec = err(std::errc::invalid_argument);
  } else if (sl->conn != kNoConn) {
    const tcp::State st = s.conns[sl->conn].conn->state();
    ec = err(st == tcp::State::SynSent ? std::errc::connection_already_in_progress
                                       : std::errc::already_connected);
  } else if (remote.port == 0 || remote.address.is_unspecified()) {
    ec = err(std::errc::invalid_argument);
  } else if (remote.address.is_broadcast() || remote.address.is_multicast()) {
    ec = err(std::errc::network_unreachable);  // TCP has no such peer [RFC9293 MUST-46]
  } else {
    // One interface, one address: the source of every SYN [RFC9293 MUST-44, MUST-45].
    FourTuple tuple{{s.config.address, sl->local.port}, remote};
    if (!sl->bound) {
      auto port = s.ephemeral_tcp_port(remote);
      if (!port) {
        ec = err(std::errc::address_not_available);  // Linux: EADDRNOTAVAIL
      } else {
        tuple.local.port = *port;
        sl->local = tuple.local;
        sl->bound = true;
        sl->autobound = true;
        ++s.tcp_ports[*port].autobound;
      }
    } else if (s.demux_find(tuple) != kNoConn) {
      ec = err(std::errc::address_in_use);
    }
    if (!ec) {
      sl->local = tuple.local;  // bound to the wildcard before: now our address
      auto c = tcp::Connection::active_open(s.ctx, sl->tcp, tuple, s.isn(tuple), s.clock.now());
      sl->conn = s.add_connection(std::move(c), id, -1);
      s.check_invariants(sl->conn);
      ec = err(std::errc::operation_in_progress);
    }
  }
  if (s.trace) trace_api(s, id, "connect", remote.to_string(), ec);
  return ec;
}

std::error_code Stack::read(SocketId id, std::span<std::uint8_t> out, std::size_t& n) {
  Impl& s = *impl_;
  n = 0;
  SocketSlot* sl = s.slot(id);
  if (!sl) return err(std::errc::bad_file_descriptor);
  if (sl->kind == SocketSlot::Kind::udp) return receive_from(id, out, n);
  if (sl->conn == kNoConn) return err(std::errc::not_connected);
  tcp::Connection* c = &*s.conns[sl->conn].conn;  // conn_of(id), the slot already in hand
  std::error_code ec;
  n = c->read(out, ec);               // no clock read: neither call depends on the time
  if (n > 0) s.mark_dirty(sl->conn);  // the window opened: an update may be due
  s.check_invariants(sl->conn);
  if (s.trace && ec != std::errc::resource_unavailable_try_again) {
    trace_api(s, id, "read", "", ec, "= " + std::to_string(n));
  }
  return ec;
}

std::error_code Stack::peek(SocketId id, std::span<std::uint8_t> out, std::size_t& n,
                            Endpoint* from, bool* truncated) {
  Impl& s = *impl_;
  n = 0;
  SocketSlot* sl = s.slot(id);
  if (!sl) return err(std::errc::bad_file_descriptor);
  if (sl->kind == SocketSlot::Kind::udp) return s.udp_receive(id, out, n, from, truncated, true);
  tcp::Connection* c = s.conn_of(id);
  if (!c) return err(std::errc::not_connected);
  std::error_code ec;
  n = c->peek(out, ec);
  // A stream has no datagram to cut short, and (as on Linux, whose recvfrom() reports no
  // address for a stream socket) `from` is left as it was.
  if (truncated) *truncated = false;
  if (s.trace && ec != std::errc::resource_unavailable_try_again) {
    trace_api(s, id, "recv(MSG_PEEK)", "", ec, "= " + std::to_string(n));
  }
  return ec;
}

std::error_code Stack::queued(SocketId id, Queued& out) const {
  out = {};
  const SocketSlot* sl = impl_->slot(id);
  if (!sl) return err(std::errc::bad_file_descriptor);
  if (sl->kind == SocketSlot::Kind::udp) {
    // FIONREAD on a datagram socket: the size of the next datagram, which one read takes.
    if (!sl->udp->datagrams.empty()) out.readable = sl->udp->datagrams.front().data.size();
    return {};
  }
  if (sl->listener) return err(std::errc::invalid_argument);  // as Linux's SIOCINQ/SIOCOUTQ
  // Before connect() there is nothing either way (Linux reports 0 for a closed socket).
  if (const tcp::Connection* c = impl_->conn_of(id)) {
    out.readable = c->bytes_readable();
    out.unacknowledged = c->bytes_unacknowledged();
  }
  return {};
}

std::error_code Stack::write(SocketId id, std::span<const std::uint8_t> data, std::size_t& n) {
  Impl& s = *impl_;
  n = 0;
  SocketSlot* sl = s.slot(id);
  if (!sl) return err(std::errc::bad_file_descriptor);
  if (sl->kind == SocketSlot::Kind::udp) {
    if (!sl->udp->remote) return err(std::errc::destination_address_required);
    auto ec = s.udp_send(*sl, data, *sl->udp->remote);
    if (!ec) n = data.size();
    if (s.trace)
      trace_api(s, id, "write", std::to_string(data.size()), ec, "= " + std::to_string(n));
    return ec;
  }
  if (sl->conn == kNoConn) return err(std::errc::not_connected);
  tcp::Connection* c = &*s.conns[sl->conn].conn;  // conn_of(id), the slot already in hand
  std::error_code ec;
  n = c->write(data, ec);
  if (n > 0) s.mark_dirty(sl->conn);
  s.check_invariants(sl->conn);
  if (s.trace) trace_api(s, id, "write", std::to_string(data.size()), ec, "= " + std::to_string(n));
  return ec;
}

std::error_code Stack::shutdown(SocketId id, Shutdown how) {
  Impl& s = *impl_;
  SocketSlot* sl = s.slot(id);
  if (!sl) return err(std::errc::bad_file_descriptor);
  tcp::Connection* c = s.conn_of(id);
  if (!c) return err(std::errc::not_connected);
  const Instant now = s.clock.now();
  if (how != Shutdown::write) c->shutdown_read();
  if (how != Shutdown::read) c->shutdown_write(now);
  s.mark_dirty(sl->conn);
  s.check_invariants(sl->conn);
  if (s.trace)
    trace_api(s, id, "shutdown",
              how == Shutdown::read    ? "SHUT_RD"
              : how == Shutdown::write ? "SHUT_WR"
                                       : "SHUT_RDWR",
              {});
  return {};
}

std::error_code Stack::close(SocketId id) {
  Impl& s = *impl_;
  SocketSlot* sl = s.slot(id);
  if (!sl) return err(std::errc::bad_file_descriptor);
  if (s.trace) trace_api(s, id, "close", "", {});
  const Instant now = s.clock.now();
  if (sl->listener) {
    // Connections not yet accepted are reset, as Linux does when a listener closes.
    for (ConnId child = 0; child < s.conns.size(); ++child) {
      ConnSlot& c = s.conns[child];
      if (c.conn && c.listener == id) {
        c.listener = -1;
        c.in_accept_queue = false;
        c.conn->abort(now);
        s.mark_dirty(child);
      }
    }
  }
  if (sl->conn != kNoConn) {
    const ConnId conn = sl->conn;
    ConnSlot& c = s.conns[conn];
    c.socket = -1;
    sl->conn = kNoConn;
    c.conn->close(now);
    if (c.conn->finished()) {
      // Over already (reset, refused, or aborted just now): send what it has to say and
      // let it go at once.
      s.now = std::max(s.now, now);
      s.after_event(conn);
      s.link.flush(s.now);
    } else {
      s.mark_dirty(conn);
      s.check_invariants(conn);
    }
  }
  s.free_socket(id);
  return {};
}

std::error_code Stack::getsockname(SocketId id, Endpoint& out) const {
  const SocketSlot* sl = impl_->slot(id);
  if (!sl) return err(std::errc::bad_file_descriptor);
  out = sl->local;
  return {};
}

std::error_code Stack::getpeername(SocketId id, Endpoint& out) const {
  const SocketSlot* sl = impl_->slot(id);
  if (!sl) return err(std::errc::bad_file_descriptor);
  if (sl->kind == SocketSlot::Kind::udp) {
    if (!sl->udp->remote) return err(std::errc::not_connected);
    out = *sl->udp->remote;
    return {};
  }
  const tcp::Connection* c = impl_->conn_of(id);
  if (!c || !tcp::synchronized(c->state())) return err(std::errc::not_connected);
  out = c->tuple().remote;
  return {};
}

std::error_code Stack::socket_error(SocketId id) {
  SocketSlot* sl = impl_->slot(id);
  if (!sl) return err(std::errc::bad_file_descriptor);
  if (sl->kind == SocketSlot::Kind::udp) return std::exchange(sl->udp->error, {});
  tcp::Connection* c = impl_->conn_of(id);
  return c ? c->take_error() : std::error_code{};
}

Readiness Stack::readiness(SocketId id) const {
  Readiness r;
  const SocketSlot* sl = impl_->slot(id);
  if (!sl) return r;
  if (sl->kind == SocketSlot::Kind::udp) {
    r.readable = !sl->udp->datagrams.empty() || static_cast<bool>(sl->udp->error);
    r.writable = true;
    r.error = static_cast<bool>(sl->udp->error);
    return r;
  }
  if (sl->listener) {
    r.readable = !sl->listener->accept_queue.empty();
    return r;
  }
  const tcp::Connection* c = impl_->conn_of(id);
  if (!c) return r;
  r.readable = c->readable();
  r.writable = c->writable();
  r.error = static_cast<bool>(c->pending_error());
  r.hangup = c->state() == tcp::State::Closed;
  return r;
}

tcp::State Stack::tcp_state(SocketId id) const {
  const SocketSlot* sl = impl_->slot(id);
  if (sl && sl->listener) return tcp::State::Listen;
  const tcp::Connection* c = impl_->conn_of(id);
  return c ? c->state() : tcp::State::Closed;
}

}  // namespace synack
