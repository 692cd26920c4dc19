// KafkaTransport: FrameTransport over Apache Kafka (librdkafka, C API).
//
// Producer side: messages keyed by VM id (the default partitioner keeps one
// key on one partition, so each VM stays ordered); idempotent, acks=all, lz4,
// linger 5 ms by default. A full local queue is backpressure: Publish polls
// and retries until its time-out, then fails with kResourceExhausted
// (counted in publish_timeouts); nothing is dropped silently. Delivery
// reports are tracked: delivered, delivery_errors (a message librdkafka gave
// up on, after message.timeout.ms). Close() flushes and reports what could
// not be delivered.
//
// Consumer side (when group_id is set): one consumer in a consumer group,
// message by message (the 2.0.x batch-consume calls can lose or duplicate
// messages across rebalances, FIELD-NOTES). At-least-once:
// enable.auto.offset.store=false, and Commit(msg) stores offset+1 for the
// message's partition; stored offsets are committed in the background and on
// Close(). Rebalances reach the listener on the polling thread before a
// revoked partition is given up and after an assigned one is taken.
//
// Thread-safety: Publish from any thread; Poll/Commit from one thread.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "stream/transport.h"

namespace crv {

struct KafkaOptions {
  std::string brokers;   // bootstrap.servers, e.g. 127.0.0.1:9092
  std::string topic;     // one topic per transport
  std::string group_id;  // set: this transport consumes, in this group
  std::string client_id = "crv";
  bool produce = true;
  // Any librdkafka property, applied after crv's defaults (e.g. linger.ms,
  // compression.type, queue.buffering.max.messages, security.protocol).
  std::map<std::string, std::string> properties;
  std::chrono::milliseconds flush_timeout{10000};
};

struct RebalanceEvent {
  bool assigned = false;  // false: revoked
  std::vector<int32_t> partitions;
};

// Creates each topic that does not exist yet (`partitions`, and
// `replication_factor` or the broker's default when -1), so consumers that
// subscribe before the first message find it. Existing topics are left alone.
Status EnsureKafkaTopics(const std::string& brokers, const std::map<std::string, std::string>& properties,
                         const std::vector<std::string>& topics, int partitions, int replication_factor = -1,
                         std::chrono::milliseconds timeout = std::chrono::seconds(15));

class KafkaTransport final : public FrameTransport {
 public:
  static Result<std::unique_ptr<KafkaTransport>> Create(const KafkaOptions& options);
  ~KafkaTransport() override;

  Status Publish(std::string_view key, std::vector<uint8_t> payload, std::chrono::milliseconds timeout) override;
  Result<std::optional<StreamMessage>> Poll(std::chrono::milliseconds timeout) override;
  void Commit(const StreamMessage& message) override;
  void Close() override;
  TransportStats stats() const override;

  // Waits until every message published so far has a delivery report.
  Status Flush(std::chrono::milliseconds timeout);
  void SetRebalanceListener(std::function<void(const RebalanceEvent&)> listener) { listener_ = std::move(listener); }
  // Partitions this consumer holds now.
  std::vector<int32_t> assignment() const;
  const std::string& topic() const { return options_.topic; }

  struct Handles;

 private:
  explicit KafkaTransport(KafkaOptions options);
  static void OnDelivery(void* rk, const void* msg, void* opaque);
  static void OnRebalance(void* rk, int err, void* partitions, void* opaque);

  KafkaOptions options_;
  std::unique_ptr<Handles> h_;
  std::function<void(const RebalanceEvent&)> listener_;
  std::thread poller_;  // serves producer delivery reports
  std::atomic<bool> stop_{false}, closed_{false};
  mutable std::mutex assignment_mu_;
  std::vector<int32_t> assignment_;
  std::atomic<uint64_t> published_{0}, delivered_{0}, delivery_errors_{0}, committed_{0}, blocked_{0}, timeouts_{0},
      consumed_{0}, consume_errors_{0};
};

}  // namespace crv
