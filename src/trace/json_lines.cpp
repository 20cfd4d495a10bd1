#include "trace/json_lines.hpp"

#include <cstdio>

#include "trace/event_log.hpp"
#include "trace/packet_fields.hpp"

namespace synack::trace {

std::string json_string(std::string_view text) {
  std::string s = "\"";
  for (const char c : text) {
    switch (c) {
      case '"':
        s += "\\\"";
        break;
      case '\\':
        s += "\\\\";
        break;
      case '\n':
        s += "\\n";
        break;
      case '\r':
        s += "\\r";
        break;
      case '\t':
        s += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          s += buf;
        } else {
          s += c;
        }
    }
  }
  return s + "\"";
}

namespace {

// `"key":value` pairs, comma separated, for one object.
class Object {
 public:
  explicit Object(std::ostream& out) : out_(out) { out_ << "{"; }
  ~Object() { out_ << "}\n"; }
  Object(const Object&) = delete;
  Object& operator=(const Object&) = delete;

  Object& str(std::string_view key, std::string_view value) { return raw(key, json_string(value)); }
  Object& num(std::string_view key, std::uint64_t value) { return raw(key, std::to_string(value)); }
  Object& signed_num(std::string_view key, std::int64_t value) {
    return raw(key, std::to_string(value));
  }
  Object& raw(std::string_view key, std::string_view value) {
    out_ << (first_ ? "" : ",") << json_string(key) << ":" << value;
    first_ = false;
    return *this;
  }

 private:
  std::ostream& out_;
  bool first_ = true;
};

void start(Object& o, Instant at, Ipv4Address host, std::string_view event) {
  o.signed_num("t_ns", to_nanos(at)).str("host", host.to_string()).str("event", event);
}

void packet_fields(Object& o, wire::Bytes packet) {
  const auto f = parse_packet(packet);
  if (f) {
    o.str("proto", f->is_tcp() ? "tcp" : f->is_udp() ? "udp" : f->is_icmp() ? "icmp" : "ip");
    o.str("src", f->is_tcp() || f->is_udp() ? f->src.to_string() : f->src.address.to_string());
    o.str("dst", f->is_tcp() || f->is_udp() ? f->dst.to_string() : f->dst.address.to_string());
    o.num("ip_id", f->ip_id);
    if (f->is_tcp()) {
      o.str("flags", wire::to_string(f->flags)).num("seq", f->seq).num("ack", f->ack);
      o.num("win", f->window);
    }
    if (f->is_icmp()) o.num("icmp_type", f->icmp_type).num("icmp_code", f->icmp_code);
    o.num("len", f->payload.size());
  }
  o.str("summary", describe_packet(packet));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(packet.size() * 2);
  for (const std::uint8_t b : packet) {
    hex += kHex[b >> 4];
    hex += kHex[b & 0xf];
  }
  o.str("hex", hex);
}

}  // namespace

void JsonLines::on_api(Instant at, Ipv4Address host, const ApiCall& call) {
  Object o(out_);
  start(o, at, host, "api");
  o.signed_num("socket", call.socket).str("call", call.name).str("detail", call.detail);
  o.str("result", call.result).str("local", call.local.to_string());
}

void JsonLines::on_state(Instant at, const FourTuple& t, tcp::State from, tcp::State to,
                         std::string_view cause) {
  Object o(out_);
  start(o, at, t.local.address, "state");
  o.str("local", t.local.to_string()).str("remote", t.remote.to_string());
  o.str("from", tcp::to_string(from)).str("to", tcp::to_string(to)).str("cause", cause);
}

void JsonLines::on_packet(Instant at, Ipv4Address host, Direction dir, wire::Bytes packet,
                          std::string_view cause) {
  Object o(out_);
  start(o, at, host, "packet");
  o.str("dir", dir == Direction::out ? "out" : "in").str("cause", cause);
  packet_fields(o, packet);
}

void JsonLines::on_drop(Instant at, Ipv4Address host, wire::Bytes packet, std::string_view layer,
                        std::string_view reason) {
  Object o(out_);
  start(o, at, host, "drop");
  o.str("layer", layer).str("reason", reason);
  packet_fields(o, packet);
}

void JsonLines::on_timer(Instant at, const FourTuple& t, std::string_view timer) {
  Object o(out_);
  start(o, at, t.local.address, "timer");
  o.str("timer", timer).str("local", t.local.to_string()).str("remote", t.remote.to_string());
}

}  // namespace synack::trace
