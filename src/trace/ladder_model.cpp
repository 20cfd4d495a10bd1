#include "trace/ladder_model.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <deque>
#include <map>
#include <utility>

#include "trace/packet_fields.hpp"

namespace synack::trace {

std::string LadderColumn::heading() const {
  const std::string where =
      endpoint.port == 0 ? endpoint.address.to_string() : endpoint.to_string();
  return host_name.empty() ? where : host_name + " " + where;
}

std::string errno_name(std::string_view message) {
  using std::errc;
  static constexpr std::array<std::pair<errc, const char*>, 19> kNames{{
      {errc::connection_refused, "ECONNREFUSED"},
      {errc::connection_reset, "ECONNRESET"},
      {errc::connection_aborted, "ECONNABORTED"},
      {errc::operation_in_progress, "EINPROGRESS"},
      {errc::resource_unavailable_try_again, "EAGAIN"},
      {errc::timed_out, "ETIMEDOUT"},
      {errc::broken_pipe, "EPIPE"},
      {errc::not_connected, "ENOTCONN"},
      {errc::already_connected, "EISCONN"},
      {errc::connection_already_in_progress, "EALREADY"},
      {errc::address_in_use, "EADDRINUSE"},
      {errc::address_not_available, "EADDRNOTAVAIL"},
      {errc::invalid_argument, "EINVAL"},
      {errc::bad_file_descriptor, "EBADF"},
      {errc::destination_address_required, "EDESTADDRREQ"},
      {errc::message_size, "EMSGSIZE"},
      {errc::operation_not_supported, "EOPNOTSUPP"},
      {errc::host_unreachable, "EHOSTUNREACH"},
      {errc::network_unreachable, "ENETUNREACH"},
  }};
  for (const auto& [code, name] : kNames) {
    if (std::make_error_code(code).message() == message) return name;
  }
  return std::string(message);
}

namespace {

std::uint64_t key_of(const Endpoint& e) {
  return (std::uint64_t{e.address.to_u32()} << 16) | e.port;
}

// Identifies one packet on its way: sent and received copies carry the same IP header.
struct PacketKey {
  std::uint32_t src = 0, dst = 0;
  std::uint16_t id = 0;
  std::uint8_t protocol = 0;
  friend auto operator<=>(const PacketKey&, const PacketKey&) = default;
};

PacketKey packet_key(const PacketFields& f) {
  return {f.src.address.to_u32(), f.dst.address.to_u32(), f.ip_id, f.protocol};
}

std::string format_ms(Instant at) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(to_nanos(at)) / 1e6);
  return buf;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}
bool contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

// Causes that say something the picture does not already show: the API call beside the
// column tells that a write() sent data, but not that a segment is a retransmission.
bool cause_worth_showing(std::string_view cause) {
  return starts_with(cause, "retransmit") || contains(cause, "probe") || contains(cause, "RST") ||
         contains(cause, "reset") || cause == "abort" || starts_with(cause, "challenge") ||
         starts_with(cause, "dup ack") || cause == "window update" || contains(cause, "D-SACK") ||
         contains(cause, "PAWS");
}

std::string api_text(const Event& e) {
  std::string args = e.detail;
  if (e.name == "socket") args = e.detail == "SOCK_STREAM" ? "" : e.detail;
  // The peer is the arrow's other end; the ladder shows it already.
  if (e.name == "accept" || e.name == "read" || e.name == "recvfrom") args.clear();
  if (e.name == "sendto") args = args.substr(0, args.find(','));
  std::string result = e.result;
  if (starts_with(result, "= ")) {
    const bool quiet = e.name == "bind" || e.name == "listen" || e.name == "close" ||
                       e.name == "shutdown" || e.name == "setsockopt";
    if (result == "= 0" && quiet) {
      result.clear();
    } else if (result == "= 0" && e.name == "read") {
      result = "= 0 (EOF)";
    }
  } else if (!result.empty()) {
    const std::string name = errno_name(result);
    if (name != result) result = "= " + name;
  }
  std::string text = e.name + "(" + args + ")";
  if (!result.empty()) text += " " + result;
  return text;
}

std::string icmp_text(std::uint8_t type, std::uint8_t code) {
  if (type == 0) return "echo reply";
  if (type == 8) return "echo request";
  if (type == 3 && code == 3) return "port unreachable";
  if (type == 3) return "unreachable code=" + std::to_string(code);
  return "type=" + std::to_string(type) + " code=" + std::to_string(code);
}

