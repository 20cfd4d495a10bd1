#include "bench/peers/lwip_bulk.hpp"

#if SYNACK_HAVE_LWIP

#include <arpa/inet.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>

#include "bench/pattern.hpp"
#include "lwip/err.h"
#include "lwip/init.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/tcpip.h"

namespace synack::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Sender and receiver read the stream straight from the Pattern; it covers the largest
// single write (a send buffer, at most 64 KiB) and the largest pbuf.
constexpr std::size_t kMaxSpan = 65536;
const Pattern& stream() {
  static const Pattern pattern(kMaxSpan);
  return pattern;
}

// 127.0.0.1 as lwIP's dual-stack address type (LWIP_IPV6 is on in Debian's build).
ip_addr_t loopback_address() {
  ip_addr_t a{};
  a.u_addr.ip4.addr = htonl(INADDR_LOOPBACK);
  a.type = IPADDR_TYPE_V4;
  return a;
}

// CPU time of the calling thread: the tcpip thread's own work, apart from the time other
// processes on this shared machine take the core from it.
double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

// lwIP's err_t by name (its own lwip_strerr is compiled out without LWIP_DEBUG).
std::string describe(err_t err) {
  static constexpr const char* kNames[] = {
      "ERR_OK",  "ERR_MEM",        "ERR_BUF", "ERR_TIMEOUT", "ERR_RTE",    "ERR_INPROGRESS",
      "ERR_VAL", "ERR_WOULDBLOCK", "ERR_USE", "ERR_ALREADY", "ERR_ISCONN", "ERR_CONN",
      "ERR_IF",  "ERR_ABRT",       "ERR_RST", "ERR_CLSD",    "ERR_ARG"};
  const int i = -err;
  return i >= 0 && i < static_cast<int>(std::size(kNames)) ? kNames[i]
                                                           : "err " + std::to_string(err);
}

// Runs `f` on lwIP's tcpip thread (which holds the core lock while it does) and waits.
template <typename F>
void on_tcpip_thread(F f) {
  struct Call {
    F f;
    std::promise<void> done;
  } call{std::move(f), {}};
  std::future<void> done = call.done.get_future();
  tcpip_callback(
      [](void* ctx) {
        auto* c = static_cast<Call*>(ctx);
        c->f();
        c->done.set_value();
      },
      &call);
  done.wait();
}

// Debian's lwipopts.h sets LWIP_HAVE_LOOPIF 0 (the Hurd translator brings its own), so
// this is that loopback netif: 127.0.0.1/8, MTU 1500, every packet through lwIP's own
// netif_loop_output (copied into a new pbuf, queued, polled on the tcpip thread).
err_t loop_output(struct netif* netif, struct pbuf* p, const ip4_addr_t*) {
  return netif_loop_output(netif, p);
}

err_t loopif_init(struct netif* netif) {
  netif->name[0] = 'l';
  netif->name[1] = 'o';
  netif->output = loop_output;
  netif->mtu = 1500;
  return ERR_OK;
}

// lwIP keeps global state: it is started once per process, with one loopback netif, and
// each run opens its own listener and connection on it.
void start_lwip() {
  static std::once_flag once;
  std::call_once(once, [] {
    std::promise<void> ready;
    tcpip_init([](void* arg) { static_cast<std::promise<void>*>(arg)->set_value(); }, &ready);
    ready.get_future().wait();
    on_tcpip_thread([] {
      static struct netif loopif;
      ip4_addr_t address{}, netmask{}, gateway{};
      address.addr = htonl(INADDR_LOOPBACK);
      netmask.addr = htonl(0xff000000U);
      netif_add(&loopif, &address, &netmask, &gateway, nullptr, loopif_init, ip_input);
      netif_set_default(&loopif);
      netif_set_link_up(&loopif);
      netif_set_up(&loopif);
    });
  });
}

// One transfer. Everything but `received` and the outcome is touched only on the tcpip
// thread; the outcome is published under `mutex`.
struct Bulk {
  std::uint64_t total = 0;
  tcp_pcb* listener = nullptr;
  tcp_pcb* client = nullptr;
  tcp_pcb* server = nullptr;
  std::uint64_t sent = 0;  // handed to tcp_write
  std::atomic<std::uint64_t> received{0};
  std::uint64_t segments = 0;
  Clock::time_point first_write, last_read;
  double cpu_first_write = 0, cpu_last_read = 0;  // the tcpip thread's CPU time, seconds

