#include "operators/window_features.h"

#include <algorithm>

namespace crv {

Status ValidateWindowConfig(const WindowConfig& c) {
  if (c.length < 2 || c.length > SlidingEntropy::kMaxWindow) {
    return InvalidArgument("window length must be 2.." + std::to_string(SlidingEntropy::kMaxWindow) + " ticks, got " +
                           std::to_string(c.length));
  }
  if (c.hop < 1 || c.hop > c.length) {
    return InvalidArgument("window hop must be 1..length (" + std::to_string(c.length) + "), got " +
                           std::to_string(c.hop));
  }
  return Status::Ok();
}

const std::array<std::string_view, kNumDerived>& DerivedFeatureNames() {
  static const std::array<std::string_view, kNumDerived> kNames = {"if_share",     "user_share",      "halted_share",
                                                                   "paging_share", "long_mode_share", "distinct_cr3"};
  return kNames;
}

namespace {
enum FlagBit : uint8_t { kFlagIf = 1, kFlagUser = 2, kFlagHalted = 4, kFlagPaging = 8, kFlagLongMode = 16 };
constexpr int kNumFlags = 5;
}  // namespace

struct VmWindows::Vcpu {
  explicit Vcpu(uint32_t length) : flags(length, 0) {
    entropy.reserve(kNumRegs);
    for (int r = 0; r < kNumRegs; ++r) entropy.emplace_back(length);
  }
  void Push(const RegisterFrame& f) {
    for (int r = 0; r < kNumRegs; ++r) entropy[r].Push(f.regs[r]);
    uint8_t bits = 0;
    if (f.regs[kRflags] & kRflagsIf) bits |= kFlagIf;
    if (f.cpl == 3) bits |= kFlagUser;
    if (f.halted) bits |= kFlagHalted;
    if (f.regs[kCr0] & kCr0Pg) bits |= kFlagPaging;
    if (f.regs[kEfer] & kEferLma) bits |= kFlagLongMode;
    if (filled == flags.size()) {
      Count(flags[head], -1);
    } else {
      ++filled;
    }
    flags[head] = bits;
    Count(bits, +1);
    head = head + 1 == flags.size() ? 0 : head + 1;
  }
  void Count(uint8_t bits, int d) {
    for (int b = 0; b < kNumFlags; ++b) {
      if (bits & (1 << b)) flag_counts[b] += d;
    }
  }
  std::vector<SlidingEntropy> entropy;
  std::vector<uint8_t> flags;
  size_t head = 0, filled = 0;
  std::array<int, kNumFlags> flag_counts{};
};

VmWindows::VmWindows(std::string vm_id, WindowConfig config)
    : vm_id_(std::move(vm_id)), config_(config), tick_ring_(config.length) {}

VmWindows::~VmWindows() = default;

void VmWindows::Add(const FrameBatch& batch, std::vector<FeatureVector>* out) {
  for (const RegisterFrame& f : batch.frames) {
    if (open_tick_ && f.seq != open_seq_) CloseTick(out);
    if (!open_tick_) {
      if (any_tick_ && f.seq <= last_seq_) {
        ++stale_frames_;
        continue;
      }
      open_tick_ = true;
      open_seq_ = f.seq;
      open_ts_ = f.timestamp_ns;
    }
    AddFrame(f);
  }
  if (open_tick_) CloseTick(out);
}

void VmWindows::AddFrame(const RegisterFrame& f) {
  if (f.vcpu >= vcpus_.size()) vcpus_.resize(f.vcpu + 1u);
  if (!vcpus_[f.vcpu]) vcpus_[f.vcpu] = std::make_unique<Vcpu>(config_.length);
  vcpus_[f.vcpu]->Push(f);
}

void VmWindows::CloseTick(std::vector<FeatureVector>* out) {
  open_tick_ = false;
  any_tick_ = true;
  last_seq_ = open_seq_;
  tick_ring_[ticks_ % config_.length] = {open_seq_, open_ts_};
  ++ticks_;
  if (ticks_ < config_.length || (ticks_ - config_.length) % config_.hop != 0) return;

  FeatureVector fv;
  fv.vm_id = vm_id_;
  fv.window_index = windows_++;
  const auto& first = tick_ring_[ticks_ % config_.length];  // oldest of the last `length`
  const auto& last = tick_ring_[(ticks_ - 1) % config_.length];
  fv.first_seq = first.first;
  fv.start_ns = first.second;
  fv.last_seq = last.first;
  fv.end_ns = last.second;
  fv.ticks = config_.length;
  // Shares describe the most active vCPU, so that idle application
  // processors do not dilute them and a VM with more vCPUs looks like one
  // with fewer: halted and interrupts-enabled take the minimum over vCPUs,
  // user mode, paging and long mode the maximum.
  std::array<double, kNumFlags> shares{};
  shares[0] = shares[2] = 1.0;  // if_share, halted_share: minimum
  double distinct_cr3 = 0;
  for (const auto& v : vcpus_) {
    if (!v || v->filled == 0) continue;
    ++fv.vcpus;
    for (int r = 0; r < kNumRegs; ++r) fv.entropy[r] = std::max(fv.entropy[r], v->entropy[r].Bits());
    for (int b = 0; b < kNumFlags; ++b) {
      const double share = static_cast<double>(v->flag_counts[b]) / static_cast<double>(v->filled);
      shares[b] = (b == 0 || b == 2) ? std::min(shares[b], share) : std::max(shares[b], share);
    }
    distinct_cr3 = std::max(distinct_cr3, static_cast<double>(v->entropy[kCr3].distinct()));
  }
  if (fv.vcpus > 0) {
    for (int b = 0; b < kNumFlags; ++b) fv.derived[b] = shares[b];
  }
  static_assert(kIfShare == 0 && kUserShare == 1 && kHaltedShare == 2 && kPagingShare == 3 && kLongModeShare == 4);
  fv.derived[kDistinctCr3] = distinct_cr3;
  out->push_back(std::move(fv));
}

void WindowFeatureOperator::Add(const FrameBatch& batch, std::vector<FeatureVector>* out) {
  auto& vm = vms_[batch.vm_id];
  if (!vm) vm = std::make_unique<VmWindows>(batch.vm_id, config_);
  vm->Add(batch, out);
}

uint64_t WindowFeatureOperator::stale_frames() const {
  uint64_t n = 0;
  for (const auto& [id, vm] : vms_) n += vm->stale_frames();
  return n;
}

}  // namespace crv