class Builder {
 public:
  Builder(const Recording& rec, const LadderOptions& options) : rec_(rec), options_(options) {}

  LadderModel build() {
    find_columns();
    const auto& events = rec_.events();
    for (std::size_t i = 0; i < events.size(); ++i) {
      const Event& e = events[i];
      switch (e.kind) {
        case Event::Kind::api:
          on_api(i, e);
          break;
        case Event::Kind::state:
          note(e.at, column_of(e.tuple.local), LadderNote::Kind::state, state_text(e));
          break;
        case Event::Kind::timer:
          note(e.at, column_of(e.tuple.local), LadderNote::Kind::timer, "timer: " + e.name);
          break;
        case Event::Kind::packet:
          if (e.dir == Direction::out) {
            on_send(e);
          } else {
            on_receive(e);
          }
          break;
        case Event::Kind::drop:
          on_drop(e);
          break;
      }
    }
    return std::move(model_);
  }

 private:
  struct Flow {  // one direction of one connection, for relative numbers
    std::optional<std::uint32_t> base;
    std::optional<std::uint8_t> window_scale;  // offered in this side's SYN
    bool syn_seen = false;
    bool any = false;
    std::uint32_t end = 0;  // the highest sequence number sent, plus one
  };

  // Columns: every endpoint a socket call, a state change or a packet names, hosts in the
  // order they were named, then endpoints in order of first appearance.
  void find_columns() {
    std::vector<Endpoint> seen;
    auto add = [&](const Endpoint& ep) {
      if (ep.port != 0 && std::find(seen.begin(), seen.end(), ep) == seen.end()) {
        seen.push_back(ep);
      }
    };
    for (const Event& e : rec_.events()) {
      if (e.kind == Event::Kind::api) add(e.local);
      if (e.kind == Event::Kind::state || e.kind == Event::Kind::timer) add(e.tuple.local);
      if (e.kind == Event::Kind::packet) {
        if (auto f = parse_packet(e.packet)) {
          add(f->src);
          add(f->dst);
        }
      }
    }
    const auto& names = rec_.host_names();
    auto rank = [&](const Endpoint& ep) {
      for (std::size_t i = 0; i < names.size(); ++i) {
        if (names[i].address == ep.address) return i;
      }
      return names.size();
    };
    std::stable_sort(seen.begin(), seen.end(),
                     [&](const Endpoint& a, const Endpoint& b) { return rank(a) < rank(b); });
    for (const Endpoint& ep : seen) add_column(ep);
  }

  std::size_t add_column(const Endpoint& ep) {
    model_.columns.push_back({ep, std::string(rec_.host_name(ep.address))});
    return model_.columns.size() - 1;
  }

  // The column of an endpoint; a portless one (ICMP, an unbound socket) goes to its host's
  // first column.
  std::size_t column_of(const Endpoint& ep) {
    const auto& cols = model_.columns;
    for (std::size_t i = 0; i < cols.size(); ++i) {
      if (cols[i].endpoint == ep) return i;
    }
    for (std::size_t i = 0; i < cols.size(); ++i) {
      if (ep.port == 0 && cols[i].endpoint.address == ep.address) return i;
    }
    return add_column(ep);
  }

  // A call on a socket not bound yet (socket(), connect() failing early) stands in the
  // column of the address that socket gets later.
  Endpoint endpoint_of_call(std::size_t index, const Event& e) const {
    if (e.local.port != 0) return e.local;
    const auto& events = rec_.events();
    for (std::size_t j = index + 1; j < events.size(); ++j) {
      const Event& later = events[j];
      if (later.kind != Event::Kind::api || later.host != e.host || later.socket != e.socket) {
        continue;
      }
      if (later.name == "socket") break;  // the descriptor was reused
      if (later.local.port != 0) return later.local;
    }
    return Endpoint{e.host, 0};
  }

  void note(Instant at, std::size_t column, LadderNote::Kind kind, std::string text) {
    model_.notes.push_back({kind, column, std::move(text)});
    model_.steps.push_back({LadderStep::Kind::note, at, model_.notes.size() - 1});
  }

