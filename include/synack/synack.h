/* synack's C socket ABI: the BSD socket calls, with errno, struct sockaddr and the host's
 * option numbers, on a synack host.
 *
 *   synack_host *h = synack_host_new("local=192.168.0.1");
 *   int fd = synack_socket(h, AF_INET, SOCK_STREAM, 0);
 *   struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(8080)};
 *   synack_bind(h, fd, (struct sockaddr *)&a, sizeof a);
 *   synack_listen(h, fd, 128);
 *   ...  packets in:  synack_netdev_send(h, ip_packet, len);
 *        packets out: synack_netdev_receive(h, buf, &len, &usecs);
 *   int c = synack_accept(h, fd, NULL, NULL);   // blocks until a handshake completes
 *
 * A host is one synack Stack with its own IPv4 address, running on a virtual clock: time
 * moves only when synack_usleep, synack_gettimeofday (by 1 us a call) or
 * synack_netdev_receive (to the next timer, when no packet is waiting) move it. The
 * packets it sends and takes are whole IPv4 packets with no link header. This is the
 * model of packetdrill's shared-object interface (libsynack_packetdrill.so wraps it).
 *
 * Every call is thread-safe. A blocking call (accept, connect, read, write, recv, send,
 * poll, epoll_wait on a blocking socket) sleeps on a condition variable until another
 * thread's call changes what it waits for, or until its timeout passes in virtual time.
 *
 * Descriptors are real kernel descriptors (each socket holds an eventfd), so they never
 * collide with the process's own files and the C library's close() releases them.
 *
 * Every call returns what its POSIX namesake returns, and -1 with errno set as Linux
 * documents on failure. Addresses are struct sockaddr_in, or sockaddr_in6 holding an
 * IPv4-mapped address (::ffff:a.b.c.d) on an AF_INET6 socket. Unsupported calls, flags and
 * options fail with ENOSYS, EOPNOTSUPP or ENOPROTOOPT: never silently. */
#ifndef SYNACK_SYNACK_H
#define SYNACK_SYNACK_H

#include <poll.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SYNACK_API __attribute__((visibility("default")))

typedef struct synack_host synack_host;

/* A new host. `flags` is NULL or a list of key=value separated by spaces or commas:
 *   local=A.B.C.D   the host's address (default 192.168.0.1, packetdrill's)
 *   mtu=N           the link MTU (default 1500)
 *   secret=HEX      the ISN and port secret (default: fixed, so runs repeat exactly)
 *   wscale=0|1 sack=0|1 timestamps=0|1   TCP options offered (default 1)
 *   max_sockets=N   sockets open at once; beyond, socket() and accept() fail with EMFILE
 *                   (default 65536)
 *   max_buffer_memory=N   bytes held in all socket buffers together; beyond, write() and
 *                   sendto() fail with ENOBUFS (default 268435456, 256 MiB)
 * Returns NULL with errno EINVAL for a flag it does not know or cannot parse. */
SYNACK_API synack_host* synack_host_new(const char* flags);
/* Frees the host and closes every descriptor it still holds open. */
SYNACK_API void synack_host_free(synack_host* h);

/* --- Sockets ------------------------------------------------------------------------- */
SYNACK_API int synack_socket(synack_host* h, int domain, int type, int protocol);
SYNACK_API int synack_bind(synack_host* h, int fd, const struct sockaddr* addr, socklen_t len);
SYNACK_API int synack_listen(synack_host* h, int fd, int backlog);
SYNACK_API int synack_accept(synack_host* h, int fd, struct sockaddr* addr, socklen_t* len);
SYNACK_API int synack_connect(synack_host* h, int fd, const struct sockaddr* addr, socklen_t len);
SYNACK_API ssize_t synack_read(synack_host* h, int fd, void* buf, size_t count);
SYNACK_API ssize_t synack_readv(synack_host* h, int fd, const struct iovec* iov, int iovcnt);
SYNACK_API ssize_t synack_recv(synack_host* h, int fd, void* buf, size_t len, int flags);
SYNACK_API ssize_t synack_recvfrom(synack_host* h, int fd, void* buf, size_t len, int flags,
                                   struct sockaddr* from, socklen_t* fromlen);
