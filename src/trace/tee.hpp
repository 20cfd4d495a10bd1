// A sink that forwards every event to several sinks, in the order they were added: one
// run can print a ladder, write pcap files and a JSON log at once.
//
//   trace::Tee tee;
//   tee.add(ladder);
//   tee.add(pcap);
//   stack.set_trace(&tee);
#pragma once

#include <vector>

#include "trace/trace.hpp"

namespace synack::trace {

class Tee final : public Sink {
 public:
  Tee() = default;
  // The sinks are borrowed: each must outlive the tee (or be removed first).
  void add(Sink& sink) { sinks_.push_back(&sink); }
  void remove(Sink& sink) { std::erase(sinks_, &sink); }
  std::size_t size() const { return sinks_.size(); }

  void on_api(Instant at, Ipv4Address host, const ApiCall& call) override {
    for (Sink* s : sinks_) s->on_api(at, host, call);
  }
  void on_state(Instant at, const FourTuple& tuple, tcp::State from, tcp::State to,
                std::string_view cause) override {
    for (Sink* s : sinks_) s->on_state(at, tuple, from, to, cause);
  }
  void on_packet(Instant at, Ipv4Address host, Direction dir, wire::Bytes packet,
                 std::string_view cause) override {
    for (Sink* s : sinks_) s->on_packet(at, host, dir, packet, cause);
  }
  void on_drop(Instant at, Ipv4Address host, wire::Bytes packet, std::string_view layer,
               std::string_view reason) override {
    for (Sink* s : sinks_) s->on_drop(at, host, packet, layer, reason);
  }
  void on_timer(Instant at, const FourTuple& tuple, std::string_view timer) override {
    for (Sink* s : sinks_) s->on_timer(at, tuple, timer);
  }

 private:
  std::vector<Sink*> sinks_;
};

}  // namespace synack::trace
