// Result<T, E>: a value or a typed error, for code that must not throw (the packet path).
// std::expected arrives with C++23; this is the small subset we need until then.
#pragma once

#include <cassert>
#include <utility>
#include <variant>

namespace synack {

template <class E>
struct Unexpected {
  // A constructor, not a bare aggregate: `Unexpected(e)` of an aggregate needs C++20's
  // parenthesized aggregate initialization, which clang 14 (the fuzz build) lacks.
  explicit Unexpected(E e) : error(std::move(e)) {}
  E error;
};
template <class E>
Unexpected(E) -> Unexpected<E>;

template <class T, class E>
class Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Unexpected<E> e) : v_(std::in_place_index<1>, std::move(e.error)) {}  // NOLINT

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & {
    assert(has_value());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(has_value());
    return std::get<0>(v_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  E error() const {
    assert(!has_value());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, E> v_;
};

}  // namespace synack
