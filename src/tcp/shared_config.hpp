// SharedConfig: one Config held by every connection and socket that has the same options.
//
// A million idle connections made with the stack's defaults would otherwise carry a
// million identical copies of them (160 bytes each, twice: in the connection and in its
// socket). Copy-on-write: edit() makes a private copy first when others share this one,
// so a setsockopt() on one connection never changes another's options.
//
//   SharedConfig a(defaults), b = a;  // one Config, two owners
//   b.edit().nodelay = true;           // b now has its own; a is unchanged
#pragma once

#include <memory>

#include "tcp/config.hpp"

namespace synack::tcp {

class SharedConfig {
 public:
  // The default options (Config{}), with nothing allocated until edit().
  SharedConfig() = default;
  // Implicit: a Config given by value becomes a shared one of its own.
  SharedConfig(const Config& c) : p_(std::make_shared<Config>(c)) {}  // NOLINT: by design

  const Config& operator*() const { return p_ ? *p_ : defaults(); }
  const Config* operator->() const { return &**this; }

  // The options, to change: no longer shared with anyone once this returns.
  Config& edit() {
    if (!p_) {
      p_ = std::make_shared<Config>();
    } else if (p_.use_count() > 1) {
      p_ = std::make_shared<Config>(*p_);
    }
    return *p_;
  }

 private:
  static const Config& defaults() {
    static const Config c{};
    return c;
  }
  std::shared_ptr<Config> p_;  // null: Config{}
};

}  // namespace synack::tcp
