#include "trace/ladder_text.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace synack::trace {
namespace {

enum class Style : std::uint8_t { plain, dim, heading, state, api, timer, bad, right, left };

const char* ansi(Style s) {
  switch (s) {
    case Style::plain:
      return "0";
    case Style::dim:
      return "2";
    case Style::heading:
      return "1";
    case Style::state:
      return "1;33";
    case Style::api:
      return "36";
    case Style::timer:
      return "35";
    case Style::bad:
      return "1;31";
    case Style::right:
      return "32";
    case Style::left:
      return "34";
  }
  return "0";
}

// The code points of UTF-8 text, one string each: every glyph we draw is one column wide.
std::vector<std::string> glyphs(std::string_view text) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const std::size_t n = lead < 0x80 ? 1 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;
    out.emplace_back(text.substr(i, n));
    i += n;
  }
  return out;
}

std::size_t display_width(std::string_view text) {
  return glyphs(text).size();
}

std::string repeat(std::string_view glyph, std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += glyph;
  return s;
}

// One line of output, a cell per column.
class Line {
 public:
  explicit Line(std::size_t width) : cells_(width) {}

  void put(std::size_t col, std::string_view text, Style style) {
    for (auto& g : glyphs(text)) {
      if (col >= cells_.size()) return;
      cells_[col++] = {std::move(g), style};
    }
  }

  std::string render(bool colour) const {
    std::size_t end = cells_.size();
    while (end > 0 && cells_[end - 1].glyph == " ") --end;
    std::string s;
    Style current = Style::plain;
    for (std::size_t i = 0; i < end; ++i) {
      const Cell& c = cells_[i];
      if (colour && c.style != current && c.glyph != " ") {
        s += "\x1b[0m";
        if (c.style != Style::plain) s += std::string("\x1b[") + ansi(c.style) + "m";
        current = c.style;
      }
      s += c.glyph;
    }
    if (colour && current != Style::plain) s += "\x1b[0m";
    return s;
  }

 private:
  struct Cell {
    std::string glyph = " ";
    Style style = Style::plain;
  };
  std::vector<Cell> cells_;
};

// Words packed into lines of at most `width` columns; a longer word is cut.
std::vector<std::string> wrap(const std::vector<std::string>& words, std::size_t first_width,
                              std::size_t width) {
  std::vector<std::string> lines;
  std::string line;
  auto limit = [&] { return lines.empty() ? first_width : width; };
  for (const std::string& word : words) {
    std::string w = word;
    if (!line.empty() && display_width(line) + 1 + display_width(w) <= limit()) {
      line += " " + w;
      continue;
    }
    if (!line.empty()) lines.push_back(std::move(line));
    line.clear();
    while (display_width(w) > limit()) {
      auto g = glyphs(w);
      std::string head, rest;
      for (std::size_t i = 0; i < g.size(); ++i) (i < limit() ? head : rest) += g[i];
      lines.push_back(std::move(head));
      w = std::move(rest);
    }
    line = std::move(w);
  }
  if (!line.empty()) lines.push_back(std::move(line));
  return lines;
}

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t j = text.find(' ', i);
    const std::size_t end = j == std::string_view::npos ? text.size() : j;
    if (end > i) {
      // "=" stays with what follows it: "= ECONNREFUSED", never a dangling "=".
      if (!words.empty() && words.back() == "=") {
        words.back() += " " + std::string(text.substr(i, end - i));
      } else {
        words.emplace_back(text.substr(i, end - i));
      }
    }
    i = end + 1;
  }
  return words;
}

std::string format_ms(Instant at) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(to_nanos(at)) / 1e6);
  return buf;
}

std::string format_gap(Duration d) {
  char buf[48];
  const double ms = static_cast<double>(d.count()) / 1e6;
  if (ms >= 1000) {
    std::snprintf(buf, sizeof buf, "… %.3f s later …", ms / 1000);
  } else {
    std::snprintf(buf, sizeof buf, "… %.3f ms later …", ms);
  }
  return buf;
}

Style note_style(LadderNote::Kind k) {
  switch (k) {
    case LadderNote::Kind::api:
      return Style::api;
    case LadderNote::Kind::state:
      return Style::state;
    case LadderNote::Kind::timer:
      return Style::timer;
    case LadderNote::Kind::drop:
      return Style::bad;
    case LadderNote::Kind::info:
      return Style::dim;
  }
  return Style::plain;
}

struct Row {
  Instant at;
  std::vector<std::vector<std::size_t>> notes;  // per column, indexes into model.notes
  std::optional<std::size_t> arrow;
};

