// librdkafka's in-process mock cluster, for hermetic Kafka tests and fault
// injection (produce errors, brokers down and up). Not for production.
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <string>

namespace crv::testing {

class KafkaMockCluster {
 public:
  explicit KafkaMockCluster(int brokers = 1) {
    char err[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    mc_ = rd_kafka_mock_cluster_new(rk_, brokers);
    bootstraps_ = rd_kafka_mock_cluster_bootstraps(mc_);
  }
  ~KafkaMockCluster() {
    rd_kafka_mock_cluster_destroy(mc_);
    rd_kafka_destroy(rk_);
  }
  KafkaMockCluster(const KafkaMockCluster&) = delete;
  KafkaMockCluster& operator=(const KafkaMockCluster&) = delete;

  const std::string& bootstraps() const { return bootstraps_; }
  rd_kafka_mock_cluster_t* get() { return mc_; }
  void CreateTopic(const std::string& topic, int partitions = 4) {
    rd_kafka_mock_topic_create(mc_, topic.c_str(), partitions, 1);
  }

 private:
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_mock_cluster_t* mc_ = nullptr;
  std::string bootstraps_;
};

}  // namespace crv::testing
