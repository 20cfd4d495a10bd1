// The ladder diagram as an SVG picture, clean enough for a slide: a vertical lifeline per
// host endpoint, one arrow per packet sloped by the time it took from send to receive, its
// label along it, a dropped packet's arrow ending in a cross, states in boxes on the
// lifelines, socket calls and timers beside them, and the time down the left.
//
// Vertical space is not linear in time (a 60 s TIME_WAIT would swamp 5 ms hops): each step
// takes a line, and a pause adds space growing with the log of its length; pauses of a
// second or more are marked as breaks with their length.
#pragma once

#include <ostream>
#include <string>

#include "trace/ladder_model.hpp"

namespace synack::trace {

struct SvgLadderOptions {
  std::string title;  // drawn at the top when not empty
};

void render_svg_ladder(const LadderModel& model, const SvgLadderOptions& options,
                       std::ostream& out);

// `text` with &, <, >, " and ' escaped for XML.
std::string xml_escape(std::string_view text);

}  // namespace synack::trace
