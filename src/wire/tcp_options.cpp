#include "wire/tcp_options.hpp"

namespace synack::wire {
namespace {

constexpr std::uint8_t kind_byte(TcpOptionKind k) {
  return static_cast<std::uint8_t>(k);
}

constexpr std::uint8_t eol = kind_byte(TcpOptionKind::end_of_list);
constexpr std::uint8_t nop = kind_byte(TcpOptionKind::nop);
constexpr std::size_t mss_length = 4;
constexpr std::size_t window_scale_length = 3;
constexpr std::size_t sack_permitted_length = 2;
constexpr std::size_t timestamps_length = 10;
constexpr std::size_t sack_base_length = 2;
constexpr std::size_t sack_block_length = 8;

// Walks the option list, calling visit(kind, option) for every option that has a length
// (`option` spans kind, length and data). NOP is skipped and EOL ends the walk. Returns
// false at the first option whose length byte is missing, below 2, or runs past the end.
// [RFC9293 MUST-64] options need not start on a word boundary: we walk byte by byte.
// [RFC9293 MUST-68] every kind but EOL and NOP is read with a length field.
template <class Visit>
bool walk_options(Bytes options, Visit&& visit) {
  std::size_t i = 0;
  while (i < options.size()) {
    const std::uint8_t kind = options[i];
    if (kind == eol) return true;
    if (kind == nop) {
      ++i;
      continue;
    }
    const std::size_t left = options.size() - i;
    if (left < 2) return false;  // the length byte is missing
    const std::size_t length = options[i + 1];
    if (length < 2 || length > left) return false;
    visit(kind, options.subspan(i, length));
    i += length;
  }
  return true;
}

void decode_one(TcpOptions& out, std::uint8_t kind, Bytes option) {
  const std::uint8_t* data = option.data() + 2;
  const std::size_t length = option.size();
  switch (static_cast<TcpOptionKind>(kind)) {
    case TcpOptionKind::mss:
      if (length != mss_length) break;
      out.mss = load_be16(data);
      return;
    case TcpOptionKind::window_scale:
      if (length != window_scale_length) break;
      out.window_scale = data[0];
      return;
    case TcpOptionKind::sack_permitted:
      if (length != sack_permitted_length) break;
      out.sack_permitted = true;
      return;
    case TcpOptionKind::timestamps:
      if (length != timestamps_length) break;
      out.timestamps = TcpTimestamps{load_be32(data), load_be32(data + 4)};
      return;
    case TcpOptionKind::sack: {
      // A SACK option without blocks is malformed too (Linux ignores it likewise).
      const std::size_t blocks = (length - sack_base_length) / sack_block_length;
      if (blocks == 0 || (length - sack_base_length) % sack_block_length != 0) break;
      out.sack_block_count = 0;
      for (std::size_t b = 0; b < blocks && b < tcp_max_sack_blocks; ++b) {
        const std::uint8_t* p = data + b * sack_block_length;
        out.add_sack(SackBlock{load_be32(p), load_be32(p + 4)});
      }
      return;
    }
    case TcpOptionKind::end_of_list:
    case TcpOptionKind::nop:
      return;  // never reaches here: walk_options consumes them
    default:
      // [RFC9293 MUST-6] an option we do not implement is skipped without error.
      ++out.unknown;
      return;
  }
  ++out.malformed_known;
}

// Which parts of Linux's layout a segment carries; shared by options_length and
// write_options so that the two can never disagree.
struct Layout {
  bool mss = false;
  bool timestamps = false;
  bool sack_permitted = false;  // as its own word; with timestamps it shares theirs
  bool window_scale = false;
  std::size_t sack_blocks = 0;
  std::size_t length = 0;
};

// Inlined: options_length runs several times per segment sent and wants only the length.
[[gnu::always_inline]] inline Layout plan(const TcpOptions& o, bool syn) {
  Layout l;
  if (syn) {
    // [RFC9293 MUST-65] MSS only on a SYN; RFC 7323 §2.2 and RFC 2018 §2 likewise for
    // window scale and SACK-permitted.
    l.mss = o.mss.has_value();
    l.timestamps = o.timestamps.has_value();
    l.sack_permitted = o.sack_permitted && !l.timestamps;
    l.window_scale = o.window_scale.has_value();
    l.length = (l.mss ? 4u : 0u) + (l.timestamps ? 12u : 0u) + (l.sack_permitted ? 4u : 0u) +
               (l.window_scale ? 4u : 0u);
    return l;
  }
  l.timestamps = o.timestamps.has_value();
  l.length = l.timestamps ? 12u : 0u;
  if (o.sack_block_count > 0) {
    const std::size_t room = (tcp_max_options_length - l.length - 4) / sack_block_length;
    l.sack_blocks = o.sack_block_count < room ? o.sack_block_count : room;
    l.length += 4 + sack_block_length * l.sack_blocks;
  }
  return l;
}

std::uint8_t* put4(std::uint8_t* p, std::uint8_t a, std::uint8_t b, std::uint8_t c,
                   std::uint8_t d) {
  p[0] = a, p[1] = b, p[2] = c, p[3] = d;
  return p + 4;
}

}  // namespace

bool TcpOptions::add_sack(SackBlock block) {
  if (sack_block_count >= tcp_max_sack_blocks) return false;
  sack_blocks[sack_block_count++] = block;
  return true;
}

// [RFC9293 MUST-7] an illegal option length is detected here, before anything is decoded;
// TcpView::parse turns it into ParseError::bad_option_length for the layer above to count.
bool tcp_options_well_formed(Bytes options) {
  return walk_options(options, [](std::uint8_t, Bytes) {});
}

// [RFC9293 MUST-4] EOL, NOP and MSS; [RFC9293 MUST-5] options are decoded whatever the
// segment's flags: which of them apply is the TCP layer's decision.
TcpOptions decode_options(Bytes options) {
  TcpOptions out;
  walk_options(options, [&out](std::uint8_t kind, Bytes option) { decode_one(out, kind, option); });
  return out;
}

std::size_t options_length(const TcpOptions& options, bool syn) {
  return plan(options, syn).length;
}

// [RFC9293 MUST-69] Every layout fills whole 32-bit words (with NOPs where Linux puts them),
// so the header ends on a word boundary with nothing left to pad.
std::size_t write_options(MutableBytes out, const TcpOptions& options, bool syn) {
  const Layout l = plan(options, syn);
  if (out.size() < l.length) return 0;
  std::uint8_t* p = out.data();
  if (l.mss) {
    p = put4(p, kind_byte(TcpOptionKind::mss), mss_length, 0, 0);
    store_be16(p - 2, *options.mss);
  }
  if (l.timestamps) {
    // On a SYN with SACK-permitted, SACKOK fills the two bytes that are NOPs otherwise.
    const bool sack_ok_here = syn && options.sack_permitted;
    p = sack_ok_here ? put4(p, kind_byte(TcpOptionKind::sack_permitted), sack_permitted_length,
                            kind_byte(TcpOptionKind::timestamps), timestamps_length)
                     : put4(p, nop, nop, kind_byte(TcpOptionKind::timestamps), timestamps_length);
    store_be32(p, options.timestamps->tsval);
    store_be32(p + 4, options.timestamps->tsecr);
    p += 8;
  }
  if (l.sack_permitted) {
    p = put4(p, nop, nop, kind_byte(TcpOptionKind::sack_permitted), sack_permitted_length);
  }
  if (l.window_scale) {
    p = put4(p, nop, kind_byte(TcpOptionKind::window_scale), window_scale_length,
             *options.window_scale);
  }
  if (l.sack_blocks > 0) {
    p = put4(p, nop, nop, kind_byte(TcpOptionKind::sack),
             static_cast<std::uint8_t>(sack_base_length + sack_block_length * l.sack_blocks));
    for (std::size_t b = 0; b < l.sack_blocks; ++b) {
      store_be32(p, options.sack_blocks[b].left);
      store_be32(p + 4, options.sack_blocks[b].right);
      p += sack_block_length;
    }
  }
  return l.length;
}

}  // namespace synack::wire
