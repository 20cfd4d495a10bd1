// Turning a device's offloads off, as `ethtool -K DEV tso off gso off gro off tx off` does,
// through the same SIOCETHTOOL ioctl (so no ethtool package is needed): every segment then
// crosses the device at its MTU, checksummed in software.
#pragma once

#include <optional>
#include <string>

namespace synack::bench {

// For a device of the calling thread's namespace; reads each setting back to be sure.
std::optional<std::string> offloads_off(const std::string& device);

}  // namespace synack::bench
