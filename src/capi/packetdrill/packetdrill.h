/* packetdrill's shared-object interface: the struct the tool hands to
 * packetdrill_interface_init for a library to fill, field for field as the tool declares it
 * (google/packetdrill, gtests/net/packetdrill/packetdrill.h). The tool dlopen()s the
 * library (--so_filename), calls packetdrill_interface_init(--so_flags or NULL, &zeroed),
 * then makes every socket call, injects every packet (netdev_send), collects every packet
 * the stack sends (netdev_receive) and reads and moves the clock (gettimeofday, usleep)
 * through these pointers, each with `userdata` first.
 *
 * C-compatible on purpose: this is an ABI shared with a C program, so the order, the types
 * and the names must not change. (splice returns int here, as in the tool's header.) */
#ifndef SYNACK_PACKETDRILL_H
#define SYNACK_PACKETDRILL_H

#include <poll.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#ifdef __cplusplus
extern "C" {
#endif

struct packetdrill_interface {
  void* userdata;
  void (*free)(void* userdata);
  int (*socket)(void* userdata, int domain, int type, int protocol);
  int (*bind)(void* userdata, int sockfd, const struct sockaddr* addr, socklen_t addrlen);
  int (*listen)(void* userdata, int sockfd, int backlog);
  int (*accept)(void* userdata, int sockfd, struct sockaddr* addr, socklen_t* addrlen);
  int (*connect)(void* userdata, int sockfd, const struct sockaddr* addr, socklen_t addrlen);
  ssize_t (*read)(void* userdata, int fd, void* buf, size_t count);
  ssize_t (*readv)(void* userdata, int fd, const struct iovec* iov, int iovcnt);
  ssize_t (*recv)(void* userdata, int sockfd, void* buf, size_t len, int flags);
  ssize_t (*recvfrom)(void* userdata, int sockfd, void* buf, size_t len, int flags,
                      struct sockaddr* src_addr, socklen_t* addrlen);
  ssize_t (*recvmsg)(void* userdata, int sockfd, struct msghdr* msg, int flags);
  ssize_t (*write)(void* userdata, int fd, const void* buf, size_t count);
  ssize_t (*writev)(void* userdata, int fd, const struct iovec* iov, int iovcnt);
  ssize_t (*send)(void* userdata, int sockfd, const void* buf, size_t len, int flags);
  ssize_t (*sendto)(void* userdata, int sockfd, const void* buf, size_t len, int flags,
                    const struct sockaddr* dest_addr, socklen_t addrlen);
  ssize_t (*sendmsg)(void* userdata, int sockfd, const struct msghdr* msg, int flags);
  int (*fcntl)(void* userdata, int fd, int cmd, ...);
  int (*ioctl)(void* userdata, int fd, unsigned long request, ...);
  int (*close)(void* userdata, int fd);
  int (*shutdown)(void* userdata, int sockfd, int how);
  int (*getsockopt)(void* userdata, int sockfd, int level, int optname, void* optval,
                    socklen_t* optlen);
  int (*setsockopt)(void* userdata, int sockfd, int level, int optname, const void* optval,
                    socklen_t optlen);
  int (*poll)(void* userdata, struct pollfd* fds, nfds_t nfds, int timeout);
  /* One whole IPv4 packet (no link header, checksums correct, up to ~64 KB) into the
   * stack, as arriving from the wire. 0, or -1 on error. */
  int (*netdev_send)(void* userdata, const void* buf, size_t count);
  /* The next packet the stack sent: *count is the room on entry and the length on exit
   * (0 when nothing came), *time_usecs its send time on gettimeofday's clock. 0, or -1. */
  int (*netdev_receive)(void* userdata, void* buf, size_t* count, long long* time_usecs);
  int (*usleep)(void* userdata, useconds_t usec);
  int (*gettimeofday)(void* userdata, struct timeval* tv, struct timezone* tz);
  int (*epoll_create)(void* userdata, int size);
  int (*epoll_ctl)(void* userdata, int epfd, int op, int fd, struct epoll_event* event);
  int (*epoll_wait)(void* userdata, int epfd, struct epoll_event* events, int maxevents,
                    int timeout);
  int (*pipe)(void* userdata, int pipefd[2]);
  int (*splice)(void* userdata, int fd_in, loff_t* off_in, int fd_out, loff_t* off_out, size_t len,
                unsigned int flags);
};

typedef void (*packetdrill_interface_init_t)(const char* flags, struct packetdrill_interface*);

/* The library's one exported symbol. Creates a synack host (include/synack/synack.h) from
 * `flags` (synack_host_new's: "local=192.168.0.1 mtu=1500 ..."; NULL for the defaults)
 * and fills every field of *ifc. With flags it cannot use it prints why on stderr and ends
 * the process with exit status 1: it returns void, so the tool could not tell. */
__attribute__((visibility("default"))) void packetdrill_interface_init(
    const char* flags, struct packetdrill_interface* ifc);

#ifdef __cplusplus
}
#endif

#endif /* SYNACK_PACKETDRILL_H */
