// Windowed register features per VM: the entropy of every register over the
// last `length` ticks plus register-derived facts, emitted every `hop` ticks.
//
// A tick is one sampler snapshot (all vCPU frames with the same seq). Each
// vCPU keeps its own windows; a VM's feature vector describes its most active
// vCPU: per register the highest entropy over its vCPUs; the lowest halted and
// interrupts-enabled shares; the highest user-mode, paging and long-mode
// shares (so idle application processors do not make a 3-vCPU boot look
// like an idle 1-vCPU guest). Derived features are chosen to carry over between
// OS builds (no raw addresses): share of samples with interrupts enabled, in
// user mode (CPL 3), halted, with paging on, in long mode; and the number of
// distinct CR3 values (address spaces) in the window.
// Frames whose seq is not newer than the last tick of their VM (replays,
// redeliveries) are skipped and counted. A tick must not span two batches.
// Thread-safety: none; the operator graph calls it from one serial node.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "operators/sliding_entropy.h"
#include "schemas/register_frame.h"

namespace crv {

struct WindowConfig {
  uint32_t length = 25;  // ticks per window
  uint32_t hop = 25;     // ticks between window ends (= length: tumbling)
};
Status ValidateWindowConfig(const WindowConfig& c);

enum Derived : int { kIfShare, kUserShare, kHaltedShare, kPagingShare, kLongModeShare, kDistinctCr3, kNumDerived };
const std::array<std::string_view, kNumDerived>& DerivedFeatureNames();

struct FeatureVector {
  std::string vm_id;
  uint64_t window_index = 0;
  uint64_t first_seq = 0, last_seq = 0;
  int64_t start_ns = 0, end_ns = 0;
  uint32_t ticks = 0, vcpus = 0;
  std::array<double, kNumRegs> entropy{};
  std::array<double, kNumDerived> derived{};
  // Set by the classifier operator: class index in the model (-1: none) and
  // the purity of the leaf that decided it.
  int state = -1;
  double confidence = 0;
};

class VmWindows {
 public:
  VmWindows(std::string vm_id, WindowConfig config);
  ~VmWindows();
  // Adds a decoded batch of this VM; appends finished windows to `out`.
  void Add(const FrameBatch& batch, std::vector<FeatureVector>* out);
  uint64_t stale_frames() const { return stale_frames_; }
  uint64_t ticks() const { return ticks_; }

 private:
  struct Vcpu;
  void AddFrame(const RegisterFrame& f);
  void CloseTick(std::vector<FeatureVector>* out);

  std::string vm_id_;
  WindowConfig config_;
  std::vector<std::unique_ptr<Vcpu>> vcpus_;  // indexed by vCPU number
  // Ring of the last `length` ticks' (seq, timestamp).
  std::vector<std::pair<uint64_t, int64_t>> tick_ring_;
  uint64_t ticks_ = 0;
  uint64_t windows_ = 0;
  bool open_tick_ = false;
  uint64_t open_seq_ = 0;
  int64_t open_ts_ = 0;
  bool any_tick_ = false;
  uint64_t last_seq_ = 0;
  uint64_t stale_frames_ = 0;
};

// All VMs of a stream.
class WindowFeatureOperator {
 public:
  explicit WindowFeatureOperator(WindowConfig config) : config_(config) {}
  void Add(const FrameBatch& batch, std::vector<FeatureVector>* out);
  // Drops a VM's window state (VM gone, partition revoked).
  void Forget(const std::string& vm_id) { vms_.erase(vm_id); }
  size_t vm_count() const { return vms_.size(); }
  uint64_t stale_frames() const;

 private:
  WindowConfig config_;
  std::unordered_map<std::string, std::unique_ptr<VmWindows>> vms_;
};

}  // namespace crv