  static std::string state_text(const Event& e) {
    std::string text(tcp::to_string(e.to));
    if (e.to == tcp::State::Closed && !e.cause.empty()) text += " [" + e.cause + "]";
    return text;
  }

  void on_api(std::size_t index, const Event& e) {
    const std::size_t col = column_of(endpoint_of_call(index, e));
    note(e.at, col, LadderNote::Kind::api, api_text(e));
    // sendto() sends its datagram before it returns, so the trace reports the packet
    // first; the picture reads better with the call before the arrow it caused.
    auto& steps = model_.steps;
    if ((e.name == "sendto" || e.name == "write") && steps.size() >= 2) {
      const LadderStep& before = steps[steps.size() - 2];
      if (before.kind == LadderStep::Kind::send && before.at == e.at &&
          model_.arrows[before.index].from == col && !model_.arrows[before.index].label.empty() &&
          model_.arrows[before.index].label[0] == "UDP") {
        std::swap(steps[steps.size() - 2], steps.back());
      }
    }
    // LISTEN is a socket's state, not a connection's: no state event reports it.
    if (e.name == "listen" && e.result == "= 0") {
      note(e.at, col, LadderNote::Kind::state, "LISTEN");
    }
  }

  std::uint32_t rel(std::uint32_t value, const Flow& flow) const {
    return options_.absolute_seq || !flow.base ? value : value - *flow.base;
  }

  std::vector<std::string> tcp_label(const PacketFields& f) {
    Flow& mine = flows_[{key_of(f.src), key_of(f.dst)}];
    const Flow& theirs = flows_[{key_of(f.dst), key_of(f.src)}];
    const bool syn = f.flags.has(wire::TcpFlags::syn);
    if (syn && (!mine.syn_seen || mine.base != f.seq)) {
      mine = Flow{};
      mine.base = f.seq;
      mine.syn_seen = true;
      mine.window_scale = f.options.window_scale;
    }
    if (!mine.base) mine.base = f.seq;

    std::vector<std::string> label{wire::to_string(f.flags)};
    const std::size_t len = f.payload.size();
    const bool pure_ack = f.flags == wire::TcpFlags::ack && len == 0;
    if (len > 0) {
      label.push_back("seq=" + std::to_string(rel(f.seq, mine)) + ":" +
                      std::to_string(rel(f.seq + static_cast<std::uint32_t>(len), mine)));
    } else if (!pure_ack || !mine.any || f.seq != mine.end) {
      label.push_back("seq=" + std::to_string(rel(f.seq, mine)));
    }
    const std::uint32_t end = f.seq + f.seq_length();
    if (!mine.any || static_cast<std::int32_t>(end - mine.end) > 0) mine.end = end;
    mine.any = true;

    if (f.flags.has(wire::TcpFlags::ack))
      label.push_back("ack=" + std::to_string(rel(f.ack, theirs)));
    std::uint32_t window = f.window;
    if (!syn && mine.window_scale && theirs.window_scale) window <<= *mine.window_scale;
    label.push_back("win=" + std::to_string(window));

    std::string opts;
    auto add = [&](const std::string& o) { opts += (opts.empty() ? "" : ",") + o; };
    if (f.options.mss) add("mss " + std::to_string(*f.options.mss));
    if (f.options.sack_permitted) add("sackOK");
    if (syn && f.options.timestamps) add("ts");
    if (f.options.window_scale) add("ws " + std::to_string(*f.options.window_scale));
    for (const auto& b : f.options.sacks()) {
      add("sack " + std::to_string(rel(b.left, theirs)) + ":" +
          std::to_string(rel(b.right, theirs)));
    }
    if (!opts.empty()) label.push_back("<" + opts + ">");
    if (len > 0) label.push_back("\"" + payload_preview(f.payload, 14) + "\"");
    return label;
  }

