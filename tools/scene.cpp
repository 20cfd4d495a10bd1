#include "tools/scene.hpp"

#include <vector>

#include "link/sim/network.hpp"

namespace synack::tools {

// Frames the network itself drops (loss, a full queue) reach the trace as drops by the
// "link" layer, reported by the host that sent them.
class Scene::LinkDrops final : public sim::NetworkObserver {
 public:
  explicit LinkDrops(trace::Sink& sink) : sink_(sink) {}
  void on_drop(std::uint32_t from, std::uint32_t /*to*/, wire::Bytes frame, sim::DropReason reason,
               Instant at) override {
    sink_.on_drop(at, Ipv4Address(from), frame, trace::kLinkLayer, sim::to_string(reason));
  }

 private:
  trace::Sink& sink_;
};

namespace {
sim::ChannelParams channel_params(const SceneOptions& o) {
  sim::ChannelParams p;
  p.delay = o.delay;
  p.loss = o.loss;
  p.reorder = o.reorder;
  return p;
}

std::string_view option_name(Option o) {
  switch (o) {
    case Option::reuse_addr:
      return "SO_REUSEADDR";
    case Option::send_buffer:
      return "SO_SNDBUF";
    case Option::receive_buffer:
      return "SO_RCVBUF";
    case Option::linger:
      return "SO_LINGER";
    case Option::keepalive:
      return "SO_KEEPALIVE";
    case Option::keep_idle:
      return "TCP_KEEPIDLE";
    case Option::keep_interval:
      return "TCP_KEEPINTVL";
    case Option::keep_count:
      return "TCP_KEEPCNT";
    case Option::nodelay:
      return "TCP_NODELAY";
    case Option::max_segment:
      return "TCP_MAXSEG";
    case Option::user_timeout:
      return "TCP_USER_TIMEOUT";
  }
  return "?";
}

std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
}  // namespace

Scene::Scene(const SceneOptions& options, trace::Sink* also)
    : world(options.seed, channel_params(options)),
      client(world.add_host(kClientAddress)),
      server(world.add_host(kServerAddress)),
      options_(options),
      link_drops_(std::make_unique<LinkDrops>(tee_)) {
  recording.name_host(kClientAddress, "client");
  recording.name_host(kServerAddress, "server");
  tee_.add(recording);
  if (also) tee_.add(*also);
  client.stack.set_trace(&tee_);
  server.stack.set_trace(&tee_);
  world.net().set_observer(link_drops_.get());
}

Scene::~Scene() {
  world.net().set_observer(nullptr);
  client.stack.set_trace(nullptr);
  server.stack.set_trace(nullptr);
}

void Scene::fail(std::string what) {
  failures_.push_back(std::move(what));
}

void Scene::expect(bool holds, std::string_view what) {
  if (!holds) fail("expected " + std::string(what));
}

bool Scene::run_until(const std::function<bool()>& done, Duration limit, std::string_view what) {
  if (!ok()) return false;
  if (done()) return true;
  const auto r = world.run_until(done, limit);
  if (!r.done) {
    fail(std::string(what) + (r.stalled ? ": the simulation stalled" : ": did not happen in time"));
  }
  return r.done;
}

void Scene::note_call(sim::Host& host, SocketId s, std::string_view name, std::string detail,
                      std::string result) {
  trace::ApiCall call;
  call.socket = s;
  call.name = name;
  call.detail = std::move(detail);
  call.result = std::move(result);
  host.stack.getsockname(s, call.local);
  // A socket bound to the wildcard belongs in its host's column.
  if (call.local.address.is_unspecified()) call.local.address = host.stack.address();
  tee_.on_api(world.now(), host.stack.address(), call);
}

SocketId Scene::listen(std::uint16_t port) {
  SocketId s = -1;
  if (!ok()) return s;
  if (auto ec = server.stack.tcp_socket(s)) fail("socket(): " + ec.message());
  if (auto ec = server.stack.bind(s, {Ipv4Address(), port})) fail("bind(): " + ec.message());
  if (auto ec = server.stack.listen(s, 128)) fail("listen(): " + ec.message());
  SocketId none = -1;
  if (server.stack.accept(s, none) == std::errc::resource_unavailable_try_again) {
    note_call(server, s, "accept", "", "blocks");
  }
  return s;
}

SocketId Scene::connect(std::uint16_t port) {
  SocketId s = -1;
  if (!ok()) return s;
  if (auto ec = client.stack.tcp_socket(s)) fail("socket(): " + ec.message());
  const auto ec = client.stack.connect(s, {kServerAddress, port});
  if (ec != std::errc::operation_in_progress) fail("connect(): " + ec.message());
  return s;
}

SocketId Scene::accept(SocketId listener) {
  SocketId s = -1;
  run_until([&] { return !server.stack.accept(listener, s); }, seconds(130), "accept()");
  return s;
}

bool Scene::connected(SocketId s, std::error_code expect_error) {
  if (!run_until(
          [&] {
            const Readiness r = client.stack.readiness(s);
            return r.writable || r.error;
          },
          seconds(130), "connect() to end")) {
    return false;
  }
  // What a blocking connect() returns: SO_ERROR once the socket is ready.
  const std::error_code ec = client.stack.socket_error(s);
  note_call(client, s, "connect", "", ec ? ec.message() : "= 0");
  if (ec != expect_error) {
    fail("connect() ended with " + (ec ? ec.message() : std::string("success")));
  }
  return !ec;
}

void Scene::write(sim::Host& host, SocketId s, std::string_view data) {
  std::size_t off = 0;
  while (ok() && off < data.size()) {
    std::size_t n = 0;
    const auto ec = host.stack.write(s, as_bytes(data.substr(off)), n);
    off += n;
    if (ec && ec != std::errc::resource_unavailable_try_again) {
      fail("write(): " + ec.message());
      return;
    }
    if (off < data.size()) {
      run_until([&] { return host.stack.readiness(s).writable; }, seconds(130), "room to write");
    }
  }
}

std::string Scene::read(sim::Host& host, SocketId s, std::size_t n) {
  std::string got;
  std::vector<std::uint8_t> buf(65536);
  run_until(
      [&] {
        while (got.size() < n) {
          std::size_t k = 0;
          const auto ec =
              host.stack.read(s, std::span(buf).first(std::min(buf.size(), n - got.size())), k);
          if (ec == std::errc::resource_unavailable_try_again) return false;
          if (ec || k == 0) {
            fail("read() ended early: " + (ec ? ec.message() : std::string("end of stream")));
            return true;
          }
          got.append(reinterpret_cast<const char*>(buf.data()), k);
        }
        return true;
      },
      seconds(130), "the data to arrive");
  return got;
}

std::string Scene::read_to_eof(sim::Host& host, SocketId s) {
  std::string got;
  std::vector<std::uint8_t> buf(65536);
  run_until(
      [&] {
        for (;;) {
          std::size_t k = 0;
          const auto ec = host.stack.read(s, buf, k);
          if (ec == std::errc::resource_unavailable_try_again) return false;
          if (ec) {
            fail("read(): " + ec.message());
            return true;
          }
          if (k == 0) return true;
          got.append(reinterpret_cast<const char*>(buf.data()), k);
        }
      },
      seconds(130), "end of stream");
  return got;
}

std::error_code Scene::read_error(sim::Host& host, SocketId s) {
  std::error_code error;
  std::vector<std::uint8_t> buf(65536);
  run_until(
      [&] {
        for (;;) {
          std::size_t k = 0;
          const auto ec = host.stack.read(s, buf, k);
          if (ec == std::errc::resource_unavailable_try_again) return false;
          if (ec) {
            error = ec;
            return true;
          }
          if (k == 0) {
            fail("read() met end of stream, not an error");
            return true;
          }
        }
      },
      seconds(130), "an error on read()");
  return error;
}

void Scene::shutdown(sim::Host& host, SocketId s, Shutdown how) {
  if (!ok()) return;
  if (auto ec = host.stack.shutdown(s, how)) fail("shutdown(): " + ec.message());
}

void Scene::close(sim::Host& host, SocketId s) {
  if (!ok()) return;
  if (auto ec = host.stack.close(s)) fail("close(): " + ec.message());
}

void Scene::setsockopt(sim::Host& host, SocketId s, Option option, int value) {
  if (!ok()) return;
  const auto ec = host.stack.setsockopt(s, option, value);
  // The stack does not report socket options; the ladder should show them all the same.
  note_call(host, s, "setsockopt", std::string(option_name(option)) + ", " + std::to_string(value),
            ec ? ec.message() : "= 0");
  if (ec) fail("setsockopt(): " + ec.message());
}

bool Scene::all_closed(Duration limit) {
  return run_until(
      [&] { return client.stack.connection_count() == 0 && server.stack.connection_count() == 0; },
      limit, "every connection to close");
}

}  // namespace synack::tools
