// SharedConfig: one Config held by every connection and socket that has the same options.
//
// A million idle connections made with the stack's defaults would otherwise carry a
// million identical copies of them (160 bytes each, twice: in the connection and in its
// socket). Copy-on-write: edit() makes a private copy first when others share this one,
// so a setsockopt() on one connection never changes another's options.
//
//   SharedConfig a(defaults), b = a;  // one Config, two owners
//   b.edit().nodelay = true;           // b now has its own; a is unchanged
//
// One pointer, with the count beside the Config it counts (intrusive): a shared_ptr is two,
// and both the connection and its socket hold one (issue 9, 8 bytes each per endpoint).
#pragma once

#include <atomic>
#include <cstdint>
#include <utility>

#include "tcp/config.hpp"

namespace synack::tcp {

class SharedConfig {
 public:
  // The default options (Config{}), with nothing allocated until edit().
  SharedConfig() = default;
  // Implicit: a Config given by value becomes a shared one of its own.
  SharedConfig(const Config& c) : p_(new Block{c}) {}  // NOLINT: by design
  SharedConfig(const SharedConfig& o) : p_(o.p_) {
    // Relaxed, as shared_ptr: a new owner comes from an existing one, which keeps it alive.
    if (p_) p_->owners.fetch_add(1, std::memory_order_relaxed);
  }
  SharedConfig(SharedConfig&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  SharedConfig& operator=(SharedConfig o) noexcept {  // copy and move both, by swap
    std::swap(p_, o.p_);
    return *this;
  }
  ~SharedConfig() { drop(); }

  const Config& operator*() const { return p_ ? p_->config : defaults(); }
  const Config* operator->() const { return &**this; }

  // The options, to change: no longer shared with anyone once this returns.
  Config& edit() {
    if (!p_) {
      p_ = new Block{};
    } else if (p_->owners.load(std::memory_order_acquire) > 1) {
      Block* own = new Block{p_->config};
      drop();
      p_ = own;
    }
    return p_->config;
  }

 private:
  struct Block {
    Config config;
    // Atomic, as shared_ptr's count was: a copy taken on another thread (of a Config some
    // other stack's socket holds) must not corrupt the count.
    std::atomic<std::uint32_t> owners{1};
  };
  void drop() {
    if (p_ && p_->owners.fetch_sub(1, std::memory_order_acq_rel) == 1) delete p_;
    p_ = nullptr;
  }
  static const Config& defaults() {
    static const Config c{};
    return c;
  }
  Block* p_ = nullptr;  // null: Config{}
};

}  // namespace synack::tcp
