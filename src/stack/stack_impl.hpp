// The inside of a Stack: socket table, connection slab, demux, listeners, ports, timers.
// The public methods in stack.cpp check their arguments and call in here; the packet path
// lives in ip_input.cpp / tcp_input.cpp / udp.cpp / icmp.cpp, output in ip_output.cpp.
#pragma once

#include <algorithm>
#include <array>
#include <deque>
#include <list>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "base/flat_index.hpp"
#include "base/siphash.hpp"
#include "ip/reassembly.hpp"
#include "link/link.hpp"
#include "stack/counters.hpp"
#include "stack/time_wait_table.hpp"
#include "stack/timer_wheel.hpp"
#include "synack/stack.hpp"
#include "tcp/connection.hpp"
#include "trace/trace.hpp"
#include "wire/ipv4.hpp"

namespace synack {

using ConnId = std::uint32_t;
inline constexpr ConnId kNoConn = ~ConnId{0};
inline constexpr TimerId kNoTimer{~std::uint32_t{0}};

struct UdpDatagram {
  Endpoint from;
  std::vector<std::uint8_t> data;
};

struct Listener {
  int backlog = 0;
  std::size_t half_open = 0;        // children in SYN_RECEIVED
  std::deque<ConnId> accept_queue;  // ESTABLISHED children not yet accepted
  // When the listener last answered a SYN with a cookie (Linux's synq overflow stamp):
  // only for tcp::kCookieValidity after it is an ACK checked as a cookie.
  std::optional<Instant> last_cookie_sent;
};

// A UDP socket's own state, apart from the slot: every TCP connection has a socket, and
// inline these made each slot 64 bytes larger (issue 9).
struct UdpSocket {
  std::optional<Endpoint> remote;  // connect()ed: the only peer
  // A list, not a deque: an empty std::deque already holds about 600 bytes.
  std::list<UdpDatagram> datagrams;
  std::size_t queued_bytes = 0;
  std::error_code error;  // an ICMP error for a connected socket
};

// Ordered by alignment: a million connections have a million of these.
struct SocketSlot {
  enum class Kind : std::uint8_t { free, tcp, udp } kind = Kind::free;
  bool bound = false;
  bool autobound = false;  // bound by connect() to an ephemeral port (PortUse::autobound)
  bool reuse_addr = false;
  Endpoint local;
  // TCP
  ConnId conn = kNoConn;
  tcp::SharedConfig tcp;  // the options, shared with the connection made from them
  // Only a listening socket has one: inline (a std::optional), its deque made every
  // socket about 110 bytes larger.
  std::unique_ptr<Listener> listener;
  // UDP: exactly when kind is udp.
  std::unique_ptr<UdpSocket> udp;
};

struct ConnSlot {
  std::optional<tcp::Connection> conn;
  SocketId socket = -1;    // the application's socket; -1 when orphaned
  SocketId listener = -1;  // the listener that made it, until accepted
  bool in_accept_queue = false;
  bool dirty = false;         // has output to flush
  bool output_waits = false;  // on Impl::output_waiting
  // One wheel timer for all of the connection's deadlines, armed at the earliest of them
  // (sync_timers): a wheel node is 32 bytes, and most connections arm one kind at a time.
  // Held only while a deadline is set (kNoTimer otherwise): an idle connection has none.
  TimerId timer = kNoTimer;
};

struct PortUse {
  std::uint32_t sockets = 0;  // sockets bound to it (listening or not)
  // Sockets connect() bound to it. As on Linux, another connect() may share the port with
  // them, to another peer (the 4-tuple tells them apart); bind() may not.
  std::uint32_t autobound = 0;
  std::uint32_t connections = 0;  // connections using it as their local port
  // Whether a socket listens on it is Impl::listeners' to say, not a flag here: at 12 bytes
  // an entry's node in tcp_ports is a 32-byte heap block instead of 48, and a client has
  // one per connected socket (issue 9).

  // Nothing holds the port: its entry goes.
  bool unused() const { return sockets == 0 && autobound == 0 && connections == 0; }
};

// Room for one more element in a table of slots that grows by doubling, but not past the
// stack's limit while under it: at a million connections a last doubling would leave up to
// half the table spare, and a slot is a whole connection (issue 9). Past the limit (a table
// may hold more, e.g. orphaned connections) it doubles again.
template <class T>
void reserve_one_more(std::vector<T>& table, std::size_t limit) {
  if (table.size() < table.capacity()) return;
  std::size_t next = std::max<std::size_t>(2 * table.capacity(), 16);
  if (table.size() < limit) next = std::min(next, limit);
  table.reserve(next);
}

struct Stack::Impl final : link::FrameSink {
  Impl(link::Link& l, const Clock& c, const StackConfig& cfg);

