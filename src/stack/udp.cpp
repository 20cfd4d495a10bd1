// UDP (RFC 768): datagrams with their boundaries kept, ICMP port unreachable for a closed
// port (RFC 1122 §4.1.3.1), and the socket calls that go with them.
#include <algorithm>
#include <cstring>

#include "stack/stack_impl.hpp"
#include "wire/udp.hpp"

namespace synack {
namespace {
std::error_code err(std::errc e) {
  return std::make_error_code(e);
}
constexpr std::size_t kIp = 20;
constexpr std::size_t kUdpHeader = 8;
}  // namespace

void Stack::Impl::udp_input(const wire::Ipv4View& ip) {
  auto parsed = wire::UdpView::parse(ip.payload());
  if (!parsed) {
    ++counters.udp.in_errors;
    drop(ip.packet(), "udp", wire::to_string(parsed.error()));
    return;
  }
  if (!rx_checksum_trusted && !wire::udp_checksum_ok(*parsed, ip.src(), ip.dst())) {
    ++counters.udp.in_errors;
    drop(ip.packet(), "udp", "bad checksum");
    return;
  }
  const Endpoint from{ip.src(), parsed->src_port()};
  const auto it = udp_ports.find(parsed->dst_port());
  SocketSlot* s = it == udp_ports.end() ? nullptr : &sockets[static_cast<std::size_t>(it->second)];
  // A connected socket takes datagrams from its peer only. As on Linux, whose socket
  // lookup does not match a connected socket for another source, a datagram no socket
  // takes is one to a closed port: counted, and answered with port unreachable.
  if (!s || (s->udp->remote && *s->udp->remote != from)) {
    ++counters.udp.no_ports;
    drop(ip.packet(), "udp", s ? "not from the connected peer" : "no socket on port");
    send_port_unreachable(ip);
    return;
  }
  const wire::Bytes payload = parsed->payload();
  if (s->udp->queued_bytes + payload.size() > config.udp_receive_queue) {
    ++counters.udp.rcvbuf_errors;
    drop(ip.packet(), "udp", "receive queue full");
    return;
  }
  if (!memory.admits(payload.size())) {
    ++counters.udp.rcv_mem_drops;
    drop(ip.packet(), "udp", "out of buffer memory");
    return;
  }
  ++counters.udp.in_datagrams;
  s->udp->queued_bytes += payload.size();
  memory.used += payload.size();
  s->udp->datagrams.push_back({from, std::vector<std::uint8_t>(payload.begin(), payload.end())});
}

std::error_code Stack::Impl::udp_send(SocketSlot& s, std::span<const std::uint8_t> data,
                                      Endpoint to) {
  if (data.size() > link.mtu() - kIp - kUdpHeader) return err(std::errc::message_size);
  if (to.port == 0 || to.address.is_unspecified()) return err(std::errc::invalid_argument);
  // The datagram is built in the stack's one frame buffer and handed to the link at once,
  // so it holds nothing afterwards; but while the stack is over its buffer memory it takes
  // no new work it would need memory for, as a system out of buffers refuses a send.
  if (!memory.admits(data.size())) {
    ++counters.udp.snd_mem_refused;
    return err(std::errc::no_buffer_space);
  }
  if (!s.bound) {
    auto port = ephemeral_udp_port();
    if (!port) return err(std::errc::address_in_use);
    s.local = {Ipv4Address(), *port};  // an implicit bind is to the wildcard, as bind(0)
    s.bound = true;
    udp_ports[*port] = static_cast<SocketId>(&s - sockets.data());
  }
  std::memcpy(tx.data() + kIp + kUdpHeader, data.data(), data.size());
  const std::size_t length = kUdpHeader + data.size();
  // write_udp_header returns the header's length (8), not the datagram's: the IP payload
  // is the whole datagram, header and data.
  if (wire::write_udp_header(wire::MutableBytes(tx.data() + kIp, length),
                             wire::UdpHeader{s.local.port, to.port}, config.address,
                             to.address) != kUdpHeader) {
    return err(std::errc::message_size);
  }
  ++counters.udp.out_datagrams;
  send_ip(to.address, wire::kUdp, length, "sendto()");
  return {};
}

std::error_code Stack::send_to(SocketId id, std::span<const std::uint8_t> data, Endpoint to) {
  SocketSlot* sl = impl_->slot(id);
  if (!sl) return err(std::errc::bad_file_descriptor);
  if (sl->kind != SocketSlot::Kind::udp) return err(std::errc::operation_not_supported);
  const auto ec = impl_->udp_send(*sl, data, to);
  impl_->link.flush(impl_->now);  // sent at once, outside poll
  if (impl_->trace)
    trace_api(*impl_, id, "sendto", std::to_string(data.size()) + ", " + to.to_string(), ec,
              "= " + std::to_string(data.size()));
  return ec;
}

std::error_code Stack::Impl::udp_receive(SocketId id, std::span<std::uint8_t> out, std::size_t& n,
                                         Endpoint* from, bool* truncated, bool peek) {
  n = 0;
  SocketSlot& sl = sockets[static_cast<std::size_t>(id)];
  // A pending ICMP error is reported (and cleared) first, by a peek too, as Linux's
  // sock_error() does.
  if (sl.udp->error) return std::exchange(sl.udp->error, {});
  if (sl.udp->datagrams.empty()) return err(std::errc::resource_unavailable_try_again);
  UdpDatagram& d = sl.udp->datagrams.front();
  n = std::min(out.size(), d.data.size());
  std::copy_n(d.data.begin(), n, out.begin());
  // The rest is discarded (MSG_TRUNC), unless the datagram stays for the next call.
  if (truncated) *truncated = d.data.size() > out.size();
  if (from) *from = d.from;
  if (trace)
    trace_api(*this, id, peek ? "recvfrom(MSG_PEEK)" : "recvfrom", d.from.to_string(), {},
              "= " + std::to_string(n));
  if (!peek) {
    sl.udp->queued_bytes -= d.data.size();
    memory.used -= d.data.size();
    sl.udp->datagrams.pop_front();
  }
  return {};
}

std::error_code Stack::receive_from(SocketId id, std::span<std::uint8_t> out, std::size_t& n,
                                    Endpoint* from, bool* truncated) {
  n = 0;
  SocketSlot* sl = impl_->slot(id);
  if (!sl) return err(std::errc::bad_file_descriptor);
  if (sl->kind != SocketSlot::Kind::udp) return err(std::errc::operation_not_supported);
  return impl_->udp_receive(id, out, n, from, truncated, false);
}

}  // namespace synack
