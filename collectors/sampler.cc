#include "collectors/sampler.h"

#include <cmath>

namespace crv {

Status Sampler::Run() {
  if (!(config_.hz > 0) || config_.hz > 100000) {
    return InvalidArgument("sampling rate must be in (0, 100000] Hz, got " + std::to_string(config_.hz));
  }
  const double period = 1e9 / config_.hz;
  const int64_t start = clock_.MonotonicNs();
  uint64_t k = 0;
  while (!stop_.load() && (config_.max_ticks == 0 || k < config_.max_ticks)) {
    clock_.SleepUntil(start + static_cast<int64_t>(std::llround(period * static_cast<double>(k))));
    if (stop_.load()) break;
    const int64_t wall = clock_.WallNs();
    const int64_t t0 = clock_.MonotonicNs();
    auto snap = source_.Snapshot();
    const int64_t t1 = clock_.MonotonicNs();
    stats_.last_snapshot_ns.store(t1 - t0);
    if (snap.ok()) {
      for (RegisterFrame& f : *snap) {
        f.seq = k;
        f.timestamp_ns = wall;
      }
      stats_.frames += snap->size();
      ++stats_.ticks_sampled;
      CRV_RETURN_IF_ERROR(sink_(std::move(*snap)));
    } else {
      const StatusCode c = snap.status().code();
      if (c == StatusCode::kUnavailable || c == StatusCode::kNotFound || c == StatusCode::kClosed) {
        return snap.status();
      }
      ++stats_.snapshot_errors;
      last_error_ = snap.status().ToString();
    }
    // The next tick is the first one still in the future; the ones skipped
    // over are missed.
    const int64_t now = clock_.MonotonicNs();
    uint64_t next = k + 1;
    const double elapsed_ticks = static_cast<double>(now - start) / period;
    const auto due = static_cast<uint64_t>(std::floor(elapsed_ticks));
    if (due > next) {
      uint64_t skip_to = due;
      if (config_.max_ticks != 0 && skip_to > config_.max_ticks) skip_to = config_.max_ticks;
      stats_.ticks_missed += skip_to - next;
      next = skip_to;
    }
    k = next;
  }
  return Status::Ok();
}

}  // namespace crv
