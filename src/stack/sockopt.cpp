// setsockopt / getsockopt: the options a TCP user expects, applied to the socket's config
// and, once connected, to its connection.
#include <algorithm>

#include "stack/stack_impl.hpp"

namespace synack {
namespace {

std::error_code err(std::errc e) {
  return std::make_error_code(e);
}

// Linux doubles SO_SNDBUF/SO_RCVBUF for bookkeeping overhead; we hold exactly what is set,
// within sane bounds.
constexpr int kMinBuffer = 2048;
constexpr int kMaxBuffer = 16 * 1024 * 1024;

}  // namespace

std::error_code Stack::setsockopt(SocketId id, Option opt, int value) {
  SocketSlot* sl = impl_->slot(id);
  if (!sl) return err(std::errc::bad_file_descriptor);
  tcp::Connection* c = impl_->conn_of(id);
  tcp::Config& cfg = c ? c->config() : sl->tcp.edit();
  const bool tcp = sl->kind == SocketSlot::Kind::tcp;
  switch (opt) {
    case Option::reuse_addr:
      sl->reuse_addr = value != 0;
      return {};
    case Option::send_buffer:
    case Option::receive_buffer:
      if (value < 0) return err(std::errc::invalid_argument);
      // Buffers are sized when the connection is made (the window scale depends on it).
      if (c) return err(std::errc::invalid_argument);
      (opt == Option::send_buffer ? cfg.send_buffer : cfg.receive_buffer) =
          static_cast<std::size_t>(std::clamp(value, kMinBuffer, kMaxBuffer));
      // The application fixed the receive buffer: it will not grow, so the window scale is
      // chosen for it alone (Linux: SOCK_RCVBUF_LOCK clamps window_clamp, and the shift).
      if (opt == Option::receive_buffer) cfg.receive_buffer_max = cfg.receive_buffer;
      return {};
    case Option::linger:
      cfg.linger = value < 0 ? tcp::Linger{} : tcp::Linger{true, value};
      return {};
    default:
      break;
  }
  if (!tcp) return err(std::errc::no_protocol_option);
  switch (opt) {
    case Option::keepalive:
      cfg.keepalive.enabled = value != 0;
      break;
    case Option::keep_idle:
      if (value < 1) return err(std::errc::invalid_argument);
      cfg.keepalive.idle = seconds(value);
      break;
    case Option::keep_interval:
      if (value < 1) return err(std::errc::invalid_argument);
      cfg.keepalive.interval = seconds(value);
      break;
    case Option::keep_count:
      if (value < 1) return err(std::errc::invalid_argument);
      cfg.keepalive.count = value;
      break;
    case Option::nodelay:
      cfg.nodelay = value != 0;
      break;
    case Option::max_segment:
      // Linux accepts 88..32767 (TCP_MIN_MSS .. MAX_TCP_WINDOW) before the connection.
      if (value < 88 || value > 32767 || c) return err(std::errc::invalid_argument);
      cfg.mss = static_cast<std::uint16_t>(value);
      break;
    case Option::user_timeout:
      // R2 as a time, for this connection [RFC9293 MUST-21]. Milliseconds, as Linux takes
      // it; it may change at any time and is read at each timer expiry.
      if (value < 0) return err(std::errc::invalid_argument);
      cfg.user_timeout = milliseconds(value);
      break;
    default:
      return err(std::errc::no_protocol_option);
  }
  if (c) {
    c->settings_changed();
    impl_->mark_dirty(sl->conn);
    impl_->check_invariants(sl->conn);
  }
  return {};
}

std::error_code Stack::getsockopt(SocketId id, Option opt, int& value) const {
  const SocketSlot* sl = impl_->slot(id);
  if (!sl) return err(std::errc::bad_file_descriptor);
  const tcp::Connection* c = impl_->conn_of(id);
  const tcp::Config& cfg = c ? c->config() : *sl->tcp;
  auto secs = [](Duration d) {
    return static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(d).count());
  };
  switch (opt) {
    case Option::reuse_addr:
      value = sl->reuse_addr;
      break;
    case Option::send_buffer:
      value = static_cast<int>(cfg.send_buffer);
      break;
    case Option::receive_buffer:
      value = static_cast<int>(cfg.receive_buffer);
      break;
    case Option::linger:
      value = cfg.linger.enabled ? cfg.linger.seconds : -1;
      break;
    case Option::keepalive:
      value = cfg.keepalive.enabled;
      break;
    case Option::keep_idle:
      value = secs(cfg.keepalive.idle);
      break;
    case Option::keep_interval:
      value = secs(cfg.keepalive.interval);
      break;
    case Option::keep_count:
      value = cfg.keepalive.count;
      break;
    case Option::nodelay:
      value = cfg.nodelay;
      break;
    case Option::max_segment:
      value = c ? c->effective_mss() : cfg.mss;
      break;
    case Option::user_timeout:
      value = static_cast<int>(
          std::chrono::duration_cast<std::chrono::milliseconds>(cfg.user_timeout).count());
      break;
  }
  return {};
}

}  // namespace synack
