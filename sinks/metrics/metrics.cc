// Metrics on prometheus-cpp (the build with CRV_WITH_PROMETHEUS).
#include "sinks/metrics/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <map>
#include <mutex>

namespace crv {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

// Boots take seconds to many minutes; actions take milliseconds to seconds.
const Histogram::BucketBoundaries kBootBuckets = {1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1200, 1800};
const Histogram::BucketBoundaries kActionBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

double Seconds(int64_t wall_ns) { return static_cast<double>(wall_ns) / 1e9; }

}  // namespace

struct Metrics::Impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();

  Family<Counter>& frames_sampled =
      BuildCounter().Name("crv_frames_sampled_total").Help("vCPU register frames sampled from VMs").Register(*registry);
  Family<Counter>& ticks_missed = BuildCounter()
                                      .Name("crv_sampling_ticks_missed_total")
                                      .Help("sampling ticks skipped because a snapshot took longer than a period")
                                      .Register(*registry);
  Family<Counter>& snapshot_errors = BuildCounter()
                                         .Name("crv_sampling_errors_total")
                                         .Help("register snapshots that failed (bad monitor reply, time-out)")
                                         .Register(*registry);
  Family<Counter>& frames_published = BuildCounter()
                                          .Name("crv_frames_published_total")
                                          .Help("frames accepted by the stream (in-process queue or Kafka)")
                                          .Register(*registry);
  Family<Counter>& frames_consumed = BuildCounter()
                                         .Name("crv_frames_consumed_total")
                                         .Help("frames taken from the stream and processed by the operator graph")
                                         .Register(*registry);
  Family<Counter>& batches_invalid =
      BuildCounter()
          .Name("crv_frame_batches_invalid_total")
          .Help("stream messages that failed verification (malformed or unverifiable) and were skipped")
          .Register(*registry);
  Family<Counter>& frames_dropped =
      BuildCounter().Name("crv_frames_dropped_total").Help("frames not delivered, by reason").Register(*registry);
  Family<Counter>& kafka_errors = BuildCounter()
                                      .Name("crv_kafka_delivery_errors_total")
                                      .Help("Kafka messages whose delivery report was an error")
                                      .Register(*registry);
  Family<Gauge>& lag = BuildGauge()
                           .Name("crv_pipeline_lag_seconds")
                           .Help("wall time minus the sample time of the newest processed frame")
                           .Register(*registry);
  Family<Gauge>& last_frame = BuildGauge()
                                  .Name("crv_last_frame_timestamp_seconds")
                                  .Help("sample time of the newest frame seen by this process (unix seconds)")
                                  .Register(*registry);
  Family<Gauge>& vms =
      BuildGauge().Name("crv_vms_watched").Help("VMs this process currently holds state for").Register(*registry);
  Family<Counter>& transitions = BuildCounter()
                                     .Name("crv_state_transitions_total")
                                     .Help("VM state transitions, by the state entered")
                                     .Register(*registry);
  Family<Gauge>& vm_state = BuildGauge()
                                .Name("crv_vm_state")
                                .Help("1 for the current state of each VM (one series per VM)")
                                .Register(*registry);
  Family<Gauge>& vm_state_entered = BuildGauge()
                                        .Name("crv_vm_state_entered_timestamp_seconds")
                                        .Help("when each VM entered its current state (unix seconds)")
                                        .Register(*registry);
  Family<Gauge>& vm_boot_started = BuildGauge()
                                       .Name("crv_vm_boot_started_timestamp_seconds")
                                       .Help("when the running boot of each VM started; absent once it has a verdict")
                                       .Register(*registry);
  Family<Gauge>& vm_boot_outcome =
      BuildGauge()
          .Name("crv_vm_boot_outcome")
          .Help("1 for the verdict of each VM's last boot, labelled by outcome and error category")
          .Register(*registry);
  Family<Counter>& verdicts =
      BuildCounter().Name("crv_verdicts_total").Help("boot verdicts by outcome and error category").Register(*registry);
  Family<Histogram>& boot_duration = BuildHistogram()
                                         .Name("crv_boot_duration_seconds")
                                         .Help("time from boot start to verdict, by outcome")
                                         .Register(*registry);
  Family<Histogram>& screenshot_duration = BuildHistogram()
                                               .Name("crv_screenshot_duration_seconds")
                                               .Help("time to take a screenshot of a VM's display")
                                               .Register(*registry);
  Family<Counter>& screenshot_failures =
      BuildCounter().Name("crv_screenshot_failures_total").Help("screenshots that failed").Register(*registry);
  Family<Histogram>& ocr_duration = BuildHistogram()
                                        .Name("crv_ocr_duration_seconds")
                                        .Help("time to read the text of a screenshot (OCR worker included)")
                                        .Register(*registry);
  Family<Counter>& ocr_failures =
      BuildCounter().Name("crv_ocr_failures_total").Help("OCR runs that failed or timed out").Register(*registry);

  // Unlabelled children, created once so they show 0 from the first scrape.
  Counter& c_sampled = frames_sampled.Add({});
  Counter& c_missed = ticks_missed.Add({});
  Counter& c_snapshot_errors = snapshot_errors.Add({});
  Counter& c_published = frames_published.Add({});
  Counter& c_consumed = frames_consumed.Add({});
  Counter& c_invalid = batches_invalid.Add({});
  Counter& c_kafka = kafka_errors.Add({});
  Gauge& g_lag = lag.Add({});
  Gauge& g_last_frame = last_frame.Add({});
  Gauge& g_vms = vms.Add({});
  Histogram& h_screenshot = screenshot_duration.Add({}, kActionBuckets);
  Counter& c_screenshot_failures = screenshot_failures.Add({});
  Histogram& h_ocr = ocr_duration.Add({}, kActionBuckets);
  Counter& c_ocr_failures = ocr_failures.Add({});

  // Per-VM series: the one live child of each per-VM family.
  struct Vm {
    Gauge* state = nullptr;
    Gauge* entered = nullptr;
    Gauge* boot_started = nullptr;
    Gauge* outcome = nullptr;
  };
  std::mutex mu;
  std::map<std::string, Vm> vm;

  template <typename T>
  static void Drop(Family<T>& family, T*& child) {
    if (child != nullptr) family.Remove(child);
    child = nullptr;
  }
  Vm& Get(const std::string& name) {
    auto [it, added] = vm.try_emplace(name);
    if (added) g_vms.Set(static_cast<double>(vm.size()));
    return it->second;
  }
  void SetState(const std::string& name, Vm& v, const std::string& state, int64_t wall_ns) {
    Drop(vm_state, v.state);
    Drop(vm_state_entered, v.entered);
    v.state = &vm_state.Add({{"vm", name}, {"state", state}});
    v.state->Set(1);
    v.entered = &vm_state_entered.Add({{"vm", name}, {"state", state}});
    v.entered->Set(Seconds(wall_ns));
    transitions.Add({{"state", state}}).Increment();
  }
};

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {}
Metrics::~Metrics() = default;

