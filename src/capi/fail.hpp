// How a C call fails: -1 with errno set, and the errno a stack error stands for.
#pragma once

#include <cerrno>
#include <system_error>

namespace synack::capi {

// Sets errno and returns -1, as a failing POSIX call does.
inline int fail_with(int error) {
  errno = error;
  return -1;
}

// The errno of a std::error_code from the Stack: its value, which for the generic and
// system categories (all the stack uses) is the POSIX number itself; EIO for anything else.
inline int errno_from(std::error_code ec) {
  if (!ec) return 0;
  const std::error_category& c = ec.category();
  return c == std::generic_category() || c == std::system_category() ? ec.value() : EIO;
}

}  // namespace synack::capi
