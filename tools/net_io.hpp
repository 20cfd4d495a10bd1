// Small helpers over the runtime's blocking calls for the real-network tools.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include "runtime/runtime.hpp"

namespace synack::tools {

// Writes all of `data` (the runtime's write already blocks until it is taken).
inline std::error_code write_all(runtime::Runtime& rt, SocketId s,
                                 std::span<const std::uint8_t> data) {
  while (!data.empty()) {
    std::size_t n = 0;
    if (auto ec = rt.write(s, data, n)) return ec;
    if (n == 0) return std::make_error_code(std::errc::broken_pipe);
    data = data.subspan(n);
  }
  return {};
}

inline std::error_code write_all(runtime::Runtime& rt, SocketId s, std::string_view text) {
  return write_all(rt, s,
                   std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

// Reads until `buffer` holds a blank line ("\r\n\r\n"): the head is moved out of the
// buffer into `head` (without the blank line). Returns false at end of stream or on an
// error or when the head grows past `limit` (then `head` is empty and `too_big` set).
inline bool read_head(runtime::Runtime& rt, SocketId s, std::string& buffer, std::string& head,
                      bool& too_big, std::size_t limit = 16384) {
  too_big = false;
  std::uint8_t chunk[4096];
  for (;;) {
    if (const auto end = buffer.find("\r\n\r\n"); end != std::string::npos) {
      head = buffer.substr(0, end);
      buffer.erase(0, end + 4);
      return true;
    }
    if (buffer.size() > limit) {
      too_big = true;
      return false;
    }
    std::size_t n = 0;
    if (rt.read(s, chunk, n) || n == 0) return false;
    buffer.append(reinterpret_cast<const char*>(chunk), n);
  }
}

}  // namespace synack::tools
