// The shm link's rendezvous: a Unix-domain SOCK_SEQPACKET socket in the abstract namespace
// ("\0synack-shm/NAME", nothing on disk to clean up) on which the creator of a region
// listens. An attacher connects and sends a Hello with its eventfd (SCM_RIGHTS); the
// creator answers with a Welcome and its own eventfd, or a refusal. Each side then writes
// the other's eventfd to wake it, and the connection stays open for one reason: the kernel
// closes it when a process dies (SIGKILL included), so each side learns at once that its
// peer is gone (the socket polls readable with EOF), with no heartbeat and no pid reuse.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace synack::link::shm {

struct Hello {
  std::uint64_t magic;    // kRegionMagic
  std::uint32_t version;  // kRegionVersion
  std::uint32_t pid;
};

struct Welcome {
  enum Status : std::uint32_t { accepted = 0, busy = 1, refused = 2 };
  std::uint64_t magic;
  std::uint32_t status;
  std::uint32_t generation;  // the attacher side's generation, when accepted
};

// The abstract socket address's name (without its leading NUL).
std::string rendezvous_name(std::string_view region_name);

// A listening, non-blocking socket; -1 and errno on failure.
int rendezvous_listen(std::string_view region_name);
// A connected socket (blocking); -1 and errno on failure.
int rendezvous_connect(std::string_view region_name);

// One message with at most one descriptor. send_message returns false on failure (errno).
bool send_message(int socket, const void* data, std::size_t size, int fd_to_pass);
// Waits up to `timeout_ms` for one message of exactly `size` bytes; `fd_received` is the
// descriptor that came with it or -1. false on timeout (errno ETIMEDOUT), EOF, a message
// of the wrong size, or an error.
bool receive_message(int socket, void* data, std::size_t size, int& fd_received, int timeout_ms);

}  // namespace synack::link::shm