  std::mutex mutex;
  std::condition_variable cv;
  bool finished = false;
  std::string error;  // empty: the whole stream arrived intact

  void finish(std::string why) {
    std::lock_guard lock(mutex);
    if (finished) return;
    finished = true;
    error = std::move(why);
    cv.notify_one();
  }

  // Writes as much of the stream as the send buffer and segment queue take, then sends.
  void pump() {
    while (sent < total && client->snd_buf > 0 && client->snd_queuelen < TCP_SND_QUEUELEN) {
      const std::uint64_t left = total - sent;
      const auto n = static_cast<std::uint16_t>(
          std::min<std::uint64_t>({left, std::uint64_t{client->snd_buf}, std::uint64_t{0xffff}}));
      const std::uint8_t more = left > n ? TCP_WRITE_FLAG_MORE : 0;
      const err_t err = tcp_write(client, stream().at(sent), n,
                                  static_cast<std::uint8_t>(TCP_WRITE_FLAG_COPY | more));
      if (err == ERR_MEM) break;  // the queue is full after all: wait for an ACK
      if (err != ERR_OK) return finish("tcp_write: " + describe(err));
      sent += n;
    }
    const err_t err = tcp_output(client);
    if (err != ERR_OK) finish("tcp_output: " + describe(err));
  }

  // Checks each pbuf of a delivered chain against the pattern. Loopback packets arrive
  // as one pbuf each (netif_loop_output copies into one PBUF_RAM), so the chain's length
  // is the number of segments delivered.
  err_t on_receive(tcp_pcb* pcb, pbuf* p) {
    if (p == nullptr) {
      finish("the client closed after " + std::to_string(received.load()) + " bytes");
      return ERR_OK;
    }
    std::uint64_t at = received.load(std::memory_order_relaxed);
    for (const pbuf* q = p; q != nullptr; q = q->next) {
      if (q->len > kMaxSpan || at + q->len > total ||
          !stream().matches(at, static_cast<const std::uint8_t*>(q->payload), q->len)) {
        finish("wrong data in the " + std::to_string(q->len) + " bytes at offset " +
               std::to_string(at));
        tcp_recved(pcb, p->tot_len);
        pbuf_free(p);
        return ERR_OK;
      }
      at += q->len;
      ++segments;
    }
    received.store(at, std::memory_order_relaxed);
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    if (at == total) {
      last_read = Clock::now();
      cpu_last_read = thread_cpu_seconds();
      finish({});
    }
    return ERR_OK;
  }

  void on_error(tcp_pcb*& pcb, err_t err, const char* who) {
    pcb = nullptr;  // lwIP has freed it
    finish(std::string(who) + ": " + describe(err));
  }

  void start() {
    const ip_addr_t loopback = loopback_address();
    tcp_pcb* l = tcp_new();
    if (l == nullptr) return finish("tcp_new failed");
    if (tcp_bind(l, &loopback, 0) != ERR_OK) {
      tcp_close(l);
      return finish("tcp_bind failed");
    }
    listener = tcp_listen(l);
    if (listener == nullptr) {
      tcp_close(l);
      return finish("tcp_listen failed");
    }
    tcp_arg(listener, this);
    tcp_accept(listener, [](void* arg, tcp_pcb* pcb, err_t err) -> err_t {
      auto* b = static_cast<Bulk*>(arg);
      if (err != ERR_OK || pcb == nullptr) {
        b->finish("accept failed");
        return ERR_VAL;
      }
      b->server = pcb;
      tcp_arg(pcb, b);
      tcp_recv(pcb, [](void* a, tcp_pcb* s, pbuf* p, err_t) -> err_t {
        return static_cast<Bulk*>(a)->on_receive(s, p);
      });
      tcp_err(pcb, [](void* a, err_t e) {
        static_cast<Bulk*>(a)->on_error(static_cast<Bulk*>(a)->server, e, "server");
      });
      return ERR_OK;
    });

    client = tcp_new();
    if (client == nullptr) return finish("tcp_new failed");
    tcp_arg(client, this);
    // No Nagle (what tcp_nagle_disable() does, spelled without its C cast): the stream's
    // last partial segment would otherwise wait for lwIP's delayed ACK, sent only by its
    // 250 ms tcp_fasttmr, and the run would time that timer rather than the stack.
    client->flags = static_cast<tcpflags_t>(client->flags | TF_NODELAY);
    tcp_err(client, [](void* a, err_t e) {
      static_cast<Bulk*>(a)->on_error(static_cast<Bulk*>(a)->client, e, "client");
    });
    tcp_sent(client, [](void* a, tcp_pcb*, std::uint16_t) -> err_t {
      static_cast<Bulk*>(a)->pump();
      return ERR_OK;
    });
    const err_t err =
        tcp_connect(client, &loopback, listener->local_port, [](void* a, tcp_pcb*, err_t) -> err_t {
          auto* b = static_cast<Bulk*>(a);
          b->first_write = Clock::now();
          b->cpu_first_write = thread_cpu_seconds();
          b->pump();
          return ERR_OK;
        });
    if (err != ERR_OK) finish("tcp_connect: " + describe(err));
  }

