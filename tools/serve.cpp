// `synack serve`: a server on the real network, the kernel (curl, nc, python) as client.
// One thread per connection on the runtime's blocking calls, as a classic POSIX server.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <list>
#include <memory>
#include <thread>
#include <vector>

#include "tools/body_pattern.hpp"
#include "tools/http.hpp"
#include "tools/net_commands.hpp"
#include "tools/net_io.hpp"
#include "tools/net_session.hpp"

namespace synack::tools {
namespace {

namespace fs = std::filesystem;

struct ServeMode {
  bool echo = false, discard = false;
  std::string http_dir;
  std::optional<std::uint64_t> http_bytes;
  bool verbose = false;
};

void log(const ServeMode& mode, const std::string& line) {
  if (mode.verbose) std::cerr << "synack serve: " << line << std::endl;
}

void echo(runtime::Runtime& rt, SocketId s) {
  std::vector<std::uint8_t> buffer(65536);
  for (;;) {
    std::size_t n = 0;
    if (rt.read(s, buffer, n) || n == 0) break;
    if (write_all(rt, s, std::span(buffer.data(), n))) return;
  }
  rt.shutdown(s, Shutdown::write);  // the client's EOF, echoed
}

void discard(runtime::Runtime& rt, SocketId s) {
  std::vector<std::uint8_t> buffer(65536);
  for (;;) {
    std::size_t n = 0;
    if (rt.read(s, buffer, n) || n == 0) break;
  }
}

std::string response_head(int status, std::uint64_t length, bool keep_alive,
                          const char* type = "application/octet-stream") {
  return "HTTP/1.1 " + std::to_string(status) + " " + status_reason(status) +
         "\r\nServer: synack\r\nContent-Type: " + type +
         "\r\nContent-Length: " + std::to_string(length) +
         "\r\nConnection: " + (keep_alive ? "keep-alive" : "close") + "\r\n\r\n";
}

bool send_error(runtime::Runtime& rt, SocketId s, int status, bool keep_alive, bool head_only) {
  const std::string body = std::to_string(status) + " " + status_reason(status) + "\n";
  std::string out = response_head(status, body.size(), keep_alive, "text/plain");
  if (!head_only) out += body;
  return !write_all(rt, s, out);
}

bool send_pattern(runtime::Runtime& rt, SocketId s, std::uint64_t size, bool keep_alive,
                  bool head_only) {
  if (write_all(rt, s, response_head(200, size, keep_alive))) return false;
  if (head_only) return true;
  std::vector<std::uint8_t> chunk(256 * 1024);
  for (std::uint64_t sent = 0; sent < size;) {
    const std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), size - sent));
    fill_body(sent, std::span(chunk.data(), n));
    if (write_all(rt, s, std::span(chunk.data(), n))) return false;
    sent += n;
  }
  return true;
}

std::string listing(const fs::path& dir, const std::string& url_path) {
  std::string html = "<!DOCTYPE html>\n<title>" + url_path + "</title>\n<ul>\n";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (entry.is_directory()) name += "/";
    html += "<li><a href=\"" + name + "\">" + name + "</a>\n";
  }
  return html + "</ul>\n";
}

// One request of --http DIR.
bool send_file(runtime::Runtime& rt, SocketId s, const ServeMode& mode, const HttpRequest& req,
               bool keep_alive, bool head_only, int& status) {
  const auto path = decode_path(req.target);
  status = 400;
  if (!path || path->empty() || path->front() != '/') {
    return send_error(rt, s, status, keep_alive, head_only);
  }
  for (const auto& part : fs::path(*path)) {
    if (part == "..") {
      status = 403;
      return send_error(rt, s, status, keep_alive, head_only);
    }
  }
  fs::path file = fs::path(mode.http_dir) / path->substr(1);
  std::error_code ec;
  if (fs::is_directory(file, ec)) {
    if (fs::is_regular_file(file / "index.html", ec)) {
      file /= "index.html";
    } else {
      status = 200;
      const std::string html = listing(file, *path);
      std::string out = response_head(200, html.size(), keep_alive, "text/html");
      if (!head_only) out += html;
      return !write_all(rt, s, out);
    }
  }
  std::ifstream in(file, std::ios::binary);
  const auto size = fs::file_size(file, ec);
  if (!in || ec || !fs::is_regular_file(file)) {
    status = 404;
    return send_error(rt, s, status, keep_alive, head_only);
  }
  status = 200;
  if (write_all(rt, s, response_head(200, size, keep_alive))) return false;
  if (head_only) return true;
  std::vector<char> chunk(256 * 1024);
  std::uint64_t sent = 0;
  while (sent < size && in) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    const auto n = static_cast<std::size_t>(in.gcount());
    if (n == 0) break;
    if (write_all(rt, s, std::string_view(chunk.data(), n))) return false;
    sent += n;
  }
  return sent == size;
}

