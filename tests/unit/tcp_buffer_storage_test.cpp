// A connection's send and receive buffers hold storage only while they hold data: an idle
// established connection holds none, data arriving or written takes a block from the
// stack's pool, and the block goes back when the application has read it or the peer has
// acknowledged it (issue 9's memory target).
#include <gtest/gtest.h>

#include <array>
#include <string_view>

#include "tcp/connection.hpp"

namespace synack::tcp {
namespace {

const FourTuple kTuple{{Ipv4Address(198, 18, 0, 2), 40000}, {Ipv4Address(198, 18, 0, 1), 80}};
constexpr std::uint32_t kPeerIss = 5000;

wire::Bytes bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};  // NOLINT: test data
}

struct BufferStorage : ::testing::Test {
  Counters counters;
  BufferBudget memory;
  BufferPool pool;
  Context ctx{counters, nullptr, &memory, &pool};
  Instant now{};
  Connection c = Connection::active_open(ctx, Config{}, kTuple, Seq(1000), now);

  // The handshake, by hand: our SYN out, the peer's SYN,ACK in, our ACK out.
  void SetUp() override {
    OutSegment out;
    ASSERT_TRUE(c.next_segment(now, out));
    Segment syn_ack{.seq = Seq(kPeerIss),
                    .ack = Seq(1001),
                    .flags = TcpFlags::syn | TcpFlags::ack,
                    .window = 65535};
    c.on_segment(syn_ack, now);
    ASSERT_EQ(c.state(), State::Established);
    while (c.next_segment(now, out)) {
    }
  }
  void receive(std::uint32_t offset, std::string_view data) {
    Segment seg{.seq = Seq(kPeerIss + 1 + offset),
                .ack = Seq(1001),
                .flags = TcpFlags::ack,
                .window = 65535,
                .payload = bytes(data)};
    c.on_segment(seg, now);
  }
  std::size_t read(std::size_t n) {
    std::array<std::uint8_t, 64> buf{};
    std::error_code ec;
    return c.read(std::span(buf).first(n), ec);
  }
  bool holds_storage() const {
    return c.send_buffer().allocated() || c.receive_buffer().allocated();
  }
};

TEST_F(BufferStorage, AnIdleEstablishedConnectionHoldsNone) {
  EXPECT_FALSE(holds_storage());
  EXPECT_EQ(c.send_buffer().capacity(), Config{}.send_buffer) << "the size is kept for later";
  EXPECT_EQ(pool.kept_bytes(), 0u);
}

TEST_F(BufferStorage, ReceivedDataHoldsABlockUntilItIsRead) {
  receive(0, "hello");
  EXPECT_TRUE(c.receive_buffer().allocated());
  EXPECT_EQ(read(3), 3u);
  EXPECT_TRUE(c.receive_buffer().allocated()) << "two bytes unread";
  EXPECT_EQ(read(64), 2u);
  EXPECT_FALSE(holds_storage());
  EXPECT_EQ(pool.kept_bytes(), c.receive_buffer().capacity()) << "back in the pool";
  EXPECT_EQ(memory.used, 0u);
}

TEST_F(BufferStorage, OutOfOrderDataHoldsABlockUntilTheHoleFillsAndAllIsRead) {
  receive(5, "world");
  EXPECT_TRUE(c.receive_buffer().allocated()) << "held in place past the hole";
  EXPECT_EQ(c.bytes_readable(), 0u);
  receive(0, "hello");
  EXPECT_EQ(c.bytes_readable(), 10u);
  EXPECT_EQ(read(64), 10u);
  EXPECT_FALSE(holds_storage());
}

TEST_F(BufferStorage, WrittenDataHoldsABlockUntilItIsAcknowledged) {
  std::error_code ec;
  EXPECT_EQ(c.write(bytes("request"), ec), 7u);
  EXPECT_TRUE(c.send_buffer().allocated());
  OutSegment out;
  ASSERT_TRUE(c.next_segment(now, out));
  EXPECT_EQ(out.payload_length, 7u);
  EXPECT_TRUE(c.send_buffer().allocated()) << "sent, not yet acknowledged: kept to resend";
  c.on_segment(
      {.seq = Seq(kPeerIss + 1), .ack = Seq(1008), .flags = TcpFlags::ack, .window = 65535}, now);
  EXPECT_FALSE(holds_storage());
  EXPECT_EQ(c.write(bytes("next"), ec), 4u);
  EXPECT_EQ(pool.kept_bytes(), 0u) << "the block came from the pool";
}

}  // namespace
}  // namespace synack::tcp
