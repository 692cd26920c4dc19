// Metrics in a build without prometheus-cpp: updates do nothing, and asking
// for the exposer says why there is none.
#include "sinks/metrics/metrics.h"

namespace crv {

struct Metrics::Impl {};
Metrics::Metrics() : impl_(std::make_unique<Impl>()) {}
Metrics::~Metrics() = default;
void Metrics::FramesSampled(uint64_t) {}
void Metrics::TicksMissed(uint64_t) {}
void Metrics::SnapshotErrors(uint64_t) {}
void Metrics::FramesPublished(uint64_t) {}
void Metrics::FramesConsumed(uint64_t) {}
void Metrics::BatchesInvalid(uint64_t) {}
void Metrics::FramesDropped(std::string_view, uint64_t) {}
void Metrics::PipelineLag(double) {}
void Metrics::LastFrameAt(int64_t) {}
void Metrics::KafkaDeliveryErrors(uint64_t) {}
void Metrics::Watching(const std::string&) {}
void Metrics::BootStarted(const std::string&, const std::string&, int64_t) {}
void Metrics::StateChanged(const std::string&, const std::string&, int64_t) {}
void Metrics::Verdict(const std::string&, const std::string&, const std::string&, double, int64_t) {}
void Metrics::ForgetVm(const std::string&) {}
void Metrics::Screenshot(double, bool) {}
void Metrics::Ocr(double, bool) {}
std::string Metrics::Serialize() const { return {}; }
std::vector<std::string> Metrics::FamilyNames() { return {}; }

struct MetricsServer::Impl {};
Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(Metrics&, const MetricsServerOptions&) {
  return Unavailable("metrics are not available: crv was built without prometheus-cpp (CRV_WITH_PROMETHEUS=OFF)");
}
MetricsServer::~MetricsServer() = default;

}  // namespace crv
