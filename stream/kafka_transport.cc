#include "stream/kafka_transport.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <chrono>

namespace crv {

struct KafkaTransport::Handles {
  rd_kafka_t* producer = nullptr;
  rd_kafka_t* consumer = nullptr;
};

namespace {

using Clock = std::chrono::steady_clock;

Status Set(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
  char err[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
    return InvalidArgument("Kafka property " + key + "=" + value + ": " + err);
  }
  return Status::Ok();
}

Status Configure(rd_kafka_conf_t* conf, const std::map<std::string, std::string>& defaults,
                 const std::map<std::string, std::string>& overrides) {
  for (const auto& [k, v] : defaults) CRV_RETURN_IF_ERROR(Set(conf, k, v));
  for (const auto& [k, v] : overrides) CRV_RETURN_IF_ERROR(Set(conf, k, v));
  return Status::Ok();
}

// Properties that belong to one side only draw a warning from librdkafka on
// the other; split the user's map by the usual prefixes.
bool ProducerOnly(const std::string& k) {
  return k == "linger.ms" || k == "compression.type" || k == "acks" || k == "enable.idempotence" ||
         k.rfind("queue.buffering", 0) == 0 || k.rfind("batch.", 0) == 0 || k == "message.timeout.ms" ||
         k == "retries" || k == "retry.backoff.ms" || k == "compression.level" || k == "partitioner";
}
bool ConsumerOnly(const std::string& k) {
  return k == "auto.offset.reset" || k.rfind("fetch.", 0) == 0 || k.rfind("session.", 0) == 0 ||
         k.rfind("heartbeat.", 0) == 0 || k == "max.poll.interval.ms" || k == "partition.assignment.strategy" ||
         k == "auto.commit.interval.ms" || k == "isolation.level" || k == "queued.min.messages";
}

}  // namespace

Status EnsureKafkaTopics(const std::string& brokers, const std::map<std::string, std::string>& properties,
                         const std::vector<std::string>& topics, int partitions, int replication_factor,
                         std::chrono::milliseconds timeout) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::map<std::string, std::string> props;
  for (const auto& [k, v] : properties) {
    if (!ProducerOnly(k) && !ConsumerOnly(k)) props[k] = v;
  }
  if (Status s = Configure(conf, {{"bootstrap.servers", brokers}, {"log_level", "3"}}, props); !s.ok()) {
    rd_kafka_conf_destroy(conf);
    return s;
  }
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return InvalidArgument(std::string("Kafka admin client: ") + err);
  }
  std::vector<rd_kafka_NewTopic_t*> news;
  for (const auto& t : topics) {
    news.push_back(rd_kafka_NewTopic_new(t.c_str(), partitions, replication_factor, err, sizeof err));
    if (news.back() == nullptr) {
      news.pop_back();
      for (auto* n : news) rd_kafka_NewTopic_destroy(n);
      rd_kafka_destroy(rk);
      return InvalidArgument("Kafka topic " + t + ": " + err);
    }
  }
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t* opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_request_timeout(opts, static_cast<int>(timeout.count()), err, sizeof err);
  rd_kafka_CreateTopics(rk, news.data(), news.size(), opts, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, static_cast<int>(timeout.count()) + 1000);
  Status out = Status::Ok();
  if (ev == nullptr) {
    out = Unavailable("Kafka at " + brokers + ": no answer to CreateTopics within " + std::to_string(timeout.count()) +
                      " ms");
  } else if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    out = Unavailable("Kafka at " + brokers + ": CreateTopics: " + rd_kafka_event_error_string(ev));
  } else {
    size_t n = 0;
    const rd_kafka_topic_result_t** res =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    for (size_t i = 0; i < n && out.ok(); ++i) {
      const rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[i]);
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        out = Unavailable("Kafka: cannot create topic " + std::string(rd_kafka_topic_result_name(res[i])) + ": " +
                          rd_kafka_err2str(e));
      }
    }
  }
  if (ev != nullptr) rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(opts);
  rd_kafka_queue_destroy(q);
  for (auto* n : news) rd_kafka_NewTopic_destroy(n);
  rd_kafka_destroy(rk);
  return out;
}

KafkaTransport::KafkaTransport(KafkaOptions options) : options_(std::move(options)), h_(std::make_unique<Handles>()) {}

