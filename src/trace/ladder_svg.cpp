#include "trace/ladder_svg.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <numbers>
#include <vector>

namespace synack::trace {

std::string xml_escape(std::string_view text) {
  std::string s;
  for (const char c : text) {
    switch (c) {
      case '&':
        s += "&amp;";
        break;
      case '<':
        s += "&lt;";
        break;
      case '>':
        s += "&gt;";
        break;
      case '"':
        s += "&quot;";
        break;
      case '\'':
        s += "&apos;";
        break;
      default:
        s += c;
    }
  }
  return s;
}

namespace {

constexpr double kTimeAxis = 90;     // the times' column
constexpr double kNoteSpace = 250;   // beside the outer lifelines, for calls and timers
constexpr double kColumnGap = 480;   // between lifelines
constexpr double kTop = 90;          // where the first step stands
constexpr double kLine = 17;         // one step
constexpr double kCharWidth = 6.6;   // of the 11 px monospace font
constexpr double kDroppedAt = 0.55;  // how far a lost packet gets
const Duration kBreak = seconds(1);

const char* const kRight = "#1b7f3b";
const char* const kLeft = "#1f5fbf";
const char* const kBad = "#c62828";

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string ms_text(Instant at) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f ms", static_cast<double>(to_nanos(at)) / 1e6);
  return buf;
}

std::string gap_text(Duration d) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "+%.3f s", static_cast<double>(d.count()) / 1e9);
  return buf;
}

// Space a pause adds: a few pixels for a hop of milliseconds, at most 5 lines.
double pause_space(Duration d) {
  const double ms = static_cast<double>(d.count()) / 1e6;
  return std::min(5 * kLine, 10 * std::log2(1 + ms));
}

std::string join(const std::vector<std::string>& words, std::size_t from, std::size_t to) {
  std::string s;
  for (std::size_t i = from; i < to; ++i) s += (s.empty() ? "" : " ") + words[i];
  return s;
}

class Svg {
 public:
  Svg(const LadderModel& m, const SvgLadderOptions& o, std::ostream& out)
      : m_(m), o_(o), out_(out) {}

  void render() {
    place_steps();
    const std::size_t n = std::max<std::size_t>(m_.columns.size(), 1);
    const double width = kTimeAxis + 2 * kNoteSpace + static_cast<double>(n - 1) * kColumnGap;
    const double height = bottom_ + 40;
    out_ << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << num(width) << "\" height=\""
         << num(height) << "\" viewBox=\"0 0 " << num(width) << " " << num(height) << "\">\n"
         << "<style>\n"
         << "  text { font-family: 'DejaVu Sans Mono', Menlo, Consolas, monospace; font-size: "
            "11px; }\n"
         << "  .heading { font-family: 'DejaVu Sans', Helvetica, Arial, sans-serif; font-size: "
            "14px; font-weight: bold; }\n"
         << "  .title { font-family: 'DejaVu Sans', Helvetica, Arial, sans-serif; font-size: 16px; "
            "}\n"
         << "  .time { fill: #888; font-size: 10px; }\n"
         << "  .api { fill: #00707a; }\n"
         << "  .timer { fill: #8e3fa8; font-style: italic; }\n"
         << "  .drop { fill: " << kBad << "; }\n"
         << "  .info { fill: #777; }\n"
         << "  .state rect { fill: #fff4c2; stroke: #b58900; }\n"
         << "  .state text { font-weight: bold; fill: #5c4400; }\n"
         << "</style>\n"
         << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
    if (!o_.title.empty()) {
      out_ << "<text class=\"title\" x=\"" << num(width / 2)
           << "\" y=\"24\" text-anchor=\"middle\">" << xml_escape(o_.title) << "</text>\n";
    }
    lifelines();
    times();
    for (std::size_t i = 0; i < m_.arrows.size(); ++i) arrow(i);
    for (const Placed& p : notes_) note(p);
    out_ << "</svg>\n";
  }

 private:
  struct Placed {
    std::size_t note;
    double y;
  };

  double x(std::size_t column) const {
    return kTimeAxis + kNoteSpace + static_cast<double>(column) * kColumnGap;
  }

  void place_steps() {
    send_y_.assign(m_.arrows.size(), 0);
    arrive_y_.assign(m_.arrows.size(), -1);
    double y = kTop;
    std::optional<Instant> last;
    for (const LadderStep& s : m_.steps) {
      if (last) {
        // An arrow's label stands above it: leave it room below the step before. Arrival
        // steps take as much room as sends, so the arrows of a burst run parallel.
        y += kLine + (s.kind == LadderStep::Kind::note ? 0 : 9);
        if (s.at != *last) y += pause_space(s.at - *last);
        if (s.at - *last >= kBreak)
          breaks_.push_back({y - pause_space(s.at - *last) / 2, s.at - *last});
      }
      if (!last || s.at != *last) time_marks_.push_back({y, s.at});
      last = s.at;
      switch (s.kind) {
        case LadderStep::Kind::note:
          notes_.push_back({s.index, y});
          break;
        case LadderStep::Kind::send:
          send_y_[s.index] = y;
          break;
        case LadderStep::Kind::arrive:
          // A packet lost before this one on the same path would have landed just
          // before it: keep its slot, so the burst's arrows stay parallel.
          for (std::size_t k = s.index; k-- > 0;) {
            const LadderArrow& lost = m_.arrows[k];
            if (lost.from != m_.arrows[s.index].from || lost.to != m_.arrows[s.index].to) continue;
            if (lost.link_drop.empty() || lost_y_.contains(k)) break;
            lost_y_[k] = -1;
          }
          for (auto& [k, ly] : lost_y_) {
            if (ly < 0) {
              ly = y;
              y += kLine + 9;
            }
          }
          arrive_y_[s.index] = y;
          break;
      }
    }
    bottom_ = y + 2 * kLine;
  }

