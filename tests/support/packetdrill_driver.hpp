// A stand-in for the packetdrill tool: it loads a library built for packetdrill's
// shared-object interface the way the tool does (dlopen with the tool's flags,
// packetdrill_interface_init with --so_flags), then plays a script through the struct's
// pointers: socket calls, packets in (netdev_send), packets out (netdev_receive), time
// (gettimeofday once, then usleep). Tests read like packetdrill scripts:
//
//   Packetdrill pd(SYNACK_PACKETDRILL_SO);
//   int fd = pd.socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);         // 0 socket(...) = 3
//   pd.bind(fd); pd.listen(fd, 1);                                 // +0 bind, listen
//   pd.inject("S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>");
//   pd.expect("S. 0:0(0) ack 1 win 65535 <mss 1460,nop,nop,sackOK,nop,wscale 7>");
//   pd.at(100ms);
//   pd.inject(". 1:1(0) ack 1 win 257");
//
// A segment is written as packetdrill writes it: flags (S F R P . for ACK, U E W), the
// sequence range `start:end(length)`, then `ack N`, `win N` and `<options>`. As in the tool,
// the sequence numbers of the remote side (inbound seq, outbound ack, SACK blocks we send)
// are absolute, and those of the stack (outbound seq, inbound ack, SACK blocks we inject)
// count from the stack's ISN, learned from its first SYN. Options: nop, eol, mss N,
// wscale N, sackOK, sack A:B C:D, TS val V ecr E. In an expected segment `TS val *` is the
// stack's 1 ms timestamp clock (its offset learned from the first timestamp it sends, each
// later value checked against the send time); in an injected one `ecr *` echoes the last
// value the stack sent. An expected segment is compared byte for byte with the one
// received, header and options, checksums verified; one without `<...>` must carry no
// options, one without `win` has its window unchecked.
//
// The remote end is 192.0.2.1 and the stack 192.168.0.1 (--so_flags=local=192.168.0.1),
// the script's port 8080: a passive open takes SYNs from 192.0.2.1:40000 to 8080, an
// active open sends its SYN to 192.0.2.1:8080 from the port it picks.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "capi/packetdrill/packetdrill.h"

namespace synack::testing {

using std::chrono::microseconds;

// One segment the stack sent, as netdev_receive returned it.
struct SentSegment {
  microseconds at{};                 // script time (0 is the script's start)
  std::vector<std::uint8_t> packet;  // the whole IPv4 packet
  std::string line;                  // in script notation, numbers as the script writes them
  std::vector<std::uint8_t> payload;
  std::string payload_text() const { return {payload.begin(), payload.end()}; }
};

// A call the script marks as blocking, on a second thread, as the tool runs it.
class BlockingCall {
 public:
  explicit BlockingCall(std::function<long()> call);
  // Joins the thread if the call has returned, else waits for it a few seconds of real
  // time; a call that never returns is left behind (and the library is not freed).
  ~BlockingCall();
  BlockingCall(const BlockingCall&) = delete;
  BlockingCall& operator=(const BlockingCall&) = delete;

  // True once the call sleeps in the kernel on a futex (the wait of a condition variable)
  // and stays asleep over several checks: it is blocked, and not spinning. False if that is
  // not seen within `limit` of real time, or the call returned.
  bool sleeping(std::chrono::milliseconds limit = std::chrono::milliseconds(3000)) const;
  bool returned() const;
  // Waits (real time, at most `limit`) for the call to return; its result, or nullopt.
  std::optional<long> wait(std::chrono::milliseconds limit = std::chrono::milliseconds(5000));
  // errno as the call left it.
  int error() const;

  // Calls started and not yet returned, in the whole process.
  static int outstanding();

 private:
  struct Shared;
  std::shared_ptr<Shared> shared_;
};

class Packetdrill {
 public:
  static constexpr std::uint16_t kPort = 8080;          // the script's port
  static constexpr std::uint16_t kRemotePort = 40000;   // the remote's, in passive opens
  static constexpr std::uint32_t kLocal = 0xc0a80001;   // 192.168.0.1, the stack
  static constexpr std::uint32_t kRemote = 0xc0000201;  // 192.0.2.1, the script

  // ipv4: AF_INET sockets. ipv4_mapped_ipv6: AF_INET6 sockets with ::ffff: addresses,
  // while the packets stay IPv4 (packetdrill's --ip_version=ipv4-mapped-ipv6).
  enum class Mode { ipv4, ipv4_mapped_ipv6 };

  // dlopen()s `so_path` as the tool does and calls packetdrill_interface_init(flags).
  // Reads the clock once: script time 0 is that instant.
  explicit Packetdrill(const char* so_path, Mode mode = Mode::ipv4,
                       const char* flags = "local=192.168.0.1");
  // Closes leftover descriptors with the C library's close(), then calls free() (unless a
  // blocking call is still out).
  ~Packetdrill();
  Packetdrill(const Packetdrill&) = delete;
  Packetdrill& operator=(const Packetdrill&) = delete;

  // The struct as init filled it, for calls the helpers below do not cover.
  packetdrill_interface& ifc() { return ifc_; }
  void* userdata() const { return ifc_.userdata; }