Result<std::unique_ptr<KafkaTransport>> KafkaTransport::Create(const KafkaOptions& o) {
  if (o.brokers.empty()) return InvalidArgument("Kafka: no brokers given");
  if (o.topic.empty()) return InvalidArgument("Kafka: no topic given");
  std::unique_ptr<KafkaTransport> t(new KafkaTransport(o));
  std::map<std::string, std::string> producer_props, consumer_props;
  for (const auto& [k, v] : o.properties) {
    if (!ConsumerOnly(k)) producer_props[k] = v;
    if (!ProducerOnly(k)) consumer_props[k] = v;
  }
  char err[512];
  if (o.produce) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    Status s = Configure(conf,
                         {{"bootstrap.servers", o.brokers},
                          {"client.id", o.client_id},
                          {"enable.idempotence", "true"},
                          {"acks", "all"},
                          {"compression.type", "lz4"},
                          {"linger.ms", "5"},
                          {"batch.num.messages", "10000"},
                          {"queue.buffering.max.messages", "100000"},
                          {"log_level", "3"}},
                         producer_props);
    if (!s.ok()) {
      rd_kafka_conf_destroy(conf);
      return s;
    }
    rd_kafka_conf_set_opaque(conf, t.get());
    rd_kafka_conf_set_dr_msg_cb(
        conf, [](rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque) { OnDelivery(rk, m, opaque); });
    t->h_->producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (t->h_->producer == nullptr) {
      rd_kafka_conf_destroy(conf);
      return InvalidArgument(std::string("Kafka producer: ") + err);
    }
    t->poller_ = std::thread([raw = t.get()] {
      while (!raw->stop_.load()) rd_kafka_poll(raw->h_->producer, 100);
    });
  }
  if (!o.group_id.empty()) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    Status s = Configure(conf,
                         {{"bootstrap.servers", o.brokers},
                          {"client.id", o.client_id},
                          {"group.id", o.group_id},
                          {"enable.auto.offset.store", "false"},
                          {"enable.auto.commit", "true"},
                          {"auto.commit.interval.ms", "1000"},
                          {"auto.offset.reset", "earliest"},
                          {"log_level", "3"}},
                         consumer_props);
    if (!s.ok()) {
      rd_kafka_conf_destroy(conf);
      return s;
    }
    rd_kafka_conf_set_opaque(conf, t.get());
    rd_kafka_conf_set_rebalance_cb(
        conf, [](rd_kafka_t* rk, rd_kafka_resp_err_t e, rd_kafka_topic_partition_list_t* parts, void* opaque) {
          OnRebalance(rk, static_cast<int>(e), parts, opaque);
        });
    t->h_->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (t->h_->consumer == nullptr) {
      rd_kafka_conf_destroy(conf);
      return InvalidArgument(std::string("Kafka consumer: ") + err);
    }
    rd_kafka_poll_set_consumer(t->h_->consumer);
    rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, o.topic.c_str(), RD_KAFKA_PARTITION_UA);
    const rd_kafka_resp_err_t e = rd_kafka_subscribe(t->h_->consumer, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Unavailable("Kafka: cannot subscribe to " + o.topic + ": " + rd_kafka_err2str(e));
    }
  }
  return t;
}

KafkaTransport::~KafkaTransport() {
  Close();
  if (h_->consumer != nullptr) rd_kafka_destroy(h_->consumer);
  if (h_->producer != nullptr) rd_kafka_destroy(h_->producer);
}

void KafkaTransport::OnDelivery(void*, const void* msg, void* opaque) {
  auto* self = static_cast<KafkaTransport*>(opaque);
  const auto* m = static_cast<const rd_kafka_message_t*>(msg);
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    self->delivery_errors_.fetch_add(1);
    spdlog::warn("Kafka: a message to {} was not delivered: {}", self->options_.topic, rd_kafka_err2str(m->err));
  } else {
    self->delivered_.fetch_add(1);
  }
}

void KafkaTransport::OnRebalance(void* rk_, int err, void* parts_, void* opaque) {
  auto* self = static_cast<KafkaTransport*>(opaque);
  auto* rk = static_cast<rd_kafka_t*>(rk_);
  auto* parts = static_cast<rd_kafka_topic_partition_list_t*>(parts_);
  RebalanceEvent ev;
  for (int i = 0; i < parts->cnt; ++i) ev.partitions.push_back(parts->elems[i].partition);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    rd_kafka_assign(rk, parts);
    {
      std::lock_guard lock(self->assignment_mu_);
      self->assignment_ = ev.partitions;
    }
    ev.assigned = true;
    if (self->listener_) self->listener_(ev);
  } else {
    // Revoked: the owner finishes with these partitions before they go.
    if (self->listener_) self->listener_(ev);
    rd_kafka_assign(rk, nullptr);
    std::lock_guard lock(self->assignment_mu_);
    self->assignment_.clear();
  }
}

std::vector<int32_t> KafkaTransport::assignment() const {
  std::lock_guard lock(assignment_mu_);
  return assignment_;
}