class Renderer {
 public:
  Renderer(const LadderModel& m, const TextLadderOptions& o, std::ostream& out)
      : m_(m), o_(o), out_(out) {}

  void render() {
    const std::size_t n = m_.columns.size();
    if (n == 0) {
      out_ << "(nothing happened)\n";
      return;
    }
    layout();
    header();
    std::optional<Instant> last_time;
    for (const Row& row : rows()) {
      if (last_time && row.at - *last_time >= o_.gap) gap_line(row.at - *last_time);
      draw(row, !last_time || *last_time != row.at);
      last_time = row.at;
    }
  }

 private:
  static constexpr std::size_t kLeftZone = 24;   // notes of the first column
  static constexpr std::size_t kRightZone = 22;  // notes of the last column
  static constexpr std::size_t kMinSpan = 30;    // between two lifelines

  void layout() {
    const std::size_t n = m_.columns.size();
    time_width_ = std::string("t (ms)").size();
    for (const LadderStep& s : m_.steps)
      time_width_ = std::max(time_width_, format_ms(s.at).size());
    const std::size_t first = time_width_ + 2 + kLeftZone;
    width_ = std::max(o_.width, first + (n - 1) * kMinSpan + kRightZone + 1);
    const std::size_t last = width_ - kRightZone - 1;
    x_.clear();
    for (std::size_t i = 0; i < n; ++i)
      x_.push_back(n == 1 ? first : first + (last - first) * i / (n - 1));
  }

  // Where column c's notes go: left of the first lifeline, else right of its own.
  std::pair<std::size_t, std::size_t> zone(std::size_t c) const {
    if (c == 0) return {time_width_ + 2, x_[0] - 1};
    return {x_[c] + 2, c + 1 < x_.size() ? x_[c + 1] - 1 : width_};
  }

  // A note beside a middle column stands in the gap an arrow may cross.
  bool crosses(const LadderArrow& a, std::size_t column) const {
    const std::size_t lo = std::min(a.from, a.to), hi = std::max(a.from, a.to);
    return column > 0 && column + 1 < x_.size() && column >= lo && column < hi;
  }

  std::vector<Row> rows() const {
    std::vector<Row> rows;
    auto fresh = [&](Instant at) {
      rows.push_back({at, std::vector<std::vector<std::size_t>>(m_.columns.size()), {}});
    };
    for (const LadderStep& s : m_.steps) {
      if (s.kind == LadderStep::Kind::arrive) continue;
      const bool joins = !rows.empty() && rows.back().at == s.at && !rows.back().arrow;
      if (s.kind == LadderStep::Kind::note) {
        // A row tells one side's story: a note of another side starts the next row.
        const std::size_t column = m_.notes[s.index].column;
        bool other_side = false;
        if (joins) {
          for (std::size_t c = 0; c < m_.columns.size(); ++c) {
            other_side = other_side || (c != column && !rows.back().notes[c].empty());
          }
        }
        if (!joins || other_side) fresh(s.at);
        rows.back().notes[m_.notes[s.index].column].push_back(s.index);
        continue;
      }
      const LadderArrow& a = m_.arrows[s.index];
      // The arrow ends the row of its sender's notes, never another side's.
      bool clash = false;
      if (joins) {
        for (std::size_t c = 0; c < m_.columns.size(); ++c) {
          clash = clash || (!rows.back().notes[c].empty() && (c != a.from || crosses(a, c)));
        }
      }
      if (!joins || clash) fresh(s.at);
      rows.back().arrow = s.index;
    }
    return rows;
  }

  Line blank_line(std::string_view lifeline = "│") const {
    Line line(width_);
    for (std::size_t x : x_) line.put(x, lifeline, Style::dim);
    return line;
  }

  void emit(const Line& line) { out_ << line.render(o_.colour) << "\n"; }

  void header() {
    Line line(width_);
    const std::string t = "t (ms)";
    line.put(time_width_ - t.size(), t, Style::heading);
    for (std::size_t c = 0; c < x_.size(); ++c) {
      const std::string h = m_.columns[c].heading();
      const std::size_t w = display_width(h);
      std::size_t start = x_[c] > w / 2 ? x_[c] - w / 2 : 0;
      start = std::clamp(start, time_width_ + 2, width_ > w ? width_ - w : 0);
      line.put(start, h, Style::heading);
    }
    emit(line);
    emit(blank_line());
  }

  void gap_line(Duration d) {
    Line line = blank_line("┊");
    const std::string text = format_gap(d);
    const std::size_t w = display_width(text);
    const std::size_t lo = x_[0] + 1;
    const std::size_t hi = x_.size() > 1 ? x_[1] : width_;
    line.put(hi - lo > w ? lo + (hi - lo - w) / 2 : lo, text, Style::dim);
    emit(line);
  }