  link::Link& link;
  const Clock& clock;
  StackConfig config;
  SipKey secret;
  SipKey cookie_key = tcp::syn_cookie_key(secret);  // after `secret`: made from it
  tcp::Config tcp_defaults;
  tcp::SharedConfig shared_defaults;  // the last tcp_defaults new sockets took, shared
  Counters counters;
  BufferBudget memory;  // before the connections, which give their bytes back as they go
  BufferPool buffers;   // before the connections, whose rings give their storage back to it
  tcp::Context ctx{counters, nullptr, &memory, &buffers};
  ip::Reassembler reasm{{}, &memory};  // partial datagrams count against the buffer memory
  trace::Sink* trace = nullptr;
  Instant now{};

  std::vector<SocketSlot> sockets;
  std::vector<SocketId> free_sockets;
  std::vector<ConnSlot> conns;
  std::vector<ConnId> free_conns;
  // Connections by 4-tuple: ConnIds in a flat index, each keyed by its connection's tuple.
  FlatIndex demux;
  std::unordered_map<std::uint16_t, SocketId> listeners;  // by local port
  std::unordered_map<std::uint16_t, PortUse> tcp_ports;
  std::unordered_map<std::uint16_t, SocketId> udp_ports;
  // RFC 6056 Algorithm 4's table[]: one counter per bucket of destinations, so ports
  // towards one destination reveal nothing about the counter used towards another.
  std::array<std::uint32_t, 4096> port_perturb{};
  std::uint64_t port_draws = 0;  // counter for the keyed random increments
  std::vector<ConnId> dirty;
  // While Stack::poll takes in a batch of frames, connections whose output may wait for its
  // end (tcp::Connection::output_can_wait): a receiver then sends one ACK for all the
  // segments of the batch rather than one for every second, and a sender answers all the
  // ACKs with one flush.
  bool in_input_batch = false;
  std::vector<ConnId> output_waiting;
  TimerWheel wheel;
  // The connection whose timers on_timer is firing: sync_timers leaves its wheel timer
  // alone until every kind due at that tick has fired.
  ConnId timers_firing = kNoConn;
  // Orphaned connections in TIME_WAIT, compacted (after_event moves them here).
  TimeWaitTable time_wait{secret, config.address};
  std::uint16_t ip_id = 0;
  std::array<std::uint8_t, 65536> tx{};  // one frame being built; the link copies it
  // The frame being taken in came through on_trusted_frame: its transport checksum is the
  // medium's word, not to be verified.
  bool rx_checksum_trusted = false;

  // stack.cpp
  SocketSlot* slot(SocketId s);
  const SocketSlot* slot(SocketId s) const;
  tcp::Connection* conn_of(SocketId s);
  const tcp::Connection* conn_of(SocketId s) const;
  std::error_code new_socket(SocketSlot::Kind kind, SocketId& out);
  void free_socket(SocketId s);

  // limits.cpp: StackConfig::max_sockets and max_buffer_memory
  std::size_t open_sockets() const { return sockets.size() - free_sockets.size(); }
  // A SYN to a listener makes no child while the stack is at a limit: counted, true.
  bool syn_over_limits();
  // Debug builds (no NDEBUG): the connection's TCB invariants, and the timer wheel agreeing
  // with its deadlines; a violation aborts. Nothing in release builds.
  void check_invariants(ConnId id) const;

  // ports.cpp (RFC 6056 ports, RFC 6528 ISNs)
  bool tcp_port_free_for_bind(std::uint16_t port, bool reuse_addr) const;
  template <class Usable>
  std::optional<std::uint16_t> ephemeral_port(const Endpoint& remote, Usable&& usable);
  std::optional<std::uint16_t> ephemeral_tcp_port(const Endpoint& remote);
  std::optional<std::uint16_t> ephemeral_udp_port();
  tcp::Seq isn(const FourTuple& tuple) const;