  // --- Time -------------------------------------------------------------------------------
  // Script time now: what usleep and the packets received have moved the clock to.
  microseconds now() const { return now_ - start_; }
  // Sleeps (usleep) until script time `t`, which must not be in the past.
  void at(microseconds t);
  // The clock's absolute value (µs since the Unix epoch) for script time `t`.
  long long absolute(microseconds t) const { return start_.count() + t.count(); }

  // --- Packets ----------------------------------------------------------------------------
  // `< line`: builds the segment (payload: `payload`, or zeros) and hands it to netdev_send.
  void inject(std::string_view line, std::string_view payload = {});
  // Injects a whole IPv4 packet as given.
  void inject_packet(const std::vector<std::uint8_t>& packet);
  // `> line` at the current script time (`expect_at`: at time `t`): netdev_receive must
  // return a segment, sent then, equal to `line` byte for byte. Failures are gtest failures
  // naming both in script notation; returns what came (nullopt when nothing did).
  std::optional<SentSegment> expect(std::string_view line);
  std::optional<SentSegment> expect_at(microseconds t, std::string_view line);
  // The next packet whatever it is (nullopt when netdev_receive returns none), for tests
  // that look before they judge.
  std::optional<SentSegment> receive();
  // netdev_receive returns 0 with *count = 0: nothing is pending, no timer will send.
  // Resynchronizes the script clock, which netdev_receive moved.
  void expect_nothing();

  // --- The script's calls (through the struct; errno as the call left it) ----------------
  int socket(int domain, int type, int protocol);
  int socket() { return socket(domain(), SOCK_STREAM, IPPROTO_TCP); }
  int bind(int fd);  // the stack's address, port 8080 ("bind(3, ..., ...)")
  int listen(int fd, int backlog);
  int accept(int fd, sockaddr* addr, socklen_t* len);
  int connect(int fd);  // to 192.0.2.1:8080
  ssize_t read(int fd, void* buf, std::size_t count);
  ssize_t write(int fd, const void* buf, std::size_t count);
  ssize_t write(int fd, std::string_view data) { return write(fd, data.data(), data.size()); }
  int shutdown(int fd, int how);
  int close(int fd);
  int set_int_option(int fd, int level, int name, int value);
  int get_int_option(int fd, int level, int name, int* value);
  // fcntl as the tool calls it: without an argument (F_GETFL), or with an int (F_SETFL).
  int fcntl(int fd, int cmd);
  int fcntl(int fd, int cmd, int arg);
  int poll(pollfd* fds, nfds_t n, int timeout_ms);

  // --- Addresses --------------------------------------------------------------------------
  int domain() const { return mode_ == Mode::ipv4 ? AF_INET : AF_INET6; }
  socklen_t address_length() const;
  // A sockaddr of the mode's family for (address, port).
  sockaddr_storage address(std::uint32_t ipv4, std::uint16_t port) const;
  // The remote as accept() must report it (192.0.2.1:40000, ::ffff:192.0.2.1 when mapped).
  sockaddr_storage remote_address() const { return address(kRemote, remote_port_); }

  // The descriptors socket() and accept() returned and close() has not taken back.
  std::set<int> open_descriptors();
  // Closes each of them with the C library's close(): the tool's cleanup after a script.
  // Returns how many close() accepted.
  int close_leftovers_with_libc();

  std::uint32_t local_isn() const { return local_isn_.value_or(0); }
  std::uint16_t local_port() const { return local_port_; }
  std::uint16_t remote_port() const { return remote_port_; }

 private:
  void track(int fd);
  // Turns `now_` forward to what a packet's send time proves.
  void saw_time(long long usecs);

  Mode mode_;
  void* library_ = nullptr;
  packetdrill_interface ifc_{};
  microseconds start_{};  // the clock at script time 0
  microseconds now_{};    // the clock now, as this driver has moved it
  std::mutex open_mu_;    // accept() may run on a BlockingCall's thread
  std::set<int> open_;
  std::uint16_t local_port_ = kPort;
  std::uint16_t remote_port_ = kRemotePort;
  std::optional<std::uint32_t> local_isn_;
  // The stack's timestamp clock: tsval = ts_base_ + (clock in ms).
  std::optional<std::uint32_t> ts_base_;
  std::uint32_t last_tsval_ = 0;
};

// One IPv4 TCP packet as the remote would send it (no IP options, DF, TTL 64), with both
// checksums computed here. Options must fill whole words.
struct TcpPacket {
  std::uint32_t src = 0;
  std::uint32_t dst = 0;
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint8_t flags = 0;  // FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10
  std::uint16_t window = 65535;
  std::vector<std::uint8_t> options;
  std::string payload;
};
std::vector<std::uint8_t> tcp_packet(const TcpPacket& t);

// "192.0.2.1:40000", "[::ffff:192.0.2.1]:40000", or "family N" for another family.
std::string address_text(const sockaddr_storage& a);

// The Internet checksum of `data` added to `sum` (not folded, not complemented), and its
// final form: kept here so the tests check checksums independently of the stack's code.
std::uint32_t checksum_add(const std::uint8_t* data, std::size_t len, std::uint32_t sum = 0);
std::uint16_t checksum_fold(std::uint32_t sum);

}  // namespace synack::testing
