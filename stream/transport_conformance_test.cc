// The transport conformance suite on the in-process queue and on Kafka
// (librdkafka's mock cluster), and Kafka fault injection on the mock cluster.
#include "stream/transport_conformance.h"

#include <gmock/gmock.h>

#include <set>

#include "core/features.h"
#include "stream/inproc_transport.h"
#if CRV_WITH_KAFKA
#include "stream/kafka_mock.h"
#include "stream/kafka_transport.h"
#endif

namespace crv::testing {
namespace {

TransportFactory InProc() {
  return {"inproc",
          [](const std::string&) {
            auto t = std::make_shared<InProcTransport>(100000);
            return TransportUnderTest{t, t};
          },
          [](const std::string&, size_t capacity) { return std::make_shared<InProcTransport>(capacity); }};
}

#if CRV_WITH_KAFKA

KafkaMockCluster& Mock() {
  static KafkaMockCluster* mock = new KafkaMockCluster(1);  // lives for the whole test binary
  return *mock;
}

std::shared_ptr<KafkaTransport> Kafka(KafkaOptions o) {
  auto t = KafkaTransport::Create(o);
  EXPECT_TRUE(t.ok()) << t.status().message();
  return std::shared_ptr<KafkaTransport>(std::move(*t));
}

// A producer that cannot reach any broker: its local queue fills.
std::shared_ptr<FrameTransport> KafkaStalled(const std::string& topic, size_t capacity) {
  KafkaOptions o;
  o.brokers = "127.0.0.1:1";
  o.topic = topic;
  o.properties = {{"queue.buffering.max.messages", std::to_string(capacity)}, {"message.timeout.ms", "300000"}};
  o.flush_timeout = std::chrono::milliseconds(100);
  return Kafka(o);
}

TransportFactory KafkaOnMock() {
  return {"kafka_mock",
          [](const std::string& topic) {
            Mock().CreateTopic(topic);
            KafkaOptions p;
            p.brokers = Mock().bootstraps();
            p.topic = topic;
            KafkaOptions c = p;
            c.produce = false;
            c.group_id = topic + "-group";
            return TransportUnderTest{Kafka(p), Kafka(c)};
          },
          KafkaStalled};
}

INSTANTIATE_TEST_SUITE_P(Transports, TransportConformance, ::testing::Values(InProc(), KafkaOnMock()),
                         [](const auto& info) { return info.param.name; });

// --- fault injection on the mock cluster --------------------------------------

std::set<uint32_t> Sequences(const std::vector<StreamMessage>& got) {
  std::set<uint32_t> s;
  for (const auto& m : got) s.insert(SeqOf(m.payload));
  return s;
}

TEST(KafkaFaults, ProduceErrorsAreRetriedAndEveryFrameArrivesOnce) {
  const std::string topic = UniqueTopic("produce-errors");
  Mock().CreateTopic(topic);
  // The next 12 produce requests fail with retriable errors.
  rd_kafka_mock_push_request_errors(Mock().get(), 0 /* Produce */, 12, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                    RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                                    RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                    RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                                    RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                    RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                                    RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE);
  KafkaOptions p;
  p.brokers = Mock().bootstraps();
  p.topic = topic;
  p.properties = {{"retry.backoff.ms", "10"}};
  auto producer = Kafka(p);
  constexpr uint32_t kN = 2000;
  for (uint32_t i = 0; i < kN; ++i)
    ASSERT_TRUE(producer->Publish("vm", Payload("vm", i), std::chrono::seconds(5)).ok());
  ASSERT_TRUE(producer->Flush(std::chrono::seconds(30)).ok());
  EXPECT_EQ(producer->stats().delivered, kN);
  EXPECT_EQ(producer->stats().delivery_errors, 0u);

  KafkaOptions c = p;
  c.produce = false;
  c.group_id = topic + "-g";
  auto consumer = Kafka(c);
  auto got = Drain(*consumer, kN, std::chrono::seconds(60));
  ASSERT_EQ(got.size(), kN) << "lost or duplicated frames";
  const auto seqs = Sequences(got);
  EXPECT_EQ(seqs.size(), kN);
  EXPECT_EQ(*seqs.rbegin(), kN - 1);
  for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(SeqOf(got[i].payload), i) << "order";
}

TEST(KafkaFaults, AllBrokersDownThenUpBoundedMemoryCountedBackpressureThenDelivery) {
  KafkaMockCluster mock(1);
  const std::string topic = UniqueTopic("down-up");
  mock.CreateTopic(topic);
  KafkaOptions p;
  p.brokers = mock.bootstraps();
  p.topic = topic;
  p.properties = {{"queue.buffering.max.messages", "500"}, {"reconnect.backoff.max.ms", "200"}};
  auto producer = Kafka(p);
  ASSERT_TRUE(producer->Publish("vm", Payload("vm", 0), std::chrono::seconds(5)).ok());
  ASSERT_TRUE(producer->Flush(std::chrono::seconds(10)).ok());

  rd_kafka_mock_broker_set_down(mock.get(), 1);
  uint32_t accepted = 1, refused = 0;
  uint64_t max_queued = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  uint32_t seq = 1;
  while (std::chrono::steady_clock::now() < until) {
    Status s = producer->Publish("vm", Payload("vm", seq), std::chrono::milliseconds(20));
    if (s.ok()) {
      ++accepted;
      ++seq;  // a refused frame is retried with the same sequence number
    } else {
      ASSERT_EQ(s.code(), StatusCode::kResourceExhausted) << s.message();
      ++refused;
    }
    max_queued = std::max(max_queued, producer->stats().queued);
  }
  EXPECT_GT(refused, 0u) << "no backpressure while the broker was down";
  // rd_kafka_outq_len counts queued messages plus requests and events in
  // flight, so it may exceed the 500-message bound by a few (501 seen).
  EXPECT_LE(max_queued, 510u) << "the local queue grew past its bound";
  EXPECT_EQ(producer->stats().publish_timeouts, refused);
  EXPECT_LE(accepted, 502u);

  rd_kafka_mock_broker_set_up(mock.get(), 1);
  ASSERT_TRUE(producer->Flush(std::chrono::seconds(30)).ok());
  EXPECT_EQ(producer->stats().delivered, accepted);
  EXPECT_EQ(producer->stats().delivery_errors, 0u);
  ASSERT_TRUE(producer->Publish("vm", Payload("vm", seq), std::chrono::seconds(5)).ok());
  ++accepted;
  ASSERT_TRUE(producer->Flush(std::chrono::seconds(10)).ok());

  KafkaOptions c = p;
  c.produce = false;
  c.group_id = topic + "-g";
  auto consumer = Kafka(c);
  auto got = Drain(*consumer, accepted, std::chrono::seconds(60));
  ASSERT_EQ(got.size(), accepted);
  for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(SeqOf(got[i].payload), i);
}

TEST(KafkaFaults, UncommittedMessagesAreRedeliveredToTheNextGroupMember) {
  const std::string topic = UniqueTopic("redeliver");
  Mock().CreateTopic(topic, 1);
  KafkaOptions p;
  p.brokers = Mock().bootstraps();
  p.topic = topic;
  auto producer = Kafka(p);
  for (uint32_t i = 0; i < 50; ++i)
    ASSERT_TRUE(producer->Publish("vm", Payload("vm", i), std::chrono::seconds(5)).ok());
  ASSERT_TRUE(producer->Flush(std::chrono::seconds(10)).ok());
  KafkaOptions c = p;
  c.produce = false;
  c.group_id = topic + "-g";
  c.properties = {{"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "500"}};
  {
    auto first = Kafka(c);
    // Processes (commits) 20, reads 10 more without finishing them, then leaves.
    auto got = Drain(*first, 20, std::chrono::seconds(30));
    ASSERT_EQ(got.size(), 20u);
    int read = 0;
    while (read < 10) {
      auto m = first->Poll(std::chrono::milliseconds(200));
      ASSERT_TRUE(m.ok());
      if (m->has_value()) ++read;
    }
    first->Close();
  }
  auto second = Kafka(c);
  auto rest = Drain(*second, 30, std::chrono::seconds(30));
  ASSERT_EQ(rest.size(), 30u);
  EXPECT_EQ(SeqOf(rest.front().payload), 20u) << "resumes at the first unprocessed message";
}

TEST(KafkaTransport, BadConfigurationNamesTheProperty) {
  KafkaOptions o;
  o.brokers = "127.0.0.1:1";
  o.topic = "t";
  o.properties = {{"linger.ms", "banana"}};
  auto t = KafkaTransport::Create(o);
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), ::testing::HasSubstr("linger.ms"));
  o.properties.clear();
  o.topic.clear();
  EXPECT_FALSE(KafkaTransport::Create(o).ok());
}

#else

INSTANTIATE_TEST_SUITE_P(Transports, TransportConformance, ::testing::Values(InProc()),
                         [](const auto& info) { return info.param.name; });

#endif

}  // namespace
}  // namespace crv::testing
