#include "stream/inproc_transport.h"

#include <gtest/gtest.h>

#include <thread>

namespace crv {
namespace {

using std::chrono::milliseconds;

std::vector<uint8_t> Msg(uint32_t i) { return {uint8_t(i), uint8_t(i >> 8), uint8_t(i >> 16), uint8_t(i >> 24)}; }
uint32_t Num(const std::vector<uint8_t>& b) { return b[0] | b[1] << 8 | b[2] << 16 | uint32_t(b[3]) << 24; }

TEST(InProcTransportTest, SlowConsumerGetsEverythingInOrder) {
  InProcTransport t(8);
  constexpr uint32_t kN = 2000;
  std::thread producer([&] {
    for (uint32_t i = 0; i < kN; ++i) {
      ASSERT_TRUE(t.Publish(i % 2 ? "vm-b" : "vm-a", Msg(i), milliseconds(10000)).ok());
    }
    t.Close();
  });
  std::vector<uint32_t> got;
  for (;;) {
    auto m = t.Poll(milliseconds(1000));
    if (!m.ok()) {
      EXPECT_EQ(m.status().code(), StatusCode::kClosed);
      break;
    }
    if (!m->has_value()) continue;
    got.push_back(Num((*m)->payload));
    t.Commit(**m);
    if (got.size() % 100 == 0) std::this_thread::sleep_for(milliseconds(2));  // slow consumer
    EXPECT_LE(t.stats().queued, 8u);
  }
  producer.join();
  ASSERT_EQ(got.size(), kN);
  for (uint32_t i = 0; i < kN; ++i) ASSERT_EQ(got[i], i);
  auto s = t.stats();
  EXPECT_EQ(s.dropped, 0u);
  EXPECT_EQ(s.published, kN);
  EXPECT_EQ(s.committed, kN);
  EXPECT_GT(s.publish_blocked, 0u);  // backpressure happened, and nothing was lost
}

TEST(InProcTransportTest, FullQueueTimesOutWithoutDropping) {
  InProcTransport t(2);
  ASSERT_TRUE(t.Publish("vm", Msg(1), milliseconds(10)).ok());
  ASSERT_TRUE(t.Publish("vm", Msg(2), milliseconds(10)).ok());
  Status s = t.Publish("vm", Msg(3), milliseconds(20));
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(t.stats().publish_timeouts, 1u);
  EXPECT_EQ(t.stats().dropped, 0u);
  EXPECT_EQ(t.stats().queued, 2u);
}

TEST(InProcTransportTest, DropPoliciesAreCounted) {
  InProcTransport oldest(2, OverflowPolicy::kDropOldest);
  InProcTransport newest(2, OverflowPolicy::kDropNewest);
  for (uint32_t i = 0; i < 5; ++i) {
    ASSERT_TRUE(oldest.Publish("vm", Msg(i), milliseconds(0)).ok());
    ASSERT_TRUE(newest.Publish("vm", Msg(i), milliseconds(0)).ok());
  }
  EXPECT_EQ(oldest.stats().dropped, 3u);
  EXPECT_EQ(newest.stats().dropped, 3u);
  EXPECT_EQ(Num((*oldest.Poll(milliseconds(0)))->payload), 3u);
  EXPECT_EQ(Num((*newest.Poll(milliseconds(0)))->payload), 0u);
}

TEST(InProcTransportTest, CloseDrainsThenReportsClosed) {
  InProcTransport t(4);
  ASSERT_TRUE(t.Publish("vm", Msg(7), milliseconds(0)).ok());
  t.Close();
  EXPECT_EQ(t.Publish("vm", Msg(8), milliseconds(0)).code(), StatusCode::kClosed);
  auto m = t.Poll(milliseconds(0));
  ASSERT_TRUE(m.ok() && m->has_value());
  EXPECT_EQ(Num((*m)->payload), 7u);
  EXPECT_EQ(t.Poll(milliseconds(0)).status().code(), StatusCode::kClosed);
}

TEST(InProcTransportTest, PollTimesOutWhenEmpty) {
  InProcTransport t(4);
  auto m = t.Poll(milliseconds(5));
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(m->has_value());
}

}  // namespace
}  // namespace crv