void http(runtime::Runtime& rt, SocketId s, const ServeMode& mode) {
  std::string buffer, head;
  for (;;) {
    bool too_big = false;
    if (!read_head(rt, s, buffer, head, too_big)) {
      if (too_big) send_error(rt, s, 431, false, false);
      return;
    }
    auto req = parse_request_head(head);
    if (!req) {
      send_error(rt, s, 400, false, false);
      return;
    }
    // A request body (we serve GET and HEAD only) is read past and ignored.
    std::uint64_t body = req->content_length().value_or(0);
    while (body > 0) {
      if (!buffer.empty()) {
        const auto n = std::min<std::uint64_t>(body, buffer.size());
        buffer.erase(0, static_cast<std::size_t>(n));
        body -= n;
        continue;
      }
      std::uint8_t chunk[4096];
      std::size_t n = 0;
      if (rt.read(s, chunk, n) || n == 0) return;
      buffer.append(reinterpret_cast<const char*>(chunk), n);
    }
    const bool keep_alive = req->keep_alive();
    const bool head_only = req->method == "HEAD";
    int status = 200;
    bool ok;
    if (req->method != "GET" && !head_only) {
      status = 405;
      ok = send_error(rt, s, status, keep_alive, head_only);
    } else if (mode.http_bytes) {
      // "/bytes/N" asks for N bytes (K, M, G suffixes); any other path gets the default.
      std::uint64_t size = *mode.http_bytes;
      const auto path = decode_path(req->target).value_or("");
      if (path.rfind("/bytes/", 0) == 0) {
        if (auto n = parse_size(path.substr(7))) size = *n;
      }
      ok = send_pattern(rt, s, size, keep_alive, head_only);
    } else {
      ok = send_file(rt, s, mode, *req, keep_alive, head_only, status);
    }
    log(mode, req->method + " " + req->target + " " + std::to_string(status));
    if (!ok || !keep_alive) return;
  }
}

}  // namespace

int serve(int argc, const char* const* argv) {
  CLI::App app{
      "Serves TCP on the real network through a TUN device, synack as the server and the\n"
      "kernel (curl, nc, python) as the client, until SIGINT or SIGTERM; then closes every\n"
      "connection cleanly. Make the device first: synack netns up NAME.",
      "synack serve"};
  NetOptions net;
  add_net_options(app, net);
  std::uint16_t port = 8080;
  int backlog = 128;
  ServeMode mode;
  std::string bytes_text;
  app.add_option("--port,-p", port, "TCP port to listen on")->capture_default_str();
  app.add_option("--backlog", backlog, "listen() backlog")->capture_default_str();
  auto* modes = app.add_option_group("mode", "What to do with each connection");
  modes->add_flag("--echo", mode.echo, "Send back what arrives");
  modes->add_flag("--discard", mode.discard, "Read and drop what arrives");
  modes->add_option("--http", mode.http_dir, "HTTP/1.1: serve the files of DIR")
      ->check(CLI::ExistingDirectory);
  modes->add_option("--http-bytes", bytes_text,
                    "HTTP/1.1: answer every GET with SIZE bytes (K, M, G: powers of 1024) of "
                    "a checkable pattern; GET /bytes/N asks for N bytes");
  modes->require_option(1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (!bytes_text.empty()) {
    mode.http_bytes = parse_size(bytes_text);
    if (!mode.http_bytes) {
      std::cerr << "synack serve: --http-bytes: '" << bytes_text << "' is not a size\n";
      return 2;
    }
  }
  mode.verbose = net.verbose;

  block_stop_signals();
  std::string error;
  auto session = NetSession::open(net, error);
  if (!session) {
    std::cerr << "synack serve: " << error << "\n";
    return 1;
  }
  runtime::Runtime& rt = session->rt();
  SocketId listener;
  rt.tcp_socket(listener);
  rt.setsockopt(listener, Option::reuse_addr, 1);
  if (auto ec = rt.bind(listener, {Ipv4Address(), port})) {
    std::cerr << "synack serve: bind port " << port << ": " << ec.message() << "\n";
    return 1;
  }
  if (auto ec = rt.listen(listener, backlog)) {
    std::cerr << "synack serve: listen: " << ec.message() << "\n";
    return 1;
  }
  on_stop_signal([&rt] { rt.stop(); });
  std::cerr << "synack serve: listening on " << Endpoint{session->address(), port}.to_string()
            << " (" << net.tun << (net.netns.empty() ? "" : " in " + net.netns) << ", "
            << session->batching() << ")" << std::endl;

  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::list<Worker> workers;
  for (;;) {
    SocketId conn;
    Endpoint peer;
    const auto ec = rt.accept(listener, conn, &peer);
    if (ec == std::errc::operation_canceled) break;
    if (ec) {
      std::cerr << "synack serve: accept: " << ec.message() << "\n";
      continue;
    }
    log(mode, "connection from " + peer.to_string());
    for (auto it = workers.begin(); it != workers.end();) {
      if (it->done->load()) {
        it->thread.join();
        it = workers.erase(it);
      } else {
        ++it;
      }
    }
    auto done = std::make_shared<std::atomic<bool>>(false);
    workers.push_back({std::thread([&rt, &mode, conn, done, peer] {
                         if (mode.echo) {
                           echo(rt, conn);
                         } else if (mode.discard) {
                           discard(rt, conn);
                         } else {
                           http(rt, conn, mode);
                         }
                         rt.close(conn);
                         log(mode, "closed " + peer.to_string());
                         done->store(true);
                       }),
                       done});
  }
  for (auto& w : workers) w.thread.join();
  if (net.verbose) std::cerr << "synack serve: " << session->summary() << "\n";
  session.reset();
  std::cerr << "synack serve: stopped" << std::endl;
  return 0;
}

}  // namespace synack::tools