  // connections.cpp: the slab and what happens after every event
  ConnId add_connection(tcp::Connection&& c, SocketId socket, SocketId listener);
  void after_event(ConnId id);
  void flush(ConnId id);
  void sync_timers(ConnId id);
  void release_connection(ConnId id);
  void mark_dirty(ConnId id);
  void end_input_batch();  // flushes output_waiting
  void on_timer(TimerId timer, std::uint64_t tag);
  // The demux: the connection holding `tuple`, or kNoConn; set (replacing any other);
  // erase, while `id` holds it (a new connection may have taken the tuple since).
  ConnId demux_find(const FourTuple& tuple) const;
  void demux_set(const FourTuple& tuple, ConnId id);
  void demux_erase(const FourTuple& tuple, ConnId id);
  // The demux's slot for `tuple` (whose hash is `hash`), or FlatIndex::npos.
  std::size_t demux_slot(std::size_t hash, const FourTuple& tuple) const;
  // An orphan in TIME_WAIT moves to the compact table and its connection goes; false when
  // it stays (the table cannot answer for it exactly).
  bool compact_time_wait(ConnId id);

  // time_wait.cpp: segments for, and the end of, a compacted TIME_WAIT
  void time_wait_input(TimeWaitTable::Handle h, const FourTuple& tuple, const tcp::Segment& seg,
                       wire::Bytes packet);
  void expire_time_wait();

  // ip_input.cpp / ip_output.cpp
  void on_frame(wire::Bytes frame, Instant arrived) override;
  void on_trusted_frame(wire::Bytes frame, Instant arrived) override;
  void drop(wire::Bytes packet, std::string_view layer, std::string_view reason);
  // A source in our subnet that is its directed broadcast or network address.
  bool is_subnet_broadcast_or_network(Ipv4Address a) const;
  void reassemble(const wire::Ipv4View& fragment);
  // Frees the partial datagrams whose time is up (on poll).
  void expire_fragments();
  void deliver(const wire::Ipv4View& ip);
  // Builds IPv4 around the `length` bytes already at at[20..] (`at`: tx, or a frame the link
  // lent, Link::lend) and sends them. A nonzero `segment_size` sends a TCP frame through the
  // link's segmentation offload (Link::send_segmented), its checksum left to the link, as
  // `pieces` segments: they take consecutive IP ids, as the link numbers them.
  void send_ip(Ipv4Address dst, std::uint8_t protocol, std::size_t length, std::string_view cause,
               std::size_t segment_size = 0, std::size_t pieces = 1, std::uint8_t* at = nullptr);

  // tcp_input.cpp
  void tcp_input(const wire::Ipv4View& ip);
  // min_iss: a TIME_WAIT 4-tuple reopened must start past the old sequence space. Returns
  // why the segment was dropped, or "" when it was taken (or answered).
  std::string_view listen_input(SocketId listener, const FourTuple& tuple, const tcp::Segment& seg,
                                std::optional<tcp::Seq> min_iss = std::nullopt);
  // RFC 4987 SYN cookies: the SYN,ACK that stores nothing, and the ACK that may return one:
  // nullopt when it carries no good cookie, else as listen_input.
  void send_syn_cookie(SocketId listener, const FourTuple& tuple, const tcp::Segment& syn);
  std::optional<std::string_view> cookie_ack_input(SocketId listener, const FourTuple& tuple,
                                                   const tcp::Segment& ack);
  void send_reset_for(const FourTuple& tuple, const tcp::Segment& seg, std::string_view cause);
  void send_tcp(const FourTuple& tuple, const tcp::OutSegment& out, const ByteRing* payload);

  // udp.cpp and icmp.cpp
  void udp_input(const wire::Ipv4View& ip);
  void icmp_input(const wire::Ipv4View& ip);
  void send_port_unreachable(const wire::Ipv4View& ip);
  // ICMP destination unreachable with `code` about the datagram `ip`.
  void send_destination_unreachable(const wire::Ipv4View& ip, std::uint8_t code);
  // Parameter problem about `ip`, pointing at octet `pointer` of its header.
  void send_parameter_problem(const wire::Ipv4View& ip, std::uint8_t pointer);
  // RFC 1122 §3.2.2: no ICMP error about an ICMP error or a fragment but the first (the
  // sources and destinations it also names are dropped before anything answers).
  static bool may_send_icmp_error_about(const wire::Ipv4View& ip);
  std::error_code udp_send(SocketSlot& s, std::span<const std::uint8_t> data, Endpoint to);
  // The next datagram of UDP socket `id`, removed unless `peek`.
  std::error_code udp_receive(SocketId id, std::span<std::uint8_t> out, std::size_t& n,
                              Endpoint* from, bool* truncated, bool peek);
};

// Reports a socket call to the trace (a no-op without one), placed by its socket's address.
void trace_api(Stack::Impl& s, SocketId id, std::string_view name, std::string detail,
               std::error_code ec, std::string ok = "= 0");

}  // namespace synack
