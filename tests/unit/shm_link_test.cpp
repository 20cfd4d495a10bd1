// The shm link in one process: the region's create/attach errors, the rendezvous (one
// attacher at a time, a new one after the first closes), frames both ways, wake-ups only
// for a sleeping consumer, and drops counted.
#include "link/shm/shm_link.hpp"

#include <poll.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace synack::link::shm {
namespace {

std::string unique_name(const char* what) {
  static int counter = 0;
  return std::string("test-") + what + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(++counter);
}

struct Collect final : FrameSink {
  void on_frame(wire::Bytes frame, Instant) override {
    frames.emplace_back(frame.begin(), frame.end());
    trusted.push_back(false);
  }
  void on_trusted_frame(wire::Bytes frame, Instant) override {
    frames.emplace_back(frame.begin(), frame.end());
    trusted.push_back(true);
  }
  std::vector<std::vector<std::uint8_t>> frames;
  std::vector<bool> trusted;  // which came through on_trusted_frame
};

// Drives the creator while an attach() waits for its answer (in a real process, its
// runtime does).
template <class F>
auto attach_while_serving(ShmLink& creator, F&& attach) {
  std::atomic<bool> done{false};
  std::thread server([&] {
    Collect ignored;
    for (int i = 0; i < 4000 && !done; ++i) {
      creator.receive(kEpoch, ignored, 64);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  auto result = attach();
  done = true;
  server.join();
  return result;
}

std::vector<std::uint8_t> bytes_of(const std::string& s) {
  return {s.begin(), s.end()};
}

TEST(ShmRegion, CreateThenAttachSeesTheSizes) {
  const auto name = unique_name("sizes");
  auto creator = Region::create(name, {.ring_bytes = 1u << 16, .mtu = 9000});
  ASSERT_TRUE(creator) << creator.error().message;
  auto attacher = Region::attach(name);
  ASSERT_TRUE(attacher) << attacher.error().message;
  EXPECT_EQ((*attacher)->ring_bytes(), 1u << 16);
  EXPECT_EQ((*attacher)->mtu(), 9000u);
  EXPECT_EQ((*attacher)->peer_liveness().pid.load(), static_cast<std::uint32_t>(::getpid()));
  EXPECT_EQ((*attacher)->peer_liveness().generation.load(), 1u);
}

TEST(ShmRegion, ANameThatExistsIsRefusedUnlessReplaced) {
  const auto name = unique_name("exists");
  auto first = Region::create(name, {});
  ASSERT_TRUE(first);
  auto second = Region::create(name, {});
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, std::errc::file_exists);
  EXPECT_NE(second.error().message.find("exists"), std::string::npos);
  auto third = Region::create(name, {.replace = true});
  ASSERT_TRUE(third) << third.error().message;
  first->reset();  // the replaced creator leaves the new object alone
  EXPECT_TRUE(Region::attach(name));
}

TEST(ShmRegion, CreatorUnlinksItsNameWhenDestroyed) {
  const auto name = unique_name("unlink");
  { auto region = Region::create(name, {}); }
  auto attacher = Region::attach(name);
  ASSERT_FALSE(attacher);
  EXPECT_EQ(attacher.error().code, std::errc::no_such_file_or_directory);
}

TEST(ShmRegion, BadSizesAndNamesAreRefused) {
  EXPECT_EQ(Region::create(unique_name("size"), {.ring_bytes = 5000}).error().code,
            std::errc::invalid_argument);
  EXPECT_EQ(Region::create(unique_name("mtu"), {.ring_bytes = 4096, .mtu = 4000}).error().code,
            std::errc::invalid_argument);
  EXPECT_EQ(Region::create("a/b", {}).error().code, std::errc::invalid_argument);
  EXPECT_EQ(Region::attach("").error().code, std::errc::invalid_argument);
}

TEST(ShmRegion, VersionMismatchIsAClearError) {
  const auto name = unique_name("version");
  auto creator = Region::create(name, {});
  ASSERT_TRUE(creator);
  (*creator)->header().version = kRegionVersion + 1;
  auto attacher = Region::attach(name);
  ASSERT_FALSE(attacher);
  EXPECT_EQ(attacher.error().code, std::errc::protocol_error);
  EXPECT_NE(attacher.error().message.find("version 2"), std::string::npos)
      << attacher.error().message;
}

TEST(ShmRegion, SizeMismatchIsAClearError) {
  const auto name = unique_name("mismatch");
  auto creator = Region::create(name, {.ring_bytes = 1u << 16});
  ASSERT_TRUE(creator);
  (*creator)->header().ring_bytes = 1u << 17;  // says more than the object holds
  auto attacher = Region::attach(name);
  ASSERT_FALSE(attacher);
  EXPECT_EQ(attacher.error().code, std::errc::protocol_error);
  EXPECT_NE(attacher.error().message.find("header says rings of 131072"), std::string::npos)
      << attacher.error().message;
}

TEST(ShmRegion, WrongMagicIsNotARegion) {
  const auto name = unique_name("magic");
  auto creator = Region::create(name, {});
  ASSERT_TRUE(creator);
  (*creator)->header().magic.store(42);
  auto attacher = Region::attach(name);
  ASSERT_FALSE(attacher);
  EXPECT_EQ(attacher.error().code, std::errc::protocol_error);
}

TEST(ShmLink, AttachWithoutACreatorFails) {
  auto link = ShmLink::attach(unique_name("none"));
  ASSERT_FALSE(link);
  EXPECT_EQ(link.error().code, std::errc::no_such_file_or_directory);
}

TEST(ShmLink, AttachToACreatorThatDoesNotAnswerTimesOut) {
  const auto name = unique_name("silent");
  auto creator = ShmLink::create(name);
  ASSERT_TRUE(creator) << creator.error().message;
  auto link = ShmLink::attach(name, {.attach_timeout_ms = 50});
  ASSERT_FALSE(link);
  EXPECT_EQ(link.error().code, std::errc::timed_out);
}

TEST(ShmLink, FramesGoBothWaysInOrder) {
  const auto name = unique_name("frames");
  auto creator = ShmLink::create(name);
  ASSERT_TRUE(creator);
  EXPECT_EQ((*creator)->peer_state(), PeerState::waiting);
  auto attacher = attach_while_serving(**creator, [&] { return ShmLink::attach(name); });
  ASSERT_TRUE(attacher) << attacher.error().message;
  ShmLink& a = **creator;
  ShmLink& b = **attacher;
  EXPECT_EQ(a.peer_state(), PeerState::attached);
  EXPECT_EQ(b.peer_state(), PeerState::attached);
  EXPECT_TRUE(a.peer_alive());
  EXPECT_TRUE(b.peer_alive());
  EXPECT_EQ(b.attacher_generation(), 1u);
  a.send(bytes_of("one"), kEpoch);
  a.send(bytes_of("two"), kEpoch);
  b.send(bytes_of("back"), kEpoch);
  Collect at_b, at_a;
  EXPECT_EQ(b.next_arrival(), kEpoch);  // frames are waiting: due now
  EXPECT_EQ(b.receive(kEpoch, at_b, 64), 2u);
  EXPECT_EQ(b.receive(kEpoch, at_b, 64), 0u);
  EXPECT_EQ(b.next_arrival(), std::nullopt);
  EXPECT_EQ(a.receive(kEpoch, at_a, 64), 1u);
  ASSERT_EQ(at_b.frames.size(), 2u);
  EXPECT_EQ(at_b.frames[0], bytes_of("one"));
  EXPECT_EQ(at_b.frames[1], bytes_of("two"));
  EXPECT_EQ(at_a.frames.at(0), bytes_of("back"));
}

// An IPv4 packet carrying a TCP segment of `payload` bytes (headers of 20 bytes each; the
// checksum fields are not filled in: the link does not look at them).
std::vector<std::uint8_t> tcp_packet(std::size_t payload) {
  std::vector<std::uint8_t> p(40 + payload, 0x5a);
  p[0] = 0x45;
  p[2] = static_cast<std::uint8_t>(p.size() >> 8);
  p[3] = static_cast<std::uint8_t>(p.size());
  p[9] = 6;
  p[32] = 0x50;  // data offset: 5 words
  return p;
}

TEST(ShmLink, ASegmentWithItsChecksumLeftCrossesWholeAndArrivesTrusted) {
  const auto name = unique_name("offload");
  auto creator = ShmLink::create(name, {.region = {.mtu = 9000}});
  ASSERT_TRUE(creator);
  auto attacher = attach_while_serving(**creator, [&] { return ShmLink::attach(name); });
  ASSERT_TRUE(attacher) << attacher.error().message;
  ShmLink& a = **creator;
  ShmLink& b = **attacher;
  EXPECT_EQ(a.max_segmented_frame(), 9000u);
  const auto whole = tcp_packet(8000);
  a.send_segmented(whole, kEpoch, 8000);  // one piece: only the checksum is left
  a.send(bytes_of("plain"), kEpoch);
  Collect at_b;
  EXPECT_EQ(b.receive(kEpoch, at_b, 64), 2u);
  ASSERT_EQ(at_b.frames.size(), 2u);
  EXPECT_EQ(at_b.frames[0], whole);
  EXPECT_EQ(at_b.trusted, (std::vector<bool>{true, false}));
  EXPECT_EQ(a.stats().frames_out, 2u);
}

TEST(ShmLink, ASuperSegmentThePeersMssWouldCutIsCutAndSummedHere) {
  const auto name = unique_name("cut");
  auto creator = ShmLink::create(name, {.region = {.mtu = 9000}});
  ASSERT_TRUE(creator);
  auto attacher = attach_while_serving(**creator, [&] { return ShmLink::attach(name); });
  ASSERT_TRUE(attacher) << attacher.error().message;
  // 3,000 bytes for a peer whose MSS is 1,000: three segments, each with its own checksum.
  (*creator)->send_segmented(tcp_packet(3000), kEpoch, 1000);
  Collect at_b;
  EXPECT_EQ((*attacher)->receive(kEpoch, at_b, 64), 3u);
  ASSERT_EQ(at_b.frames.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(at_b.frames[i].size(), 1040u);
    EXPECT_FALSE(at_b.trusted[i]);
  }
}

TEST(ShmLink, ASegmentBuiltInALoanCrossesWithoutACopyAndOneCutFromALoanIsWhole) {
  const auto name = unique_name("loan");
  auto creator = ShmLink::create(name, {.region = {.mtu = 9000}});
  ASSERT_TRUE(creator);
  EXPECT_TRUE((*creator)->lend(100).empty());  // no peer yet: nothing to lend
  auto attacher = attach_while_serving(**creator, [&] { return ShmLink::attach(name); });
  ASSERT_TRUE(attacher) << attacher.error().message;
  ShmLink& a = **creator;
  EXPECT_TRUE(a.lend(9001).empty());  // over the MTU
  const auto whole = tcp_packet(3000);
  auto loan = a.lend(whole.size());
  ASSERT_EQ(loan.size(), whole.size());
  std::copy(whole.begin(), whole.end(), loan.begin());
  a.send_segmented(loan, kEpoch, 3000);  // whole: in place
  // Cut for an MSS of 1,000 from the loan itself: the pieces go where the frame lay, so it
  // must be read before it is overwritten.
  std::vector<std::uint8_t> numbered = tcp_packet(3000);
  for (std::size_t i = 40; i < numbered.size(); ++i) numbered[i] = static_cast<std::uint8_t>(i / 7);
  loan = a.lend(numbered.size());
  std::copy(numbered.begin(), numbered.end(), loan.begin());
  a.send_segmented(loan, kEpoch, 1000);
  Collect at_b;
  EXPECT_EQ((*attacher)->receive(kEpoch, at_b, 64), 4u);
  ASSERT_EQ(at_b.frames.size(), 4u);
  EXPECT_EQ(at_b.frames[0], whole);
  for (std::size_t k = 0; k < 3; ++k) {
    const auto& piece = at_b.frames[k + 1];
    ASSERT_EQ(piece.size(), 1040u);
    EXPECT_TRUE(std::equal(piece.begin() + 40, piece.end(),
                           numbered.begin() + 40 + static_cast<std::ptrdiff_t>(k * 1000)))
        << "piece " << k;
  }
}

TEST(ShmLink, ReceiveStopsAtItsBudget) {
  const auto name = unique_name("budget");
  auto creator = ShmLink::create(name);
  ASSERT_TRUE(creator);
  auto attacher = attach_while_serving(**creator, [&] { return ShmLink::attach(name); });
  ASSERT_TRUE(attacher);
  for (int i = 0; i < 5; ++i) (*creator)->send(bytes_of("x"), kEpoch);
  Collect sink;
  EXPECT_EQ((*attacher)->receive(kEpoch, sink, 3), 3u);
  EXPECT_EQ((*attacher)->receive(kEpoch, sink, 3), 2u);
}

TEST(ShmLink, ProducerWakesOnlyASleepingConsumer) {
  const auto name = unique_name("wake");
  auto creator = ShmLink::create(name);
  ASSERT_TRUE(creator);
  auto attacher = attach_while_serving(**creator, [&] { return ShmLink::attach(name); });
  ASSERT_TRUE(attacher);
  ShmLink& a = **creator;
  ShmLink& b = **attacher;
  const int fd = b.poll_fd();
  auto readable = [&] {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
  };
  Collect sink;
  b.receive(kEpoch, sink, 64);  // finds nothing: raises its flag, may sleep
  EXPECT_FALSE(readable());
  a.send(bytes_of("1"), kEpoch);  // wakes it
  a.send(bytes_of("2"), kEpoch);  // the flag is down: no second wake-up
  EXPECT_EQ(a.stats().wakeups_sent, 1u);
  EXPECT_TRUE(readable());
  EXPECT_EQ(b.receive(kEpoch, sink, 1), 1u);  // stopped at its budget: the flag stays down
  a.send(bytes_of("3"), kEpoch);
  EXPECT_EQ(a.stats().wakeups_sent, 1u);
  EXPECT_EQ(b.receive(kEpoch, sink, 64), 2u);  // drained: clears the eventfd, flag up
  EXPECT_FALSE(readable());
  a.send(bytes_of("4"), kEpoch);
  EXPECT_EQ(a.stats().wakeups_sent, 2u);
  EXPECT_TRUE(readable());
}

TEST(ShmLink, FullRingAndOversizeFramesAreCountedDrops) {
  const auto name = unique_name("full");
  auto creator = ShmLink::create(name, {.region = {.ring_bytes = 4096, .mtu = 1500}});
  ASSERT_TRUE(creator);
  auto attacher = attach_while_serving(**creator, [&] { return ShmLink::attach(name); });
  ASSERT_TRUE(attacher);
  ShmLink& a = **creator;
  const std::vector<std::uint8_t> big(1500, 7);
  for (int i = 0; i < 3; ++i) a.send(big, kEpoch);  // two 1504-byte records fit in 4096
  EXPECT_EQ(a.stats().frames_out, 2u);
  EXPECT_EQ(a.stats().send_dropped_full, 1u);
  a.send(std::vector<std::uint8_t>(1501, 7), kEpoch);
  EXPECT_EQ(a.stats().oversize, 1u);
}

TEST(ShmLink, SecondAttacherIsRefusedWhileTheFirstLives) {
  const auto name = unique_name("busy");
  auto creator = ShmLink::create(name);
  ASSERT_TRUE(creator);
  auto first = attach_while_serving(**creator, [&] { return ShmLink::attach(name); });
  ASSERT_TRUE(first);
  auto second = attach_while_serving(**creator, [&] { return ShmLink::attach(name); });
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, std::errc::device_or_resource_busy);
  EXPECT_EQ((*creator)->stats().peers_refused, 1u);
}

TEST(ShmLink, NewAttacherAfterTheFirstLeavesGetsEmptyRingsAndANewGeneration) {
  const auto name = unique_name("again");
  auto creator = ShmLink::create(name);
  ASSERT_TRUE(creator);
  ShmLink& a = **creator;
  {
    auto first = attach_while_serving(a, [&] { return ShmLink::attach(name); });
    ASSERT_TRUE(first);
    (*first)->send(bytes_of("stale to creator"), kEpoch);
    a.send(bytes_of("stale to attacher"), kEpoch);
  }  // the first attacher closes with frames in both rings
  Collect sink;
  auto second = attach_while_serving(a, [&] { return ShmLink::attach(name); });
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(a.stats().peers_lost, 1u);
  EXPECT_EQ(a.stats().peers_attached, 2u);
  EXPECT_EQ((*second)->attacher_generation(), 2u);
  // Whatever the serving loop delivered before the second attached is gone; nothing stale
  // is left in either ring.
  Collect at_a, at_b;
  EXPECT_EQ(a.receive(kEpoch, at_a, 64), 0u);
  EXPECT_EQ((*second)->receive(kEpoch, at_b, 64), 0u);
  a.send(bytes_of("fresh"), kEpoch);
  EXPECT_EQ((*second)->receive(kEpoch, at_b, 64), 1u);
  EXPECT_EQ(at_b.frames.at(0), bytes_of("fresh"));
}

TEST(ShmLink, AttacherSeesTheCreatorGo) {
  const auto name = unique_name("creator-gone");
  auto creator = ShmLink::create(name);
  ASSERT_TRUE(creator);
  auto attacher = attach_while_serving(**creator, [&] { return ShmLink::attach(name); });
  ASSERT_TRUE(attacher);
  ShmLink& b = **attacher;
  creator->reset();
  pollfd p{b.poll_fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 1000), 1);  // the runtime would wake
  Collect sink;
  b.receive(kEpoch, sink, 64);
  EXPECT_EQ(b.peer_state(), PeerState::gone);
  EXPECT_FALSE(b.peer_alive());
  b.send(bytes_of("lost"), kEpoch);
  EXPECT_EQ(b.stats().send_dropped_no_peer, 1u);
}

}  // namespace
}  // namespace synack::link::shm
