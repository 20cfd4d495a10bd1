// Just enough HTTP/1.1 (RFC 9112) for `synack serve --http` and `synack get`: request and
// response heads, Content-Length bodies, and URLs with an IPv4 literal host.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "synack/endpoint.hpp"

namespace synack::tools {

// Header names are kept in lower case.
using HttpHeaders = std::map<std::string, std::string>;

struct HttpRequest {
  std::string method, target, version;
  HttpHeaders headers;
  // HTTP/1.1 keeps the connection unless "Connection: close"; 1.0 only with keep-alive.
  bool keep_alive() const;
  std::optional<std::uint64_t> content_length() const;
};

struct HttpResponse {
  std::string version;
  int status = 0;
  std::string reason;
  HttpHeaders headers;
  std::optional<std::uint64_t> content_length() const;
  bool chunked() const;
};

// Parse a head: the start line and header lines, without the blank line that ends it.
std::optional<HttpRequest> parse_request_head(std::string_view head);
std::optional<HttpResponse> parse_response_head(std::string_view head);

struct Url {
  Endpoint server;   // the port defaults to 80
  std::string host;  // as written, for the Host header
  std::string path;  // "/" when absent; with the query
};
// "http://198.18.0.1:8000/file?x" (no DNS: the host is an IPv4 address).
std::optional<Url> parse_url(std::string_view text);

const char* status_reason(int status);

// Percent-decodes a request target's path (without the query); nullopt if malformed.
std::optional<std::string> decode_path(std::string_view target);

}  // namespace synack::tools