  void lifelines() {
    for (std::size_t c = 0; c < m_.columns.size(); ++c) {
      const LadderColumn& col = m_.columns[c];
      out_ << "<g class=\"column\">"
           << "<text class=\"heading\" x=\"" << num(x(c)) << "\" y=\"52\" text-anchor=\"middle\">"
           << xml_escape(col.host_name.empty() ? col.heading() : col.host_name) << "</text>"
           << "<text x=\"" << num(x(c)) << "\" y=\"68\" text-anchor=\"middle\">"
           << xml_escape(col.endpoint.to_string()) << "</text>"
           << "<line x1=\"" << num(x(c)) << "\" y1=\"76\" x2=\"" << num(x(c)) << "\" y2=\""
           << num(bottom_) << "\" stroke=\"#444\" stroke-width=\"1.5\"/></g>\n";
    }
    for (const auto& [y, d] : breaks_) {
      for (std::size_t c = 0; c < m_.columns.size(); ++c) {
        // A break in the lifeline: a white gap between two short slanted strokes.
        out_ << "<g class=\"break\"><rect x=\"" << num(x(c) - 8) << "\" y=\"" << num(y - 4)
             << "\" width=\"16\" height=\"8\" fill=\"white\"/>"
             << "<line x1=\"" << num(x(c) - 8) << "\" y1=\"" << num(y - 2) << "\" x2=\""
             << num(x(c) + 8) << "\" y2=\"" << num(y - 6) << "\" stroke=\"#444\"/>"
             << "<line x1=\"" << num(x(c) - 8) << "\" y1=\"" << num(y + 6) << "\" x2=\""
             << num(x(c) + 8) << "\" y2=\"" << num(y + 2) << "\" stroke=\"#444\"/></g>\n";
      }
      out_ << "<text class=\"time\" x=\"" << num(kTimeAxis - 8) << "\" y=\"" << num(y + 3)
           << "\" text-anchor=\"end\">" << xml_escape(gap_text(d)) << "</text>\n";
    }
  }

  void times() {
    double last_y = -100;
    for (const auto& [y, at] : time_marks_) {
      if (y - last_y < 12) continue;  // too close to the one above to read
      out_ << "<text class=\"time\" x=\"" << num(kTimeAxis - 8) << "\" y=\"" << num(y + 4)
           << "\" text-anchor=\"end\">" << ms_text(at) << "</text>\n";
      last_y = y;
    }
  }

  // How far down a packet that never arrived would have gone: as far as the nearest one
  // sent the same way that did arrive, so it runs parallel to its neighbours.
  double usual_drop(std::size_t i) const {
    const LadderArrow& a = m_.arrows[i];
    for (std::size_t d = 1; d < m_.arrows.size(); ++d) {
      for (const std::size_t j : {i - d, i + d}) {  // i - d wraps past 0 to a huge index
        if (j < m_.arrows.size() && m_.arrows[j].from == a.from && m_.arrows[j].to == a.to &&
            arrive_y_[j] >= 0) {
          return arrive_y_[j] - send_y_[j];
        }
      }
    }
    return kLine + pause_space(milliseconds(5));
  }

