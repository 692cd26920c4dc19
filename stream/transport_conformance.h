// The FrameTransport conformance suite: one set of tests that every
// transport passes. Instantiated for the in-process queue and Kafka on
// librdkafka's mock cluster (unit tests), and for Kafka on a real broker
// (tests/integration/kafka_test.cc).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include "stream/transport.h"

namespace crv::testing {

struct TransportUnderTest {
  std::shared_ptr<FrameTransport> producer, consumer;  // may be one object
};

struct TransportFactory {
  std::string name;
  // A fresh producer/consumer pair on a fresh topic.
  std::function<TransportUnderTest(const std::string& topic)> make;
  // A producer whose messages cannot drain (no consumer / no broker), with
  // room for about `capacity` messages.
  std::function<std::shared_ptr<FrameTransport>(const std::string& topic, size_t capacity)> stalled;
};

inline std::string UniqueTopic(const std::string& test) {
  static int n = 0;
  return "crv-conf-" + test + "-" + std::to_string(getpid()) + "-" + std::to_string(++n);
}

inline std::vector<uint8_t> Payload(const std::string& key, uint32_t seq, size_t size = 16) {
  std::vector<uint8_t> p(std::max<size_t>(size, 8 + key.size()), 0);
  std::memcpy(p.data(), &seq, 4);
  const uint32_t klen = static_cast<uint32_t>(key.size());
  std::memcpy(p.data() + 4, &klen, 4);
  std::memcpy(p.data() + 8, key.data(), key.size());
  return p;
}

inline uint32_t SeqOf(const std::vector<uint8_t>& p) {
  uint32_t s = 0;
  std::memcpy(&s, p.data(), 4);
  return s;
}

// Polls until `want` messages arrived or the deadline passed.
inline std::vector<StreamMessage> Drain(FrameTransport& t, size_t want, std::chrono::seconds deadline_s) {
  std::vector<StreamMessage> got;
  const auto deadline = std::chrono::steady_clock::now() + deadline_s;
  while (got.size() < want && std::chrono::steady_clock::now() < deadline) {
    auto m = t.Poll(std::chrono::milliseconds(100));
    if (!m.ok()) break;
    if (m->has_value()) {
      t.Commit(**m);
      got.push_back(std::move(**m));
    }
  }
  return got;
}

class TransportConformance : public ::testing::TestWithParam<TransportFactory> {};

TEST_P(TransportConformance, EveryKeyArrivesInOrderExactlyOnce) {
  auto t = GetParam().make(UniqueTopic("order"));
  const std::vector<std::string> keys = {"vm-a", "vm-b", "vm-c"};
  constexpr uint32_t kPerKey = 300;
  for (uint32_t i = 0; i < kPerKey; ++i) {
    for (const auto& k : keys) ASSERT_TRUE(t.producer->Publish(k, Payload(k, i), std::chrono::seconds(5)).ok());
  }
  auto got = Drain(*t.consumer, kPerKey * keys.size(), std::chrono::seconds(60));
  ASSERT_EQ(got.size(), kPerKey * keys.size());
  std::map<std::string, uint32_t> next;
  for (const auto& m : got) {
    ASSERT_EQ(m.payload.size(), 16u);
    EXPECT_EQ(SeqOf(m.payload), next[m.key]) << m.key;
    next[m.key] = SeqOf(m.payload) + 1;
  }
  for (const auto& k : keys) EXPECT_EQ(next[k], kPerKey) << k;
  // Nothing more (no duplicates).
  EXPECT_TRUE(Drain(*t.consumer, 1, std::chrono::seconds(1)).empty());
  EXPECT_EQ(t.producer->stats().published, kPerKey * keys.size());
}

TEST_P(TransportConformance, PayloadsRoundTripByteForByte) {
  auto t = GetParam().make(UniqueTopic("payload"));
  std::mt19937 rng(7);
  std::vector<std::vector<uint8_t>> sent;
  for (size_t size : {1u, 100u, 4096u, 65536u, 400000u}) {
    std::vector<uint8_t> p(size);
    for (auto& b : p) b = static_cast<uint8_t>(rng());
    ASSERT_TRUE(t.producer->Publish("vm", p, std::chrono::seconds(5)).ok());
    sent.push_back(std::move(p));
  }
  auto got = Drain(*t.consumer, sent.size(), std::chrono::seconds(60));
  ASSERT_EQ(got.size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(got[i].key, "vm");
    EXPECT_TRUE(got[i].payload == sent[i]) << "message " << i << " of " << sent[i].size() << " bytes";
  }
}

TEST_P(TransportConformance, PollWithNothingQueuedTimesOut) {
  auto t = GetParam().make(UniqueTopic("empty"));
  const auto t0 = std::chrono::steady_clock::now();
  auto m = t.consumer->Poll(std::chrono::milliseconds(200));
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(m->has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

TEST_P(TransportConformance, AFullTransportIsBackpressureNeverASilentDrop) {
  auto p = GetParam().stalled(UniqueTopic("full"), 4);
  Status last = Status::Ok();
  int accepted = 0;
  for (int i = 0; i < 200 && last.ok(); ++i) {
    last = p->Publish("vm", Payload("vm", static_cast<uint32_t>(i)), std::chrono::milliseconds(50));
    if (last.ok()) ++accepted;
  }
  ASSERT_FALSE(last.ok()) << "the transport never pushed back";
  EXPECT_EQ(last.code(), StatusCode::kResourceExhausted) << last.message();
  const TransportStats s = p->stats();
  EXPECT_EQ(s.dropped, 0u);
  EXPECT_GE(s.publish_timeouts, 1u);
  EXPECT_GE(s.publish_blocked, 1u);
  EXPECT_EQ(s.published, static_cast<uint64_t>(accepted));
}

TEST_P(TransportConformance, CloseDeliversEverythingPublishedBefore) {
  auto t = GetParam().make(UniqueTopic("close"));
  for (uint32_t i = 0; i < 100; ++i)
    ASSERT_TRUE(t.producer->Publish("vm", Payload("vm", i), std::chrono::seconds(5)).ok());
  t.producer->Close();  // in-process: the consumer drains, then sees kClosed
  auto got = Drain(*t.consumer, 100, std::chrono::seconds(60));
  ASSERT_EQ(got.size(), 100u);
  EXPECT_EQ(SeqOf(got.back().payload), 99u);
}

}  // namespace crv::testing
