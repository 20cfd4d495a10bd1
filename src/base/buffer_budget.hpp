// The stack's buffer memory (StackConfig::max_buffer_memory): the bytes actually held in
// TCP send and receive buffers, out-of-order data and UDP receive queues, against one
// limit for the whole stack. Buffers are allocated at their configured size, but what a
// peer or the application can make the stack hold is what is counted here: a thousand idle
// connections cost nothing, and a flood of data to a thousand stalled readers stops at the
// limit instead of at the sum of their SO_RCVBUFs.
#pragma once

#include <cstddef>
#include <limits>

namespace synack {

struct BufferBudget {
  std::size_t limit = std::numeric_limits<std::size_t>::max();
  std::size_t used = 0;

  // Whether `more` bytes may be held without going over the limit.
  bool admits(std::size_t more) const { return used <= limit && more <= limit - used; }
  // How many more bytes may be held.
  std::size_t room() const { return used < limit ? limit - used : 0; }
  bool exhausted() const { return used >= limit; }
  // A holder's bytes went from `before` to `after`.
  void update(std::size_t before, std::size_t after) { used = used - before + after; }
};

}  // namespace synack
