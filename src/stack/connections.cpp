// The connection slab and the one place where the effects of every event are applied:
// output flushed, timers re-armed in the wheel, listeners' queues updated, and finished
// connections reclaimed.
#include "stack/stack_impl.hpp"

namespace synack {

namespace {
std::uint64_t timer_tag(ConnId id, std::size_t kind) {
  return (std::uint64_t{id} << 8) | kind;
}
}  // namespace

ConnId Stack::Impl::add_connection(tcp::Connection&& c, SocketId socket, SocketId listener) {
  ConnId id;
  if (!free_conns.empty()) {
    id = free_conns.back();
    free_conns.pop_back();
  } else {
    id = static_cast<ConnId>(conns.size());
    conns.emplace_back();
    for (std::size_t k = 0; k < tcp::kTimerCount; ++k) {
      conns.back().timers[k] = wheel.create(timer_tag(id, k));
    }
  }
  ConnSlot& slot = conns[id];
  demux[c.tuple()] = id;
  ++tcp_ports[c.tuple().local.port].connections;
  slot.conn.emplace(std::move(c));
  slot.socket = socket;
  slot.listener = listener;
  slot.in_accept_queue = false;
  mark_dirty(id);
  return id;
}

void Stack::Impl::mark_dirty(ConnId id) {
  ConnSlot& slot = conns[id];
  if (slot.dirty || !slot.conn) return;
  slot.dirty = true;
  dirty.push_back(id);
}

void Stack::Impl::flush(ConnId id) {
  tcp::Connection& c = *conns[id].conn;
  tcp::OutSegment out;
  // How much one segment may carry when the link cuts it up (TSO): the link's largest
  // frame less the largest IPv4 and TCP headers we write.
  const std::size_t frame = link.max_segmented_frame();
  ctx.max_super_segment = frame > 20 + 60 ? frame - 20 - 60 : 0;
  // Bounded: a connection cannot send more segments at once than its window allows, but
  // a bound keeps a bug from becoming a hang.
  for (int i = 0; i < 4096 && c.next_segment(now, out); ++i) {
    send_tcp(c.tuple(), out, &c.send_buffer());
  }
}

void Stack::Impl::sync_timers(ConnId id) {
  ConnSlot& slot = conns[id];
  tcp::Connection& c = *slot.conn;
  for (std::size_t k = 0; k < tcp::kTimerCount; ++k) {
    const auto when = c.deadline(static_cast<tcp::Timer>(k));
    if (when) {
      if (!wheel.armed(slot.timers[k]) || wheel.deadline(slot.timers[k]) != *when) {
        wheel.arm(slot.timers[k], *when);
      }
    } else if (wheel.armed(slot.timers[k])) {
      wheel.cancel(slot.timers[k]);
    }
  }
}

void Stack::Impl::after_event(ConnId id) {
  ConnSlot& slot = conns[id];
  if (!slot.conn) return;
  tcp::Connection& c = *slot.conn;
  flush(id);
  sync_timers(id);

  if (slot.listener >= 0) {
    SocketSlot& ls = sockets[static_cast<std::size_t>(slot.listener)];
    Listener& l = *ls.listener;
    if (!slot.in_accept_queue && c.state() != tcp::State::SynReceived) {
      // Out of SYN_RECEIVED: the handshake finished (or failed).
      --l.half_open;
      if (!c.finished()) {
        slot.in_accept_queue = true;
        l.accept_queue.push_back(id);
      }
    }
    // A connection reset while it waits to be accepted stays in the queue, as on Linux:
    // accept() returns it and its first read reports the reset.
    if (c.finished() && !slot.in_accept_queue) slot.listener = -1;
  }

  check_invariants(id);
  if (c.finished()) {
    demux.erase(c.tuple());  // the 4-tuple is free for a new connection at once
    if (slot.socket < 0 && slot.listener < 0) release_connection(id);
  } else if (c.state() == tcp::State::TimeWait && slot.socket < 0 && slot.listener < 0) {
    compact_time_wait(id);
  }
}

bool Stack::Impl::compact_time_wait(ConnId id) {
  const tcp::Connection& c = *conns[id].conn;
  const auto state = c.time_wait_state(now);
  if (!state || !time_wait.insert(c.tuple(), *state)) return false;
  // The entry counts in TIME_WAIT from here; the connection's destructor uncounts itself.
  ++counters.tcp.in_state[static_cast<std::size_t>(tcp::State::TimeWait)];
  release_connection(id);
  return true;
}

void Stack::Impl::release_connection(ConnId id) {
  ConnSlot& slot = conns[id];
  for (TimerId t : slot.timers) wheel.cancel(t);
  const FourTuple tuple = slot.conn->tuple();
  if (auto it = demux.find(tuple); it != demux.end() && it->second == id) demux.erase(it);
  auto port = tcp_ports.find(tuple.local.port);
  if (port != tcp_ports.end()) {
    --port->second.connections;
    if (port->second.unused()) tcp_ports.erase(port);
  }
  slot.conn.reset();
  slot.socket = -1;
  slot.listener = -1;
  slot.in_accept_queue = false;
  slot.dirty = false;
  free_conns.push_back(id);
  // The last connection gone (its TIME_WAIT perhaps compacted): the slab gives its memory
  // back rather than keep a high-water mark of whole connections. Nothing names a ConnId
  // then, unless one is still on the dirty list.
  if (free_conns.size() == conns.size() && dirty.empty()) {
    for (const ConnSlot& s : conns) {
      for (TimerId t : s.timers) wheel.destroy(t);
    }
    std::vector<ConnSlot>().swap(conns);
    std::vector<ConnId>().swap(free_conns);
  }
}

void Stack::Impl::on_timer(TimerId /*timer*/, std::uint64_t tag) {
  const auto id = static_cast<ConnId>(tag >> 8);
  const auto kind = static_cast<tcp::Timer>(tag & 0xff);
  if (id >= conns.size()) return;
  ConnSlot& slot = conns[id];
  if (!slot.conn) return;
  // The wheel has disarmed the timer; the connection's table must agree before it acts.
  slot.conn->on_timer(kind, now);
  after_event(id);
}

}  // namespace synack
