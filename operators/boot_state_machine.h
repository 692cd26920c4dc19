// BootStateMachine: turns the classifier's noisy per-window labels into
// debounced state transitions and a boot verdict.
//
// Contract: a window moves the state only with confidence >= min_confidence
// (hysteresis); a new state is entered after min_dwell consecutive such
// windows agree on it. Entering a failure state is a failure verdict.
// Entering a success state only makes a *candidate*: registers cannot tell a
// guest idling at its prompt from one waiting quietly mid-boot, so the
// caller confirms on the screen and calls ConfirmSuccess(), or keeps going
// (the state is re-evaluated with every window, and leaving the success
// state drops the candidate). When max_boot_seconds pass with no verdict,
// the verdict is a time-out. Time is the windows' and caller's (injected),
// so the machine is tested without sleeping.
// Thread-safety: none; one owner.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace crv {

struct BootStateConfig {
  std::vector<std::string> success_states = {"boot_success", "app_loaded"};
  std::vector<std::string> failure_states = {"boot_failure"};
  std::string initial_state = "booting";
  int min_dwell = 5;            // consecutive windows
  double min_confidence = 0.8;  // leaf purity
  double max_boot_seconds = 300;
};

enum class Verdict { kNone, kSuccess, kFailure, kTimeout };
const char* VerdictName(Verdict v);

struct StateTransition {
  int64_t t_ns = 0;
  std::string from, to;
};

class BootStateMachine {
 public:
  BootStateMachine(BootStateConfig config, int64_t start_ns);

  // One classified window ending at t_ns. Returns true if the state changed.
  bool OnWindow(const std::string& state, double confidence, int64_t t_ns);
  // Checks the boot time-out at `now_ns`.
  void OnTime(int64_t now_ns);
  // The caller confirmed the success candidate on the screen.
  void ConfirmSuccess(int64_t t_ns);
  // The caller found a failure on the screen (e.g. "No bootable device"
  // while the registers look idle).
  void DeclareFailure(int64_t t_ns);

  const std::string& state() const { return state_; }
  bool success_candidate() const { return verdict_ == Verdict::kNone && IsSuccess(state_); }
  Verdict verdict() const { return verdict_; }
  int64_t verdict_ns() const { return verdict_ns_; }
  int64_t start_ns() const { return start_ns_; }
  const std::vector<StateTransition>& timeline() const { return timeline_; }

 private:
  bool IsSuccess(const std::string& s) const;
  bool IsFailure(const std::string& s) const;
  void Decide(Verdict v, int64_t t_ns);

  BootStateConfig config_;
  int64_t start_ns_;
  std::string state_;
  std::string pending_;
  int pending_count_ = 0;
  Verdict verdict_ = Verdict::kNone;
  int64_t verdict_ns_ = 0;
  std::vector<StateTransition> timeline_;
};

}  // namespace crv
