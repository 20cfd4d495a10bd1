#include "tools/http.hpp"

#include <algorithm>
#include <charconv>
#include <vector>

namespace synack::tools {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::vector<std::string_view> lines(std::string_view head) {
  std::vector<std::string_view> out;
  while (!head.empty()) {
    const auto eol = head.find('\n');
    std::string_view line = head.substr(0, eol);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.push_back(line);
    if (eol == std::string_view::npos) break;
    head.remove_prefix(eol + 1);
  }
  return out;
}

bool parse_headers(const std::vector<std::string_view>& ls, HttpHeaders& headers) {
  for (std::size_t i = 1; i < ls.size(); ++i) {
    const auto colon = ls[i].find(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    headers[lower(ls[i].substr(0, colon))] = std::string(trim(ls[i].substr(colon + 1)));
  }
  return true;
}

std::optional<std::uint64_t> number(const HttpHeaders& h, const std::string& name) {
  const auto it = h.find(name);
  if (it == h.end()) return std::nullopt;
  std::uint64_t v = 0;
  const std::string& s = it->second;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

bool HttpRequest::keep_alive() const {
  const auto it = headers.find("connection");
  const std::string c = it == headers.end() ? "" : lower(it->second);
  if (version == "HTTP/1.0") return c == "keep-alive";
  return c != "close";
}

std::optional<std::uint64_t> HttpRequest::content_length() const {
  return number(headers, "content-length");
}

std::optional<std::uint64_t> HttpResponse::content_length() const {
  return number(headers, "content-length");
}

bool HttpResponse::chunked() const {
  const auto it = headers.find("transfer-encoding");
  return it != headers.end() && lower(it->second).find("chunked") != std::string::npos;
}

std::optional<HttpRequest> parse_request_head(std::string_view head) {
  const auto ls = lines(head);
  if (ls.empty()) return std::nullopt;
  HttpRequest r;
  const std::string_view start = ls[0];
  const auto a = start.find(' ');
  const auto b = start.rfind(' ');
  if (a == std::string_view::npos || a == b) return std::nullopt;
  r.method = start.substr(0, a);
  r.target = start.substr(a + 1, b - a - 1);
  r.version = start.substr(b + 1);
  if (r.version.rfind("HTTP/1.", 0) != 0 || r.target.empty()) return std::nullopt;
  if (!parse_headers(ls, r.headers)) return std::nullopt;
  return r;
}

std::optional<HttpResponse> parse_response_head(std::string_view head) {
  const auto ls = lines(head);
  if (ls.empty()) return std::nullopt;
  HttpResponse r;
  const std::string_view start = ls[0];
  const auto a = start.find(' ');
  if (a == std::string_view::npos) return std::nullopt;
  r.version = start.substr(0, a);
  const std::string_view rest = start.substr(a + 1);
  const auto b = rest.find(' ');
  const std::string_view code = rest.substr(0, b);
  auto [p, ec] = std::from_chars(code.data(), code.data() + code.size(), r.status);
  if (ec != std::errc{} || p != code.data() + code.size()) return std::nullopt;
  if (b != std::string_view::npos) r.reason = rest.substr(b + 1);
  if (r.version.rfind("HTTP/", 0) != 0) return std::nullopt;
  if (!parse_headers(ls, r.headers)) return std::nullopt;
  return r;
}

std::optional<Url> parse_url(std::string_view text) {
  constexpr std::string_view scheme = "http://";
  if (text.substr(0, scheme.size()) != scheme) return std::nullopt;
  text.remove_prefix(scheme.size());
  const auto slash = text.find('/');
  Url url;
  url.host = std::string(text.substr(0, slash));
  url.path = slash == std::string_view::npos ? "/" : std::string(text.substr(slash));
  std::string_view host = url.host;
  std::uint16_t port = 80;
  if (const auto colon = host.find(':'); colon != std::string_view::npos) {
    const auto digits = host.substr(colon + 1);
    unsigned p = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), p);
    if (ec != std::errc{} || end != digits.data() + digits.size() || p == 0 || p > 65535) {
      return std::nullopt;
    }
    port = static_cast<std::uint16_t>(p);
    host = host.substr(0, colon);
  }
  auto address = Ipv4Address::parse(host);
  if (!address) return std::nullopt;
  url.server = Endpoint{*address, port};
  return url;
}

const char* status_reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 431:
      return "Request Header Fields Too Large";
    default:
      return "Error";
  }
}

std::optional<std::string> decode_path(std::string_view target) {
  target = target.substr(0, target.find('?'));
  std::string out;
  for (std::size_t i = 0; i < target.size(); ++i) {
    if (target[i] != '%') {
      out += target[i];
      continue;
    }
    if (i + 2 >= target.size()) return std::nullopt;
    unsigned v = 0;
    auto [p, ec] = std::from_chars(target.data() + i + 1, target.data() + i + 3, v, 16);
    if (ec != std::errc{} || p != target.data() + i + 3 || v == 0) return std::nullopt;
    out += static_cast<char>(v);
    i += 2;
  }
  return out;
}

}  // namespace synack::tools
