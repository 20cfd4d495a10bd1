// The connection slab and the one place where the effects of every event are applied:
// output flushed, timers re-armed in the wheel, listeners' queues updated, and finished
// connections reclaimed.
#include "stack/stack_impl.hpp"
#include "stack/tuple_hash.hpp"

namespace synack {

ConnId Stack::Impl::add_connection(tcp::Connection&& c, SocketId socket, SocketId listener) {
  ConnId id;
  if (!free_conns.empty()) {
    id = free_conns.back();
    free_conns.pop_back();
  } else {
    id = static_cast<ConnId>(conns.size());
    reserve_one_more(conns, config.max_sockets);  // most connections have a socket
    conns.emplace_back();
  }
  ConnSlot& slot = conns[id];
  ++tcp_ports[c.tuple().local.port].connections;
  slot.conn.emplace(std::move(c));
  demux_set(slot.conn->tuple(), id);  // the index keys each member by its connection's tuple
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

void Stack::Impl::end_input_batch() {
  // By index: a flush may bring a frame straight back (a link to ourselves), and its
  // connection joins the list while we walk it.
  for (std::size_t i = 0; i < output_waiting.size(); ++i) {
    const ConnId id = output_waiting[i];
    if (id >= conns.size()) continue;  // the slab went back with the last connection
    conns[id].output_waits = false;
    after_event(id);
  }
  output_waiting.clear();
}

void Stack::Impl::sync_timers(ConnId id) {
  if (id == timers_firing) return;  // on_timer re-arms it when done
  ConnSlot& slot = conns[id];
  const tcp::Connection& c = *slot.conn;
  if (const std::optional<Instant> earliest = c.earliest_deadline()) {
    // Left alone while the earliest stays put: a re-arm would count as a new arm for the
    // order of ties with other connections' timers.
    if (slot.timer == kNoTimer) slot.timer = wheel.create(id);  // the tag names the connection
    if (!wheel.armed(slot.timer) || wheel.deadline(slot.timer) != *earliest) {
      wheel.arm(slot.timer, *earliest);
    }
  } else if (slot.timer != kNoTimer) {
    wheel.destroy(slot.timer);  // disarms it; an idle connection holds no wheel node
    slot.timer = kNoTimer;
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
    // The 4-tuple is free for a new connection at once; once one has it (a TIME_WAIT
    // reopened while this socket stayed open), its entry is no longer ours to erase.
    demux_erase(c.tuple(), id);
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
  if (slot.timer != kNoTimer) {
    wheel.destroy(slot.timer);
    slot.timer = kNoTimer;
  }
  const FourTuple tuple = slot.conn->tuple();
  demux_erase(tuple, id);
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
    std::vector<ConnSlot>().swap(conns);
    demux.release();  // empty too: every connection left it before its slot was freed
    std::vector<ConnId>().swap(free_conns);
  }
}

std::size_t Stack::Impl::demux_slot(std::size_t hash, const FourTuple& tuple) const {
  return demux.find(hash, [&](ConnId id) { return conns[id].conn->tuple() == tuple; });
}

ConnId Stack::Impl::demux_find(const FourTuple& tuple) const {
  const std::size_t i = demux_slot(tuple_hash(secret, tuple), tuple);
  return i == FlatIndex::npos ? kNoConn : demux.at(i);
}

void Stack::Impl::demux_set(const FourTuple& tuple, ConnId id) {
  const std::size_t hash = tuple_hash(secret, tuple);
  const std::size_t i = demux_slot(hash, tuple);
  if (i != FlatIndex::npos) {
    demux.replace(i, id);
    return;
  }
  demux.insert_growing(
      id, hash, [this](ConnId other) { return tuple_hash(secret, conns[other].conn->tuple()); });
}

void Stack::Impl::demux_erase(const FourTuple& tuple, ConnId id) {
  const std::size_t i = demux_slot(tuple_hash(secret, tuple), tuple);
  if (i == FlatIndex::npos || demux.at(i) != id) return;
  demux.erase(i, [this](ConnId other) { return tuple_hash(secret, conns[other].conn->tuple()); });
}

void Stack::Impl::on_timer(TimerId /*timer*/, std::uint64_t tag) {
  const auto id = static_cast<ConnId>(tag);
  const auto live = [&] { return id < conns.size() && conns[id].conn.has_value(); };
  if (!live()) return;
  // The wheel timer stands for the earliest of the connection's deadlines. Every kind due
  // by this tick (the wheel's time while it fires; a deadline is due at its microsecond
  // rounded up) fires now, in tcp::Timer order, each followed by its effects as if it had
  // its own wheel timer; kinds due later in this advance fire when the timer, re-armed at
  // the next deadline, comes round again in deadline order.
  const Instant tick = wheel.now();
  timers_firing = id;
  for (std::size_t k = 0; k < tcp::kTimerCount && live(); ++k) {
    const auto kind = static_cast<tcp::Timer>(k);
    const auto when = conns[id].conn->deadline(kind);
    if (!when || *when > tick) continue;
    conns[id].conn->on_timer(kind, now);
    after_event(id);
  }
  timers_firing = kNoConn;
  // Re-arms the wheel timer (and, when nothing was due after all, the effects a stale
  // timer always had: output flushed); a second pass through after_event changes nothing
  // else.
  if (live()) after_event(id);
}

}  // namespace synack
