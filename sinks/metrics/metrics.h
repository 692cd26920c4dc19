// Metrics: what crv exposes to Prometheus, and the exposer that serves it.
//
// Naming follows Prometheus conventions (crv_..._total counters, base units,
// _seconds). Label cardinality is bounded: frame counters have no VM label;
// per-VM series exist only for the current state, the running boot and the
// last verdict — one series each per VM, replaced (not added) when the value
// changes and removed by ForgetVm when the VM is gone. Never per register.
//
// All update methods are cheap (atomic adds under prometheus-cpp) and may be
// called from any thread; the per-VM ones take a short lock. A scrape copies
// the values under that same lock only briefly, so it never stalls sampling.
//
// A build without prometheus-cpp keeps this interface: updates do nothing and
// MetricsServer::Start fails with a message that says so.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace crv {

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // --- the stream ---
  void FramesSampled(uint64_t n);
  void TicksMissed(uint64_t n);
  void SnapshotErrors(uint64_t n);
  void FramesPublished(uint64_t n);
  void FramesConsumed(uint64_t n);
  void BatchesInvalid(uint64_t n);
  // reason: a short fixed word ("queue_full", "drop_oldest", ...).
  void FramesDropped(std::string_view reason, uint64_t n);
  // Wall time now minus the event time of the newest frame processed.
  void PipelineLag(double seconds);
  void LastFrameAt(int64_t wall_ns);
  void KafkaDeliveryErrors(uint64_t n);

  // --- VM state ---
  // `vm` is watched by this process (counted in crv_vms_watched).
  void Watching(const std::string& vm);
  // A boot of `vm` started (resets its state to `state`).
  void BootStarted(const std::string& vm, const std::string& state, int64_t wall_ns);
  void StateChanged(const std::string& vm, const std::string& to, int64_t wall_ns);
  // outcome: success, failure, timeout, error; category: failure catalogue
  // id ("" for success). boot_seconds < 0 when unknown.
  void Verdict(const std::string& vm, const std::string& outcome, const std::string& category, double boot_seconds,
               int64_t wall_ns);
  // Removes every per-VM series of `vm`.
  void ForgetVm(const std::string& vm);

  // --- actions ---
  void Screenshot(double seconds, bool ok);
  void Ocr(double seconds, bool ok);

  // The text exposition format of everything registered (tests, --dump).
  std::string Serialize() const;
  // The metric family names crv exposes (for docs and drift tests).
  static std::vector<std::string> FamilyNames();

  struct Impl;
  Impl* impl() { return impl_.get(); }

 private:
  std::unique_ptr<Impl> impl_;
};

struct MetricsServerOptions {
  // host:port; port 0 picks a free one. Loopback unless told otherwise.
  std::string listen = "127.0.0.1:9464";
  // When set, scrapes must carry HTTP basic authentication with this user
  // and password.
  std::string user, password;
};

class MetricsServer {
 public:
  static Result<std::unique_ptr<MetricsServer>> Start(Metrics& metrics, const MetricsServerOptions& options);
  ~MetricsServer();
  int port() const { return port_; }
  std::string url() const;

  struct Impl;

 private:
  MetricsServer() = default;
  std::unique_ptr<Impl> impl_;
  std::string host_;
  int port_ = 0;
};

// Reads "user:password" (first line) from a file that must not be readable by
// group or others.
Status LoadBasicAuthFile(const std::string& path, MetricsServerOptions* options);

}  // namespace crv