Status KafkaTransport::Publish(std::string_view key, std::vector<uint8_t> payload, std::chrono::milliseconds timeout) {
  if (h_->producer == nullptr) return Internal("Kafka transport on " + options_.topic + " does not produce");
  if (closed_.load()) return Closed("Kafka transport on " + options_.topic + " is closed");
  const auto deadline = Clock::now() + timeout;
  bool waited = false;
  for (;;) {
    const rd_kafka_resp_err_t e = rd_kafka_producev(h_->producer, RD_KAFKA_V_TOPIC(options_.topic.c_str()),
                                                    RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
                                                    RD_KAFKA_V_VALUE(payload.data(), payload.size()),
                                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
      published_.fetch_add(1);
      return Status::Ok();
    }
    if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      return Unavailable("Kafka: cannot produce to " + options_.topic + ": " + rd_kafka_err2str(e));
    }
    // The local queue is full: backpressure on the caller (the sampler).
    if (!waited) blocked_.fetch_add(1);
    waited = true;
    if (Clock::now() >= deadline) {
      timeouts_.fetch_add(1);
      return ResourceExhausted("Kafka: the local queue for " + options_.topic + " stayed full for " +
                               std::to_string(timeout.count()) + " ms (brokers unreachable or too slow)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

Result<std::optional<StreamMessage>> KafkaTransport::Poll(std::chrono::milliseconds timeout) {
  if (h_->consumer == nullptr) return Internal("Kafka transport on " + options_.topic + " does not consume");
  if (closed_.load()) return Closed("Kafka transport on " + options_.topic + " is closed");
  rd_kafka_message_t* m = rd_kafka_consumer_poll(h_->consumer, static_cast<int>(timeout.count()));
  if (m == nullptr) return std::optional<StreamMessage>();
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      consume_errors_.fetch_add(1);
      spdlog::warn("Kafka: consuming {}: {}", options_.topic, rd_kafka_message_errstr(m));
    }
    rd_kafka_message_destroy(m);
    return std::optional<StreamMessage>();
  }
  StreamMessage out;
  if (m->key != nullptr) out.key.assign(static_cast<const char*>(m->key), m->key_len);
  const auto* p = static_cast<const uint8_t*>(m->payload);
  if (p != nullptr) out.payload.assign(p, p + m->len);
  out.offset = static_cast<uint64_t>(m->offset);
  out.partition = m->partition;
  rd_kafka_message_destroy(m);
  consumed_.fetch_add(1);
  return std::optional<StreamMessage>(std::move(out));
}

void KafkaTransport::Commit(const StreamMessage& message) {
  if (h_->consumer == nullptr) return;
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, options_.topic.c_str(), message.partition)->offset =
      static_cast<int64_t>(message.offset) + 1;
  // Fails for a partition that was revoked meanwhile; its new owner
  // re-reads from the last stored offset (at-least-once).
  if (rd_kafka_offsets_store(h_->consumer, list) == RD_KAFKA_RESP_ERR_NO_ERROR &&
      list->elems[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    committed_.fetch_add(1);
  }
  rd_kafka_topic_partition_list_destroy(list);
}

Status KafkaTransport::Flush(std::chrono::milliseconds timeout) {
  if (h_->producer == nullptr) return Status::Ok();
  const rd_kafka_resp_err_t e = rd_kafka_flush(h_->producer, static_cast<int>(timeout.count()));
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return DeadlineExceeded("Kafka: " + std::to_string(rd_kafka_outq_len(h_->producer)) + " message(s) to " +
                            options_.topic + " still undelivered after " + std::to_string(timeout.count()) + " ms");
  }
  return Status::Ok();
}

void KafkaTransport::Close() {
  if (closed_.exchange(true)) return;
  if (h_->producer != nullptr) {
    if (Status s = Flush(options_.flush_timeout); !s.ok()) spdlog::error("{}", s.message());
    stop_.store(true);
    if (poller_.joinable()) poller_.join();
  }
  if (h_->consumer != nullptr) {
    // Commits the stored offsets and leaves the group (revoking first).
    rd_kafka_consumer_close(h_->consumer);
  }
}

TransportStats KafkaTransport::stats() const {
  TransportStats s;
  s.published = published_.load();
  s.delivered = h_->producer != nullptr ? delivered_.load() : consumed_.load();
  s.committed = committed_.load();
  s.publish_blocked = blocked_.load();
  s.publish_timeouts = timeouts_.load();
  s.delivery_errors = delivery_errors_.load();
  s.consume_errors = consume_errors_.load();
  if (h_->producer != nullptr) s.queued = static_cast<uint64_t>(rd_kafka_outq_len(h_->producer));
  return s;
}

}  // namespace crv