  void on_send(const Event& e) {
    const auto f = parse_packet(e.packet);
    if (!f) {
      note(e.at, column_of({e.host, 0}), LadderNote::Kind::drop, "sent a malformed packet");
      return;
    }
    LadderArrow arrow;
    arrow.from = column_of(f->src);
    arrow.to = column_of(f->dst);
    arrow.sent = e.at;
    if (f->is_tcp()) {
      arrow.label = tcp_label(*f);
    } else if (f->is_udp()) {
      arrow.label = {"UDP", "len=" + std::to_string(f->payload.size())};
      if (!f->payload.empty()) arrow.label.push_back("\"" + payload_preview(f->payload, 14) + "\"");
    } else if (f->is_icmp()) {
      arrow.label = {"ICMP", icmp_text(f->icmp_type, f->icmp_code)};
    } else {
      arrow.label = {"IP protocol " + std::to_string(f->protocol)};
    }
    arrow.retransmission = starts_with(e.cause, "retransmit");
    if (cause_worth_showing(e.cause)) arrow.cause = e.cause;
    model_.arrows.push_back(std::move(arrow));
    const std::size_t index = model_.arrows.size() - 1;
    in_flight_[packet_key(*f)].push_back(index);
    model_.steps.push_back({LadderStep::Kind::send, e.at, index});
  }

  // A copy of this packet still on its way (the oldest, or the newest), taken off the list.
  std::optional<std::size_t> take_in_flight(const PacketKey& key, bool newest) {
    auto it = in_flight_.find(key);
    if (it == in_flight_.end() || it->second.empty()) return std::nullopt;
    std::size_t index;
    if (newest) {
      index = it->second.back();
      it->second.pop_back();
    } else {
      index = it->second.front();
      it->second.pop_front();
    }
    return index;
  }

  void arrive(std::size_t index, Instant at) {
    LadderArrow& a = model_.arrows[index];
    a.arrived = at;
    // Overtaken on its way: a packet sent after it arrived first. Say so where it lands,
    // since the text ladder draws an arrow where it was sent.
    auto [it, fresh] = latest_sent_arrived_.try_emplace({a.from, a.to}, index);
    if (!fresh && it->second > index) {
      std::string what = a.label.empty() ? "packet" : a.label[0];
      if (a.label.size() > 1 && a.label[1].starts_with("seq=")) what += " " + a.label[1];
      note(at, a.to, LadderNote::Kind::info,
           "late: " + what + " (sent at " + format_ms(a.sent) + ") arrives");
    } else {
      it->second = std::max(it->second, index);
    }
    model_.steps.push_back({LadderStep::Kind::arrive, at, index});
  }

  void on_receive(const Event& e) {
    const auto f = parse_packet(e.packet);
    if (!f) return;
    const PacketKey key = packet_key(*f);
    if (auto index = take_in_flight(key, false)) {
      arrive(*index, e.at);
      last_arrived_[key] = *index;
      return;
    }
    // No copy on its way: the network delivered this one twice.
    if (auto it = last_arrived_.find(key); it != last_arrived_.end()) {
      model_.arrows[it->second].duplicate_arrived = true;
      note(e.at, column_of(f->dst), LadderNote::Kind::info, "duplicate arrived");
    }
  }

  void on_drop(const Event& e) {
    const auto f = parse_packet(e.packet);
    if (e.layer == kLinkLayer) {
      if (!f) return;
      if (auto index = take_in_flight(packet_key(*f), true))
        model_.arrows[*index].link_drop = e.cause;
      return;
    }
    // Dropped by the receiving stack: before the trace saw it arrive (IP), or after (TCP).
    if (!f) {
      note(e.at, column_of({e.host, 0}), LadderNote::Kind::drop, "✗ " + e.layer + ": " + e.cause);
      return;
    }
    const PacketKey key = packet_key(*f);
    std::optional<std::size_t> index = take_in_flight(key, false);
    if (index) {
      arrive(*index, e.at);
      last_arrived_[key] = *index;
    } else if (auto it = last_arrived_.find(key); it != last_arrived_.end()) {
      index = it->second;
    }
    if (index) model_.arrows[*index].stack_drop = e.layer + ": " + e.cause;
    note(e.at, column_of(f->dst), LadderNote::Kind::drop, "✗ " + e.cause);
  }

  const Recording& rec_;
  LadderOptions options_;
  LadderModel model_;
  std::map<std::pair<std::uint64_t, std::uint64_t>, Flow> flows_;
  std::map<PacketKey, std::deque<std::size_t>> in_flight_;
  std::map<PacketKey, std::size_t> last_arrived_;
  // Per path, the last-sent arrow that arrived so far.
  std::map<std::pair<std::size_t, std::size_t>, std::size_t> latest_sent_arrived_;
};

}  // namespace

LadderModel build_ladder(const Recording& recording, const LadderOptions& options) {
  return Builder(recording, options).build();
}

}  // namespace synack::trace