  // Drops both ends (RST, no TIME_WAIT left behind) and the listener.
  void stop() {
    for (tcp_pcb** pcb : {&client, &server}) {
      if (*pcb == nullptr) continue;
      tcp_arg(*pcb, nullptr);
      tcp_err(*pcb, nullptr);
      tcp_sent(*pcb, nullptr);
      tcp_recv(*pcb, nullptr);
      tcp_abort(*pcb);
      *pcb = nullptr;
    }
    if (listener != nullptr) {
      tcp_arg(listener, nullptr);
      tcp_accept(listener, nullptr);
      tcp_close(listener);
      listener = nullptr;
    }
  }
};

}  // namespace

LwipBulkDetail lwip_bulk_detail(std::uint64_t bytes) {
  if (bytes == 0) return {Run::fail("nothing to send"), 0, 0};
  start_lwip();
  Bulk bulk;
  bulk.total = bytes;
  on_tcpip_thread([&bulk] { bulk.start(); });

  // Bounded: a generous whole-run limit (10 s plus 10 MB/s, far below lwIP's rate even
  // under callgrind), and no progress for 3 s is a stall.
  const auto limit =
      Clock::now() + std::chrono::seconds(10) + std::chrono::milliseconds(bytes / 10'000);
  std::uint64_t seen = 0;
  auto last_progress = Clock::now();
  {
    std::unique_lock lock(bulk.mutex);
    while (!bulk.finished) {
      bulk.cv.wait_for(lock, std::chrono::milliseconds(100));
      if (bulk.finished) break;
      const auto now = Clock::now();
      const std::uint64_t got = bulk.received.load();
      if (got != seen) {
        seen = got;
        last_progress = now;
      }
      if (now - last_progress > std::chrono::seconds(3) || now > limit) {
        bulk.finished = true;
        bulk.error =
            "stalled after " + std::to_string(got) + " of " + std::to_string(bytes) + " bytes";
      }
    }
  }
  on_tcpip_thread([&bulk] { bulk.stop(); });

  if (!bulk.error.empty()) return {Run::fail("lwIP: " + bulk.error), bulk.segments, 0, 0};
  const double seconds = std::chrono::duration<double>(bulk.last_read - bulk.first_write).count();
  const double gbits = static_cast<double>(bytes) * 8 / seconds / 1e9;
  return {Run::of(gbits), bulk.segments, seconds, bulk.cpu_last_read - bulk.cpu_first_write};
}

Run lwip_bulk(std::uint64_t bytes) {
  return lwip_bulk_detail(bytes).run;
}

}  // namespace synack::bench

#else  // !SYNACK_HAVE_LWIP

namespace synack::bench {

LwipBulkDetail lwip_bulk_detail(std::uint64_t) {
  return {Run::skip("liblwip-dev not installed"), 0, 0, 0};
}

Run lwip_bulk(std::uint64_t bytes) {
  return lwip_bulk_detail(bytes).run;
}

}  // namespace synack::bench

#endif