  void arrow(std::size_t i) {
    const LadderArrow& a = m_.arrows[i];
    const bool dropped = !a.link_drop.empty();
    const bool bad = dropped || a.retransmission || !a.stack_drop.empty();
    const char* colour = bad ? kBad : (x(a.to) >= x(a.from) ? kRight : kLeft);
    const double x1 = x(a.from), y1 = send_y_[i];
    double x2 = x(a.to);
    double y2 = arrive_y_[i] >= 0     ? arrive_y_[i]
                : lost_y_.contains(i) ? lost_y_.at(i)
                                      : y1 + usual_drop(i);
    // The label runs along the whole path, even past where a lost packet died, so that
    // it stands parallel to its neighbours' labels.
    const double full_x = x2, full_y = y2;
    if (dropped) {
      x2 = x1 + (x2 - x1) * kDroppedAt;
      y2 = y1 + (y2 - y1) * kDroppedAt;
    }
    std::string cls = "segment";
    if (dropped) cls += " dropped";
    if (a.retransmission) cls += " retransmission";
    out_ << "<g class=\"" << cls << "\">";
    out_ << "<line x1=\"" << num(x1) << "\" y1=\"" << num(y1) << "\" x2=\"" << num(x2) << "\" y2=\""
         << num(y2) << "\" stroke=\"" << colour << "\" stroke-width=\"1.6\""
         << (arrive_y_[i] < 0 && !dropped ? " stroke-dasharray=\"5,4\"" : "") << "/>";
    const double dx = x2 - x1, dy = y2 - y1;
    const double len = std::hypot(dx, dy);
    const double ux = dx / len, uy = dy / len;
    if (dropped) {
      out_ << "<path d=\"M" << num(x2 - 6) << "," << num(y2 - 6) << " L" << num(x2 + 6) << ","
           << num(y2 + 6) << " M" << num(x2 - 6) << "," << num(y2 + 6) << " L" << num(x2 + 6) << ","
           << num(y2 - 6) << "\" stroke=\"" << kBad << "\" stroke-width=\"2.5\"/>";
    } else {
      // The head: a triangle whose tip touches the receiving lifeline.
      const double bx = x2 - 10 * ux, by = y2 - 10 * uy;
      out_ << "<polygon points=\"" << num(x2) << "," << num(y2) << " " << num(bx - 4 * uy) << ","
           << num(by + 4 * ux) << " " << num(bx + 4 * uy) << "," << num(by - 4 * ux) << "\" fill=\""
           << colour << "\"/>";
    }
    std::vector<std::string> words = a.label;
    if (!a.cause.empty()) words.push_back("[" + a.cause + "]");

    if (dropped) words.push_back("[dropped by link: " + a.link_drop + "]");
    if (!a.stack_drop.empty()) words.push_back("[dropped by " + a.stack_drop + "]");
    // Along the arrow, above it; what does not fit goes on a second line below it. A
    // payload preview goes first when room is short.
    const double label_dx = full_x - x1, label_dy = full_y - y1;
    const double label_len = std::hypot(label_dx, label_dy);
    const auto fits = static_cast<std::size_t>(std::max(10.0, (label_len - 30) / kCharWidth));
    if (join(words, 0, words.size()).size() > fits) {
      std::erase_if(words, [](const std::string& w) { return w.starts_with("\""); });
    }
    std::size_t split = words.size();
    while (split > 1 && join(words, 0, split).size() > fits) --split;
    const double angle = std::atan2(label_dy, label_dx) * 180 / std::numbers::pi;
    const bool flip = label_dx < 0;  // keep text upright on leftward arrows
    // Anchored near the sender, where the arrows of a burst are still a step apart.
    const double lx = x1 + 24 * label_dx / label_len, ly = y1 + 24 * label_dy / label_len;
    const char* anchor = flip ? "end" : "start";
    out_ << "<g transform=\"translate(" << num(lx) << "," << num(ly) << ") rotate("
         << num(flip ? angle - 180 : angle) << ")\">";
    out_ << "<text x=\"0\" y=\"-5\" text-anchor=\"" << anchor << "\" fill=\"" << colour << "\">"
         << xml_escape(join(words, 0, split)) << "</text>";
    if (split < words.size()) {
      out_ << "<text x=\"0\" y=\"13\" text-anchor=\"" << anchor << "\" fill=\"" << colour << "\">"
           << xml_escape(join(words, split, words.size())) << "</text>";
    }
    out_ << "</g></g>\n";
  }

  void note(const Placed& p) {
    const LadderNote& n = m_.notes[p.note];
    const double cx = x(n.column);
    if (n.kind == LadderNote::Kind::state) {
      const double w = static_cast<double>(n.text.size()) * kCharWidth + 14;
      out_ << "<g class=\"state\"><rect x=\"" << num(cx - w / 2) << "\" y=\"" << num(p.y - 8)
           << "\" width=\"" << num(w) << "\" height=\"16\" rx=\"4\"/><text x=\"" << num(cx)
           << "\" y=\"" << num(p.y + 4) << "\" text-anchor=\"middle\">" << xml_escape(n.text)
           << "</text></g>\n";
      return;
    }
    const char* cls = n.kind == LadderNote::Kind::api     ? "api"
                      : n.kind == LadderNote::Kind::timer ? "timer"
                      : n.kind == LadderNote::Kind::drop  ? "drop"
                                                          : "info";
    const bool left = n.column == 0 && m_.columns.size() > 1;
    out_ << "<text class=\"" << cls << "\" x=\"" << num(left ? cx - 12 : cx + 12) << "\" y=\""
         << num(p.y + 4) << "\" text-anchor=\"" << (left ? "end" : "start") << "\">"
         << xml_escape(n.text) << "</text>\n";
  }

  const LadderModel& m_;
  const SvgLadderOptions& o_;
  std::ostream& out_;
  std::vector<double> send_y_, arrive_y_;
  std::map<std::size_t, double> lost_y_;  // where lost packets would have arrived
  std::vector<Placed> notes_;
  std::vector<std::pair<double, Instant>> time_marks_;
  std::vector<std::pair<double, Duration>> breaks_;
  double bottom_ = kTop;
};

}  // namespace

void render_svg_ladder(const LadderModel& model, const SvgLadderOptions& options,
                       std::ostream& out) {
  Svg(model, options, out).render();
}

}  // namespace synack::trace
