// EntropyGraph: the operator pipeline as a oneTBB flow graph.
//
//   input (pull) -> limiter (max_in_flight) -> verify+decode (parallel)
//        -> sequencer (restores input order)
//        -> [window features -> classifier (when a model is given) -> sink] (serial)
//
// Contract: every message from the source is verified before it is read
// (DecodeBatch); an invalid one is counted, reported to `on_invalid` with its
// index and reason, and skipped — the pipeline keeps going. The sink is
// called on one thread at a time, in input order, so the same input gives the
// same output. At most max_in_flight messages are inside the graph at once:
// a slow sink slows the source instead of growing memory.
// Thread-safety: Run() blocks the caller until the source ends; one Run at a
// time per graph object.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "operators/model.h"
#include "operators/window_features.h"

namespace crv {

struct EntropyGraphConfig {
  WindowConfig window;
  size_t max_in_flight = 64;
  // When set, each window gets state/confidence from this model (which must
  // outlive the graph). Its window shape should match `window`.
  const Model* model = nullptr;
};

struct EntropyGraphStats {
  std::atomic<uint64_t> batches{0};
  std::atomic<uint64_t> invalid_batches{0};
  std::atomic<uint64_t> frames{0};
  std::atomic<uint64_t> windows{0};
  std::atomic<uint64_t> stale_frames{0};
};

// The classifier operator: sets state and confidence of each window.
void Classify(const Model& model, std::vector<FeatureVector>* windows);

class EntropyGraph {
 public:
  // Returns the next message, or nullopt when the input has ended.
  using Source = std::function<std::optional<std::vector<uint8_t>>()>;
  // Receives each batch's finished windows (possibly none) in input order.
  using Sink = std::function<void(const FrameBatch& batch, std::vector<FeatureVector>& windows)>;
  using InvalidHandler = std::function<void(uint64_t index, const Status& why)>;

  EntropyGraph(EntropyGraphConfig config, Sink sink, InvalidHandler on_invalid = nullptr);
  void Run(Source source);
  const EntropyGraphStats& stats() const { return stats_; }
  // Called in input order once message `index` (counted from 0 per Run) has
  // been fully handled — sunk, or skipped as invalid. At-least-once
  // consumers commit the message here. Set before Run().
  void OnDone(std::function<void(uint64_t index)> done) { on_done_ = std::move(done); }
  // Drops the window state of `vm_id` before the next message is handled
  // (e.g. its partition went to another consumer). Any thread.
  void Forget(const std::string& vm_id);

 private:
  EntropyGraphConfig config_;
  Sink sink_;
  InvalidHandler on_invalid_;
  std::function<void(uint64_t)> on_done_;
  EntropyGraphStats stats_;
  std::mutex forget_mu_;
  std::vector<std::string> forget_;
};

}  // namespace crv
