// `synack get URL`: an HTTP/1.1 GET over synack, the body to a file or standard output.
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <iostream>
#include <vector>

#include "tools/http.hpp"
#include "tools/net_commands.hpp"
#include "tools/net_io.hpp"
#include "tools/net_session.hpp"

namespace synack::tools {
namespace {

// Where the body goes.
class Output {
 public:
  explicit Output(const std::string& file) {
    if (!file.empty() && file != "-") file_.open(file, std::ios::binary | std::ios::trunc);
  }
  bool ok() const { return !file_.is_open() || file_.good(); }
  bool opened_or_stdout(const std::string& file) const {
    return file.empty() || file == "-" || file_.is_open();
  }
  bool write(const char* data, std::size_t n) {
    if (file_.is_open()) {
      file_.write(data, static_cast<std::streamsize>(n));
      return file_.good();
    }
    std::cout.write(data, static_cast<std::streamsize>(n));
    return std::cout.good();
  }
  void flush() {
    if (file_.is_open()) file_.flush();
    std::cout.flush();
  }

 private:
  std::ofstream file_;
};

// Reads the body after the head: `length` bytes, or until EOF when nullopt; chunked
// transfer coding decoded. Returns the bytes written or an error message.
class BodyReader {
 public:
  BodyReader(runtime::Runtime& rt, SocketId s, std::string& buffer)
      : rt_(rt), s_(s), buf_(buffer) {}

  // Ensures the buffer holds at least `want` bytes; false at EOF or error.
  bool fill(std::size_t want) {
    std::uint8_t chunk[65536];
    while (buf_.size() < want) {
      std::size_t n = 0;
      if (auto ec = rt_.read(s_, chunk, n)) {
        error = ec.message();
        return false;
      }
      if (n == 0) return false;
      buf_.append(reinterpret_cast<const char*>(chunk), n);
    }
    return true;
  }
  // One line (without CRLF) from the buffer.
  bool line(std::string& out) {
    for (;;) {
      if (const auto eol = buf_.find("\r\n"); eol != std::string::npos) {
        out = buf_.substr(0, eol);
        buf_.erase(0, eol + 2);
        return true;
      }
      if (buf_.size() > 4096 || !fill(buf_.size() + 1)) return false;
    }
  }
  // Copies `length` bytes (or up to EOF when nullopt) to `out`.
  bool copy(std::optional<std::uint64_t> length, Output& out, std::uint64_t& written) {
    for (;;) {
      if (length && written == *length) return true;
      if (buf_.empty() && !fill(1)) return !length;  // EOF ends an unsized body
      std::size_t n = buf_.size();
      if (length) n = static_cast<std::size_t>(std::min<std::uint64_t>(n, *length - written));
      if (!out.write(buf_.data(), n)) {
        error = "cannot write the output";
        return false;
      }
      buf_.erase(0, n);
      written += n;
    }
  }
  bool chunked(Output& out, std::uint64_t& written) {
    for (;;) {
      std::string size_line;
      if (!line(size_line)) return false;
      std::uint64_t size = 0;
      const auto end = size_line.find(';');
      const std::string hex = size_line.substr(0, end);
      auto [p, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), size, 16);
      if (ec != std::errc{}) {
        error = "bad chunk size '" + size_line + "'";
        return false;
      }
      if (size == 0) return true;  // trailers, if any, are not read
      std::uint64_t got = 0;
      if (!copy(size, out, got)) return false;
      written += got;
      std::string crlf;
      if (!line(crlf)) return false;
    }
  }

  std::string error;

 private:
  runtime::Runtime& rt_;
  SocketId s_;
  std::string& buf_;
};

}  // namespace

int get(int argc, const char* const* argv) {
  CLI::App app{
      "Downloads URL over HTTP/1.1 with synack's TCP, through the TUN device (or with\n"
      "--shm NAME, from a synack serve --shm NAME over shared memory).",
      "synack get"};
  NetOptions net;
  add_net_options(app, net);
  std::string url_text, output;
  bool include_head = false;
  app.add_option("url", url_text, "http://ADDRESS[:PORT]/PATH (an IPv4 address, no DNS)")
      ->required();
  app.add_option("-o,--output", output, "Write the body to FILE (default: standard output)");
  app.add_flag("-i,--include", include_head, "Print the response head on standard error");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  const auto url = parse_url(url_text);
  if (!url) {
    std::cerr << "synack get: '" << url_text << "' is not http://IPv4[:PORT]/PATH\n";
    return 2;
  }
  block_stop_signals();
  std::string error;
  auto session = NetSession::open(net, error);
  if (!session) {
    std::cerr << "synack get: " << error << "\n";
    return 1;
  }
  runtime::Runtime& rt = session->rt();
  on_stop_signal([&rt] { rt.stop(); });
  SocketId s;
  rt.tcp_socket(s);
  if (auto ec = rt.connect(s, url->server)) {
    std::cerr << "synack get: " << url->server.to_string() << ": " << ec.message() << "\n";
    return 1;
  }
  const std::string request = "GET " + url->path + " HTTP/1.1\r\nHost: " + url->host +
                              "\r\nUser-Agent: synack\r\nAccept: */*\r\nConnection: close\r\n\r\n";
  if (auto ec = write_all(rt, s, request)) {
    std::cerr << "synack get: sending the request: " << ec.message() << "\n";
    return 1;
  }
  std::string buffer, head;
  bool too_big = false;
  if (!read_head(rt, s, buffer, head, too_big)) {
    std::cerr << "synack get: no response head" << (too_big ? " (too long)" : "") << "\n";
    return 1;
  }
  const auto response = parse_response_head(head);
  if (!response) {
    std::cerr << "synack get: malformed response head\n";
    return 1;
  }
  if (include_head || net.verbose) std::cerr << head << "\n\n";
  Output out(output);
  if (!out.opened_or_stdout(output)) {
    std::cerr << "synack get: cannot write " << output << "\n";
    return 1;
  }
  BodyReader body(rt, s, buffer);
  std::uint64_t written = 0;
  const auto length = response->content_length();
  const bool complete =
      response->chunked() ? body.chunked(out, written) : body.copy(length, out, written);
  out.flush();
  rt.close(s);
  if (net.verbose) std::cerr << "synack get: " << session->summary() << "\n";
  session.reset();
  if (!complete) {
    std::cerr << "synack get: the body ended after " << written << " bytes"
              << (length ? " of " + std::to_string(*length) : std::string())
              << (body.error.empty() ? "" : ": " + body.error) << "\n";
    return 1;
  }
  if (response->status < 200 || response->status > 299) {
    std::cerr << "synack get: " << response->status << " " << response->reason << "\n";
    return 1;
  }
  return 0;
}

}  // namespace synack::tools
