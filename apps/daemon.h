// What the daemons (`crv collect`, `crv process`) share: SIGINT/SIGTERM as a
// stop request, waiting with a stop check, the host name, the metrics
// endpoint, the Kafka options from the configuration.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "apps/daemon_config.h"
#include "sinks/metrics/metrics.h"
#include "stream/kafka_transport.h"

namespace crv::app {

void InstallStopSignals();
bool StopRequested();
// Sleeps up to `d`, waking early on a stop request. Returns StopRequested().
bool WaitForStop(std::chrono::milliseconds d);
std::string HostName();
// Serves `metrics` on `listen` ("" : none), with basic auth when `auth_file`
// is given. Logs the URL.
Result<std::unique_ptr<MetricsServer>> ServeMetrics(Metrics& metrics, const std::string& listen,
                                                    const std::string& auth_file);
// Adds to `metrics` the Kafka delivery errors `t` reported since the last
// call (`*seen` keeps the count already added).
void CountDeliveryErrors(const FrameTransport& t, Metrics& metrics, uint64_t* seen);
// Creates the four topics of `k` that do not exist yet.
Status EnsureTopics(const KafkaSection& k);
KafkaOptions KafkaFor(const KafkaSection& k, const std::string& topic, const std::string& client_id);

}  // namespace crv::app