SYNACK_API ssize_t synack_recvmsg(synack_host* h, int fd, struct msghdr* msg, int flags);
SYNACK_API ssize_t synack_write(synack_host* h, int fd, const void* buf, size_t count);
SYNACK_API ssize_t synack_writev(synack_host* h, int fd, const struct iovec* iov, int iovcnt);
SYNACK_API ssize_t synack_send(synack_host* h, int fd, const void* buf, size_t len, int flags);
SYNACK_API ssize_t synack_sendto(synack_host* h, int fd, const void* buf, size_t len, int flags,
                                 const struct sockaddr* to, socklen_t tolen);
SYNACK_API ssize_t synack_sendmsg(synack_host* h, int fd, const struct msghdr* msg, int flags);
SYNACK_API int synack_shutdown(synack_host* h, int fd, int how);
SYNACK_API int synack_close(synack_host* h, int fd);
SYNACK_API int synack_getsockopt(synack_host* h, int fd, int level, int name, void* value,
                                 socklen_t* len);
SYNACK_API int synack_setsockopt(synack_host* h, int fd, int level, int name, const void* value,
                                 socklen_t len);
SYNACK_API int synack_getsockname(synack_host* h, int fd, struct sockaddr* addr, socklen_t* len);
SYNACK_API int synack_getpeername(synack_host* h, int fd, struct sockaddr* addr, socklen_t* len);
/* F_GETFL, F_SETFL (O_NONBLOCK), F_GETFD, F_SETFD (FD_CLOEXEC). */
SYNACK_API int synack_fcntl(synack_host* h, int fd, int cmd, ...);
/* FIONREAD/SIOCINQ, SIOCOUTQ and FIONBIO, each with an int *. */
SYNACK_API int synack_ioctl(synack_host* h, int fd, unsigned long request, ...);

/* --- Readiness ----------------------------------------------------------------------- */
SYNACK_API int synack_poll(synack_host* h, struct pollfd* fds, nfds_t nfds, int timeout_ms);
SYNACK_API int synack_epoll_create(synack_host* h, int size);
SYNACK_API int synack_epoll_ctl(synack_host* h, int epfd, int op, int fd,
                                struct epoll_event* event);
SYNACK_API int synack_epoll_wait(synack_host* h, int epfd, struct epoll_event* events,
                                 int maxevents, int timeout_ms);

/* --- Pipes (kernel pipes, so splice has somewhere to move bytes) ----------------------- */
SYNACK_API int synack_pipe(synack_host* h, int fds[2]);
/* Between a synack socket and a kernel pipe, either way. */
SYNACK_API ssize_t synack_splice(synack_host* h, int fd_in, loff_t* off_in, int fd_out,
                                 loff_t* off_out, size_t len, unsigned int flags);

/* --- The wire and the clock ------------------------------------------------------------ */
/* Takes one whole IPv4 packet (no link header, any size up to 65535) as arriving from the
 * wire, and runs the stack on it. Returns 0; -1 with EINVAL for an empty or oversized one
 * (a malformed packet is the stack's to drop and count, as on a real wire). */
SYNACK_API int synack_netdev_send(synack_host* h, const void* buf, size_t count);
/* Copies the next packet the host sent into buf: *count is the room on entry, the length
 * on exit, *time_usecs its send time on synack_gettimeofday's clock. With none waiting,
 * advances virtual time to the next timer and fires it, until a packet appears; returns 0
 * with *count = 0 when no timer is pending or `receive_limit` (5 s) of virtual time has
 * passed. A packet longer than the room is truncated (*count = room) and counted. */
SYNACK_API int synack_netdev_receive(synack_host* h, void* buf, size_t* count,
                                     long long* time_usecs);
/* Advances virtual time by `usecs` (firing every timer due on the way) and returns 0. */
SYNACK_API int synack_usleep(synack_host* h, useconds_t usecs);
/* The virtual time (it starts at a fixed date); every call advances it by 1 us. */
SYNACK_API int synack_gettimeofday(synack_host* h, struct timeval* tv, void* tz);

#ifdef __cplusplus
}
#endif

#endif /* SYNACK_SYNACK_H */
