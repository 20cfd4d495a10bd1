// The IPv4 address type of the public API: the wire layer's value type, named here so a
// user need not reach into wire/.
#pragma once

#include "wire/ipv4.hpp"

namespace synack {
using wire::Ipv4Address;
}
