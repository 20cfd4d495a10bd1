#include "link/shm/region.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>

namespace synack::link::shm {
namespace {

Unexpected<RegionError> failure(int error, std::string message) {
  return Unexpected(
      RegionError{std::error_code(error, std::generic_category()), std::move(message)});
}

Unexpected<RegionError> failure(std::errc error, std::string message) {
  return Unexpected(RegionError{std::make_error_code(error), std::move(message)});
}

bool valid_name(std::string_view name) {
  return !name.empty() && name.size() <= 200 && name.find('/') == std::string_view::npos;
}

constexpr std::size_t ring_offset(int index, std::uint32_t ring_bytes) {
  return sizeof(RegionHeader) +
         static_cast<std::size_t>(index) * FrameRing::block_bytes(ring_bytes);
}

}  // namespace

std::size_t region_bytes(std::uint32_t ring_bytes) {
  return ring_offset(2, ring_bytes);
}

std::string Region::object_name(std::string_view name) {
  return "/synack-" + std::string(name);
}

Result<std::unique_ptr<Region>, RegionError> Region::create(std::string_view name,
                                                            const RegionOptions& options) {
  if (!valid_name(name)) {
    return failure(std::errc::invalid_argument,
                   "shm name '" + std::string(name) + "': 1 to 200 characters, no '/'");
  }
  if (!FrameRing::valid_capacity(options.ring_bytes) || options.ring_bytes > (1u << 30)) {
    return failure(std::errc::invalid_argument, "shm ring size " +
                                                    std::to_string(options.ring_bytes) +
                                                    ": a power of two from 64 bytes to 1 GiB");
  }
  if (options.mtu < 68 || FrameRing::record_bytes(options.mtu) > options.ring_bytes / 2) {
    return failure(std::errc::invalid_argument,
                   "shm MTU " + std::to_string(options.mtu) +
                       ": at least 68, and two frames must fit in a ring");
  }
  const std::string object = object_name(name);
  if (options.replace && ::shm_unlink(object.c_str()) < 0 && errno != ENOENT) {
    return failure(errno,
                   "cannot remove the old shared memory " + object + ": " + std::strerror(errno));
  }
  const int fd = ::shm_open(object.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int e = errno;
    if (e == EEXIST) {
      return failure(e, "shared memory " + object +
                            " exists: another process serves it, or one died and left it "
                            "(replace it, or remove /dev/shm" +
                            object + ")");
    }
    return failure(e, "cannot create shared memory " + object + ": " + std::strerror(e));
  }
  const std::size_t bytes = region_bytes(options.ring_bytes);
  void* base = MAP_FAILED;
  if (::ftruncate(fd, static_cast<off_t>(bytes)) == 0) {
    base = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  }
  const int e = errno;
  struct stat st {};
  ::fstat(fd, &st);
  ::close(fd);  // the mapping keeps the object
  if (base == MAP_FAILED) {
    ::shm_unlink(object.c_str());
    return failure(e, "cannot size or map shared memory " + object + ": " + std::strerror(e));
  }
  auto* header = new (base) RegionHeader{};
  header->version = kRegionVersion;
  header->header_bytes = sizeof(RegionHeader);
  header->ring_bytes = options.ring_bytes;
  header->mtu = options.mtu;
  header->creator.pid.store(static_cast<std::uint32_t>(::getpid()), std::memory_order_relaxed);
  header->creator.generation.store(1, std::memory_order_relaxed);
  std::unique_ptr<Region> region(new Region(Role::creator, std::string(name), base, bytes,
                                            options.ring_bytes, options.mtu, true));
  region->inode_ = static_cast<std::uint64_t>(st.st_ino);
  header->magic.store(kRegionMagic, std::memory_order_release);
  return region;
}

Result<std::unique_ptr<Region>, RegionError> Region::attach(std::string_view name) {
  if (!valid_name(name)) {
    return failure(std::errc::invalid_argument,
                   "shm name '" + std::string(name) + "': 1 to 200 characters, no '/'");
  }
  const std::string object = object_name(name);
  const int fd = ::shm_open(object.c_str(), O_RDWR | O_CLOEXEC, 0);
  if (fd < 0) {
    const int e = errno;
    if (e == ENOENT) {
      return failure(e, "no shared memory " + object + ": is the creating side running?");
    }
    return failure(e, "cannot open shared memory " + object + ": " + std::strerror(e));
  }
  struct stat st {};
  if (::fstat(fd, &st) < 0) {
    const int e = errno;
    ::close(fd);
    return failure(e, "cannot stat shared memory " + object + ": " + std::strerror(e));
  }
  const auto bytes = static_cast<std::size_t>(st.st_size);
  if (bytes < sizeof(RegionHeader)) {
    ::close(fd);
    return failure(std::errc::no_such_file_or_directory,
                   "shared memory " + object + " is not initialized yet");
  }
  void* base = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const int e = errno;
  ::close(fd);
  if (base == MAP_FAILED) {
    return failure(e, "cannot map shared memory " + object + ": " + std::strerror(e));
  }
  auto* header = static_cast<RegionHeader*>(base);
  auto refuse = [&](std::errc code, std::string why) {
    ::munmap(base, bytes);
    return failure(code, "shared memory " + object + ": " + why);
  };
  const std::uint64_t magic = header->magic.load(std::memory_order_acquire);
  if (magic == 0) return refuse(std::errc::no_such_file_or_directory, "not initialized yet");
  if (magic != kRegionMagic) return refuse(std::errc::protocol_error, "not a synack shm region");
  if (header->version != kRegionVersion) {
    return refuse(std::errc::protocol_error, "version " + std::to_string(header->version) +
                                                 ", this synack speaks " +
                                                 std::to_string(kRegionVersion));
  }
  if (header->header_bytes != sizeof(RegionHeader)) {
    return refuse(std::errc::protocol_error, "header of " + std::to_string(header->header_bytes) +
                                                 " bytes, expected " +
                                                 std::to_string(sizeof(RegionHeader)));
  }
  const std::uint32_t ring_bytes = header->ring_bytes;
  const std::uint32_t mtu = header->mtu;
  if (!FrameRing::valid_capacity(ring_bytes) || ring_bytes > (1u << 30) || mtu < 68 ||
      FrameRing::record_bytes(mtu) > ring_bytes / 2) {
    return refuse(std::errc::protocol_error, "ring size " + std::to_string(ring_bytes) +
                                                 " or MTU " + std::to_string(mtu) + " invalid");
  }
  if (bytes != region_bytes(ring_bytes)) {
    return refuse(std::errc::protocol_error,
                  std::to_string(bytes) + " bytes, but its header says rings of " +
                      std::to_string(ring_bytes) + " (" + std::to_string(region_bytes(ring_bytes)) +
                      " bytes)");
  }
  return std::unique_ptr<Region>(
      new Region(Role::attacher, std::string(name), base, bytes, ring_bytes, mtu, false));
}

Region::Region(Role role, std::string name, void* base, std::size_t bytes, std::uint32_t ring_bytes,
               std::uint32_t mtu, bool initialize)
    : role_(role),
      name_(std::move(name)),
      base_(base),
      bytes_(bytes),
      ring_bytes_(ring_bytes),
      mtu_(mtu),
      header_(static_cast<RegionHeader*>(base)) {
  auto* bytes_at = static_cast<std::uint8_t*>(base);
  void* to_attacher = bytes_at + ring_offset(0, ring_bytes);
  void* to_creator = bytes_at + ring_offset(1, ring_bytes);
  const bool creator = role == Role::creator;
  tx_.emplace(creator ? to_attacher : to_creator, ring_bytes, mtu, initialize);
  rx_.emplace(creator ? to_creator : to_attacher, ring_bytes, mtu, initialize);
}

Region::~Region() {
  if (role_ == Role::creator) {
    header_->creator.pid.store(0, std::memory_order_release);
    // Unless a new creator replaced the name with its own region meanwhile.
    const std::string object = object_name(name_);
    const int fd = ::shm_open(object.c_str(), O_RDONLY | O_CLOEXEC, 0);
    struct stat st {};
    if (fd >= 0 && ::fstat(fd, &st) == 0 && static_cast<std::uint64_t>(st.st_ino) == inode_) {
      ::shm_unlink(object.c_str());
    }
    if (fd >= 0) ::close(fd);
  } else {
    header_->attacher.pid.store(0, std::memory_order_release);
  }
  ::munmap(base_, bytes_);
}

std::atomic<std::uint32_t>& Region::rx_waiting() {
  return header_->waiting[role_ == Role::creator ? 1 : 0].flag;
}

std::atomic<std::uint32_t>& Region::tx_waiting() {
  return header_->waiting[role_ == Role::creator ? 0 : 1].flag;
}

void Region::reset_rings() {
  tx_->reset();
  rx_->reset();
  header_->waiting[0].flag.store(0, std::memory_order_relaxed);
  header_->waiting[1].flag.store(0, std::memory_order_release);
}

}  // namespace synack::link::shm
