// Sampler: takes a snapshot of every vCPU of one VM at a fixed rate.
//
// Contract: tick k is due at start + k * period (deadlines are computed from
// the start, so the rate does not drift). Each snapshot's frames get seq = k
// and the wall-clock time just before the request. When a snapshot takes
// longer than a period the ticks that passed are skipped and counted in
// ticks_missed (seq numbers then have a gap of that size). A snapshot that
// fails to parse is counted and sampling goes on; a source that is gone
// (kUnavailable / kNotFound) ends Run() with that status.
// Thread-safety: Run() on one thread; stats() and Stop() from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

#include "collectors/register_source.h"
#include "core/clock.h"

namespace crv {

struct SamplerConfig {
  double hz = 50.0;
  // Stop after this many scheduled ticks (0: until Stop() or an error).
  uint64_t max_ticks = 0;
};

struct SamplerStats {
  std::atomic<uint64_t> ticks_sampled{0};
  std::atomic<uint64_t> ticks_missed{0};
  std::atomic<uint64_t> snapshot_errors{0};
  std::atomic<uint64_t> frames{0};
  std::atomic<int64_t> last_snapshot_ns{0};  // duration of the last snapshot
};

class Sampler {
 public:
  // The sink receives each tick's frames; a non-ok status stops the sampler
  // (backpressure should block inside the sink, not fail).
  using Sink = std::function<Status(std::vector<RegisterFrame>&&)>;

  Sampler(RegisterSource& source, Clock& clock, SamplerConfig config, Sink sink)
      : source_(source), clock_(clock), config_(config), sink_(std::move(sink)) {}

  // Samples until max_ticks, Stop(), a sink error, or the source is gone.
  Status Run();
  void Stop() { stop_.store(true); }
  const SamplerStats& stats() const { return stats_; }
  // The last snapshot error (empty if none); for logs.
  const std::string& last_error() const { return last_error_; }

 private:
  RegisterSource& source_;
  Clock& clock_;
  SamplerConfig config_;
  Sink sink_;
  SamplerStats stats_;
  std::atomic<bool> stop_{false};
  std::string last_error_;
};

}  // namespace crv
