#include "link/capture.hpp"

namespace synack::link {

void CaptureLink::send(wire::Bytes frame, Instant now) {
  sink_.on_capture(Direction::out, frame, now);
  inner_.send(frame, now);
}

void CaptureLink::send_segmented(wire::Bytes frame, Instant now, std::size_t segment_size) {
  sink_.on_capture(Direction::out, frame, now);
  inner_.send_segmented(frame, now, segment_size);
}

std::size_t CaptureLink::receive(Instant now, FrameSink& sink, std::size_t budget) {
  // Interpose on the sink so each frame is captured exactly as it is delivered.
  struct Tee final : FrameSink {
    CaptureSink& capture;
    FrameSink& next;
    Tee(CaptureSink& c, FrameSink& n) : capture(c), next(n) {}
    void on_frame(wire::Bytes frame, Instant arrived) override {
      capture.on_capture(Direction::in, frame, arrived);
      next.on_frame(frame, arrived);
    }
    void on_trusted_frame(wire::Bytes frame, Instant arrived) override {
      capture.on_capture(Direction::in, frame, arrived);
      next.on_trusted_frame(frame, arrived);
    }
  } tee(sink_, sink);
  return inner_.receive(now, tee, budget);
}

}  // namespace synack::link
