// TCP options (RFC 9293 §3.1, RFC 7323 window scale and timestamps, RFC 2018 SACK):
// a decoded value, the rules for reading it from a header, and the writer that lays it out
// byte for byte as Linux does, so that our segments compare equal to the kernel's in
// packetdrill scripts and captures.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "wire/bytes.hpp"

namespace synack::wire {

// Option kinds (IANA "TCP Option Kind Numbers").
enum class TcpOptionKind : std::uint8_t {
  end_of_list = 0,     // RFC 9293
  nop = 1,             // RFC 9293
  mss = 2,             // RFC 9293, length 4
  window_scale = 3,    // RFC 7323, length 3
  sack_permitted = 4,  // RFC 2018, length 2
  sack = 5,            // RFC 2018, length 2 + 8n
  timestamps = 8,      // RFC 7323, length 10
};

inline constexpr std::size_t tcp_max_options_length = 40;  // data offset 15 minus 5 words
inline constexpr std::size_t tcp_max_sack_blocks = 4;      // 2 + 8 * 4 = 34 <= 40

struct TcpTimestamps {
  std::uint32_t tsval = 0;
  std::uint32_t tsecr = 0;
  friend bool operator==(const TcpTimestamps&, const TcpTimestamps&) = default;
};

// One SACK block: the received range [left, right) in sequence space (RFC 2018 §3).
struct SackBlock {
  std::uint32_t left = 0;
  std::uint32_t right = 0;
  friend bool operator==(const SackBlock&, const SackBlock&) = default;
};

// The options of one segment, decoded. Values are as received: a window scale above 14 is
// kept here and clamped by the TCP layer, which also decides which options count in which
// state (MSS only on a SYN, and so on).
struct TcpOptions {
  std::optional<std::uint16_t> mss;
  std::optional<std::uint8_t> window_scale;  // the shift count
  bool sack_permitted = false;
  std::optional<TcpTimestamps> timestamps;
  std::array<SackBlock, tcp_max_sack_blocks> sack_blocks{};
  std::uint8_t sack_block_count = 0;

  // Decoding diagnostics, for counters. Both stay 0 in options built for sending.
  std::uint8_t malformed_known = 0;  // known kinds with the wrong length: ignored, as Linux does
  std::uint8_t unknown = 0;          // unknown kinds: skipped by their length

  std::span<const SackBlock> sacks() const { return {sack_blocks.data(), sack_block_count}; }
  // Appends a block; false (and nothing changes) when all four slots are taken.
  bool add_sack(SackBlock block);

  friend bool operator==(const TcpOptions&, const TcpOptions&) = default;
};

// True when the option list is well formed: every option other than EOL and NOP has a
// length byte, that length is at least 2, and the option ends within `options`. Bytes after
// an EOL are padding and are not examined. TcpView::parse uses this, so the options of a
// parsed view always decode without error.
bool tcp_options_well_formed(Bytes options);

// Decodes an option list. NOP is skipped, EOL ends the list, unknown kinds are skipped by
// their length and counted in `unknown`. A known kind with the wrong length (MSS != 4,
// window scale != 3, SACK-permitted != 2, timestamps != 10, SACK not 2 + 8n with n in
// 1..4) is ignored and counted in `malformed_known`. A later copy of an option replaces an
// earlier one. On bytes that are not well formed, decoding stops at the bad length, as
// Linux's tcp_parse_options does; what came before it is kept.
TcpOptions decode_options(Bytes options);

// The length of the options that write_options emits, a multiple of 4 and at most 40.
//   syn:     MSS, window scale, SACK-permitted and timestamps; never SACK blocks.
//   not syn: timestamps and SACK blocks; MSS, window scale and SACK-permitted are left out
//            (RFC 9293 MUST-65 MSS, RFC 7323 §2.2, RFC 2018 §2: SYN only).
// SACK blocks beyond what fits are dropped from the end: 3 fit beside timestamps, 4 without.
std::size_t options_length(const TcpOptions& options, bool syn);

// Writes the options in Linux's layout (tcp_options_write in net/ipv4/tcp_output.c):
//   SYN, timestamps, SACK-permitted:     MSS  SACKOK TS       NOP WS   (20 bytes)
//   SYN, timestamps, no SACK-permitted:  MSS  NOP NOP TS      NOP WS   (20 bytes)
//   SYN, no timestamps, SACK-permitted:  MSS  NOP NOP SACKOK  NOP WS   (12 bytes)
//   SYN, neither:                        MSS                  NOP WS   ( 8 bytes)
//   other segments:                      NOP NOP TS  NOP NOP SACK(2+8n)
// each part present only when its option is set. Every part is a multiple of 4 bytes, so
// no padding is needed. Returns the bytes written (options_length); if `out` is shorter
// than that, writes nothing and returns 0.
std::size_t write_options(MutableBytes out, const TcpOptions& options, bool syn);

}  // namespace synack::wire
