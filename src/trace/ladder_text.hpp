// The ladder diagram as text for a terminal: one column per host endpoint, time running
// down the page, one arrow per packet with its label, and beside each column the socket
// calls, states and timers of that side. Readable in 100 columns; ANSI colour on request.
//
//    t (ms)          client 198.18.0.1:40723                 server 198.18.0.2:80
//                              │                                          │
//     0.000  socket() = 0      │                                          │
//            SYN_SENT          ├── SYN seq=0 win=65535 ──────────────────▶│
//                              │      <mss 1460,sackOK,ts,ws 7>           │
//     5.000                    │                                          │ SYN_RECEIVED
//                              │◀─────────── SYN+ACK seq=0 ack=1 win=65535 ┤
#pragma once

#include <cstddef>
#include <ostream>

#include "synack/time.hpp"
#include "trace/ladder_model.hpp"

namespace synack::trace {

struct TextLadderOptions {
  std::size_t width = 100;    // columns of text; widened if the diagram cannot fit
  bool colour = false;        // ANSI colours (for a terminal)
  Duration gap = seconds(1);  // a quiet stretch at least this long is marked "…"
};

void render_text_ladder(const LadderModel& model, const TextLadderOptions& options,
                        std::ostream& out);

}  // namespace synack::trace