void Metrics::FramesSampled(uint64_t n) { impl_->c_sampled.Increment(static_cast<double>(n)); }
void Metrics::TicksMissed(uint64_t n) { impl_->c_missed.Increment(static_cast<double>(n)); }
void Metrics::SnapshotErrors(uint64_t n) { impl_->c_snapshot_errors.Increment(static_cast<double>(n)); }
void Metrics::FramesPublished(uint64_t n) { impl_->c_published.Increment(static_cast<double>(n)); }
void Metrics::FramesConsumed(uint64_t n) { impl_->c_consumed.Increment(static_cast<double>(n)); }
void Metrics::BatchesInvalid(uint64_t n) { impl_->c_invalid.Increment(static_cast<double>(n)); }
void Metrics::FramesDropped(std::string_view reason, uint64_t n) {
  // Add returns the existing child for known labels; reasons are a fixed set.
  impl_->frames_dropped.Add({{"reason", std::string(reason)}}).Increment(static_cast<double>(n));
}
void Metrics::PipelineLag(double seconds) { impl_->g_lag.Set(seconds); }
void Metrics::LastFrameAt(int64_t wall_ns) { impl_->g_last_frame.Set(Seconds(wall_ns)); }
void Metrics::KafkaDeliveryErrors(uint64_t n) { impl_->c_kafka.Increment(static_cast<double>(n)); }

void Metrics::Watching(const std::string& vm) {
  std::lock_guard lock(impl_->mu);
  impl_->Get(vm);
}

