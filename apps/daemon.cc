#include "apps/daemon.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace crv::app {
namespace {
std::atomic<bool> g_stop{false};
void OnStop(int) { g_stop.store(true); }
}  // namespace

void InstallStopSignals() {
  struct sigaction sa {};
  sa.sa_handler = OnStop;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

bool StopRequested() { return g_stop.load(); }

bool WaitForStop(std::chrono::milliseconds d) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (!g_stop.load() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(d, std::chrono::milliseconds(50)));
  }
  return g_stop.load();
}

std::string HostName() {
  char buf[256] = {0};
  gethostname(buf, sizeof(buf) - 1);
  return buf;
}

Result<std::unique_ptr<MetricsServer>> ServeMetrics(Metrics& metrics, const std::string& listen,
                                                    const std::string& auth_file) {
  if (listen.empty()) return std::unique_ptr<MetricsServer>();
  MetricsServerOptions mo;
  mo.listen = listen;
  if (!auth_file.empty()) CRV_RETURN_IF_ERROR(LoadBasicAuthFile(auth_file, &mo));
  CRV_ASSIGN_OR_RETURN(auto server, MetricsServer::Start(metrics, mo));
  spdlog::info("metrics: {}", server->url());
  return server;
}

void CountDeliveryErrors(const FrameTransport& t, Metrics& metrics, uint64_t* seen) {
  const uint64_t now = t.stats().delivery_errors;
  if (now > *seen) metrics.KafkaDeliveryErrors(now - *seen);
  *seen = now;
}

Status EnsureTopics(const KafkaSection& k) {
  return EnsureKafkaTopics(k.brokers, k.properties, {k.frames_topic, k.states_topic, k.actions_topic, k.results_topic},
                           k.partitions, k.replication_factor);
}

KafkaOptions KafkaFor(const KafkaSection& k, const std::string& topic, const std::string& client_id) {
  KafkaOptions o;
  o.brokers = k.brokers;
  o.topic = topic;
  o.client_id = client_id;
  o.properties = k.properties;
  return o;
}

}  // namespace crv::app
