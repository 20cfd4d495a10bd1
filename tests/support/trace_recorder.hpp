// A trace sink for raw-peer tests: it keeps every TCP segment the stack sends, with the
// time it left, the cause the stack gave (DESIGN.md principle 9), and its option bytes
// exactly as laid out on the wire, so a test can assert why a segment went and how its
// options look byte for byte.
//
//   TraceRecorder trace(p.stack());
//   ...
//   EXPECT_EQ(trace.causes(), (std::vector<std::string>{"write()", "retransmit: RTO"}));
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "synack/stack.hpp"
#include "trace/trace.hpp"
#include "wire/tcp.hpp"

namespace synack::testing {

class TraceRecorder final : public trace::Sink {
 public:
  struct Sent {
    Instant at;
    std::string cause;
    wire::TcpHeader header;
    std::vector<std::uint8_t> options;  // the raw option bytes
    std::size_t payload_length = 0;
  };

  // Attaches itself to `stack` and detaches when destroyed.
  explicit TraceRecorder(Stack& stack);
  ~TraceRecorder() override;
  TraceRecorder(const TraceRecorder&) = delete;
  TraceRecorder& operator=(const TraceRecorder&) = delete;

  void on_packet(Instant at, Ipv4Address host, trace::Direction dir, wire::Bytes packet,
                 std::string_view cause) override;
  void on_timer(Instant at, const FourTuple& tuple, std::string_view timer) override;
  void on_drop(Instant at, Ipv4Address host, wire::Bytes packet, std::string_view layer,
               std::string_view reason) override;

  const std::vector<Sent>& sent() const { return sent_; }
  // The causes of the segments sent so far, in order.
  std::vector<std::string> causes() const;
  // The causes of segments that carry data or SYN/FIN (ACKs, probes and RSTs left out).
  std::vector<std::string> data_causes() const;
  // Timers that fired, by name ("retransmit", "persist", ...).
  const std::vector<std::string>& timers() const { return timers_; }
  // Packets the stack dropped, as "layer: reason" ("tcp: bad checksum").
  const std::vector<std::string>& drops() const { return drops_; }
  void clear() {
    sent_.clear();
    timers_.clear();
    drops_.clear();
  }

 private:
  Stack& stack_;
  std::vector<Sent> sent_;
  std::vector<std::string> timers_;
  std::vector<std::string> drops_;
};

// Option bytes written as numbers, to compare with a list in a test.
std::vector<std::uint8_t> bytes_of(std::initializer_list<int> values);

}  // namespace synack::testing