void Metrics::BootStarted(const std::string& vm, const std::string& state, int64_t wall_ns) {
  std::lock_guard lock(impl_->mu);
  auto& v = impl_->Get(vm);
  Impl::Drop(impl_->vm_boot_started, v.boot_started);
  v.boot_started = &impl_->vm_boot_started.Add({{"vm", vm}});
  v.boot_started->Set(Seconds(wall_ns));
  impl_->SetState(vm, v, state, wall_ns);
}

void Metrics::StateChanged(const std::string& vm, const std::string& to, int64_t wall_ns) {
  std::lock_guard lock(impl_->mu);
  impl_->SetState(vm, impl_->Get(vm), to, wall_ns);
}

void Metrics::Verdict(const std::string& vm, const std::string& outcome, const std::string& category,
                      double boot_seconds, int64_t wall_ns) {
  (void)wall_ns;
  impl_->verdicts.Add({{"outcome", outcome}, {"category", category}}).Increment();
  if (boot_seconds >= 0) impl_->boot_duration.Add({{"outcome", outcome}}, kBootBuckets).Observe(boot_seconds);
  std::lock_guard lock(impl_->mu);
  auto& v = impl_->Get(vm);
  Impl::Drop(impl_->vm_boot_started, v.boot_started);
  Impl::Drop(impl_->vm_boot_outcome, v.outcome);
  v.outcome = &impl_->vm_boot_outcome.Add({{"vm", vm}, {"outcome", outcome}, {"category", category}});
  v.outcome->Set(1);
}

void Metrics::ForgetVm(const std::string& vm) {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->vm.find(vm);
  if (it == impl_->vm.end()) return;
  Impl::Drop(impl_->vm_state, it->second.state);
  Impl::Drop(impl_->vm_state_entered, it->second.entered);
  Impl::Drop(impl_->vm_boot_started, it->second.boot_started);
  Impl::Drop(impl_->vm_boot_outcome, it->second.outcome);
  impl_->vm.erase(it);
  impl_->g_vms.Set(static_cast<double>(impl_->vm.size()));
}

void Metrics::Screenshot(double seconds, bool ok) {
  impl_->h_screenshot.Observe(seconds);
  if (!ok) impl_->c_screenshot_failures.Increment();
}

void Metrics::Ocr(double seconds, bool ok) {
  impl_->h_ocr.Observe(seconds);
  if (!ok) impl_->c_ocr_failures.Increment();
}

std::string Metrics::Serialize() const { return prometheus::TextSerializer().Serialize(impl_->registry->Collect()); }

std::vector<std::string> Metrics::FamilyNames() {
  // Labelled families appear once they have a child: give each one.
  Metrics m;
  m.FramesDropped("queue_full", 1);
  m.BootStarted("vm", "booting", 0);
  m.Verdict("vm", "failure", "kernel_panic", 1, 0);
  m.BootStarted("vm", "booting", 0);
  std::vector<std::string> names;
  for (const auto& f : m.impl_->registry->Collect()) names.push_back(f.name);
  return names;
}

struct MetricsServer::Impl {
  std::unique_ptr<prometheus::Exposer> exposer;
};

Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(Metrics& metrics, const MetricsServerOptions& o) {
  const auto colon = o.listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == o.listen.size()) {
    return InvalidArgument("metrics listen address must be HOST:PORT, got '" + o.listen + "'");
  }
  std::unique_ptr<MetricsServer> s(new MetricsServer());
  s->impl_ = std::make_unique<Impl>();
  try {
    // One serving thread: a scrape is a copy of a few hundred values.
    s->impl_->exposer = std::make_unique<prometheus::Exposer>(o.listen, 1);
  } catch (const std::exception& e) {
    return Unavailable("cannot serve metrics on " + o.listen + ": " + e.what());
  }
  if (!o.user.empty()) {
    s->impl_->exposer->RegisterAuth(
        [user = o.user, password = o.password](const std::string& u, const std::string& p) {
          return u == user && p == password;
        },
        "crv");
  }
  s->impl_->exposer->RegisterCollectable(metrics.impl()->registry);
  const auto ports = s->impl_->exposer->GetListeningPorts();
  if (ports.empty()) return Unavailable("cannot serve metrics on " + o.listen + ": no listening port");
  s->host_ = o.listen.substr(0, colon);
  s->port_ = ports.front();
  return s;
}

MetricsServer::~MetricsServer() = default;

}  // namespace crv
