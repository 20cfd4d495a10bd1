#include "support/trace_recorder.hpp"

#include "wire/ipv4.hpp"

namespace synack::testing {

TraceRecorder::TraceRecorder(Stack& stack) : stack_(stack) {
  stack_.set_trace(this);
}

TraceRecorder::~TraceRecorder() {
  stack_.set_trace(nullptr);
}

void TraceRecorder::on_packet(Instant at, Ipv4Address /*host*/, trace::Direction dir,
                              wire::Bytes packet, std::string_view cause) {
  if (dir != trace::Direction::out) return;
  auto ip = wire::Ipv4View::parse(packet);
  if (!ip || ip->protocol() != wire::kTcp) return;
  auto tcp = wire::TcpView::parse(ip->payload());
  if (!tcp) return;
  const wire::Bytes options = tcp->options_bytes();
  sent_.push_back(Sent{at, std::string(cause), tcp->to_header(),
                       std::vector<std::uint8_t>(options.begin(), options.end()),
                       tcp->payload().size()});
}

void TraceRecorder::on_timer(Instant /*at*/, const FourTuple& /*tuple*/, std::string_view timer) {
  timers_.emplace_back(timer);
}

void TraceRecorder::on_drop(Instant /*at*/, Ipv4Address /*host*/, wire::Bytes /*packet*/,
                            std::string_view layer, std::string_view reason) {
  drops_.push_back(std::string(layer) + ": " + std::string(reason));
}

std::vector<std::string> TraceRecorder::causes() const {
  std::vector<std::string> out;
  for (const Sent& s : sent_) out.push_back(s.cause);
  return out;
}

std::vector<std::string> TraceRecorder::data_causes() const {
  using wire::TcpFlags;
  std::vector<std::string> out;
  for (const Sent& s : sent_) {
    const bool occupies = s.payload_length > 0 || s.header.flags.has(TcpFlags::syn) ||
                          s.header.flags.has(TcpFlags::fin);
    if (occupies && !s.header.flags.has(TcpFlags::rst)) out.push_back(s.cause);
  }
  return out;
}

std::vector<std::uint8_t> bytes_of(std::initializer_list<int> values) {
  std::vector<std::uint8_t> out;
  for (const int v : values) out.push_back(static_cast<std::uint8_t>(v));
  return out;
}

}  // namespace synack::testing