  void draw(const Row& row, bool stamp) {
    const std::size_t n = m_.columns.size();
    std::vector<std::vector<std::pair<std::string, Style>>> notes(n);
    std::size_t note_lines = 0;
    for (std::size_t c = 0; c < n; ++c) {
      const auto [lo, hi] = zone(c);
      for (std::size_t i : row.notes[c]) {
        const LadderNote& note = m_.notes[i];
        for (auto& l : wrap(split_words(note.text), hi - lo, hi - lo)) {
          notes[c].emplace_back(std::move(l), note_style(note.kind));
        }
      }
      note_lines = std::max(note_lines, notes[c].size());
    }

    std::vector<std::string> label_lines;
    std::size_t arrow_line = 0;
    const LadderArrow* arrow = row.arrow ? &m_.arrows[*row.arrow] : nullptr;
    if (arrow) {
      arrow_line = note_lines > 0 ? note_lines - 1 : 0;
      label_lines = arrow_label(*arrow);
    }
    const std::size_t lines = std::max(
        {note_lines, arrow ? arrow_line + label_lines.size() : std::size_t{0}, std::size_t{1}});

    for (std::size_t i = 0; i < lines; ++i) {
      Line line = blank_line();
      if (i == 0 && stamp) {
        const std::string t = format_ms(row.at);
        line.put(time_width_ - t.size(), t, Style::dim);
      }
      for (std::size_t c = 0; c < n; ++c) {
        if (i < notes[c].size()) line.put(zone(c).first, notes[c][i].first, notes[c][i].second);
      }
      if (arrow && i >= arrow_line && i < arrow_line + label_lines.size()) {
        draw_arrow(line, *arrow, label_lines, i - arrow_line);
      }
      emit(line);
    }
  }

  std::size_t span(const LadderArrow& a) const {
    const std::size_t lo = x_[std::min(a.from, a.to)], hi = x_[std::max(a.from, a.to)];
    return hi > lo ? hi - lo - 1 : 0;
  }

  std::vector<std::string> arrow_label(const LadderArrow& a) const {
    std::vector<std::string> words = a.label;
    if (!a.cause.empty()) words.push_back("[" + a.cause + "]");
    if (!a.link_drop.empty()) words.push_back("[dropped by link: " + a.link_drop + "]");
    const std::size_t s = span(a);
    // The first line holds "── " and " ─▶" around the label; the rest is indented.
    return wrap(words, s > 8 ? s - 7 : 1, s > 6 ? s - 5 : 1);
  }

  void draw_arrow(Line& line, const LadderArrow& a, const std::vector<std::string>& label,
                  std::size_t which) {
    const bool rightward = x_[a.to] >= x_[a.from];
    const bool dropped = !a.link_drop.empty();
    const Style style = (dropped || a.retransmission) ? Style::bad
                        : rightward                   ? Style::right
                                                      : Style::left;
    const std::size_t lo = std::min(x_[a.from], x_[a.to]) + 1;
    const std::size_t n = span(a);
    if (which > 0) {
      line.put(lo + 4, label[which], style);
      return;
    }
    if (a.from == a.to) {  // a packet to itself: no room for an arrow
      line.put(x_[a.from] + 2, "⟲ " + label[0], style);
      return;
    }
    const std::string& text = label[0];
    const std::size_t w = display_width(text);
    if (rightward) {
      line.put(x_[a.from], "├", style);
      std::string s = "── " + text + " ";
      if (dropped) {
        s += "─✗";
      } else {
        const std::size_t used = display_width(s);
        s += repeat("─", n > used + 1 ? n - used - 1 : 1) + "▶";
      }
      line.put(lo, s, style);
    } else {
      line.put(x_[a.from], "┤", style);
      const std::string tail = " " + text + " ──";
      if (dropped) {
        const std::string s = "✗─" + tail;
        const std::size_t sw = display_width(s);
        line.put(lo + (n > sw ? n - sw : 0), s, style);
      } else {
        const std::size_t used = w + 4;
        line.put(lo, "◀" + repeat("─", n > used + 1 ? n - used - 1 : 1) + tail, style);
      }
    }
  }

  const LadderModel& m_;
  const TextLadderOptions& o_;
  std::ostream& out_;
  std::size_t time_width_ = 0;
  std::size_t width_ = 0;
  std::vector<std::size_t> x_;
};

}  // namespace

void render_text_ladder(const LadderModel& model, const TextLadderOptions& options,
                        std::ostream& out) {
  Renderer(model, options, out).render();
}

}  // namespace synack::trace
