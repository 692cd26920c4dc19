#include "operators/boot_state_machine.h"

#include <algorithm>

namespace crv {

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kNone:
      return "none";
    case Verdict::kSuccess:
      return "success";
    case Verdict::kFailure:
      return "failure";
    case Verdict::kTimeout:
      return "timeout";
  }
  return "?";
}

BootStateMachine::BootStateMachine(BootStateConfig config, int64_t start_ns)
    : config_(std::move(config)), start_ns_(start_ns), state_(config_.initial_state) {}

bool BootStateMachine::IsSuccess(const std::string& s) const {
  return std::find(config_.success_states.begin(), config_.success_states.end(), s) != config_.success_states.end();
}
bool BootStateMachine::IsFailure(const std::string& s) const {
  return std::find(config_.failure_states.begin(), config_.failure_states.end(), s) != config_.failure_states.end();
}

void BootStateMachine::Decide(Verdict v, int64_t t_ns) {
  if (verdict_ != Verdict::kNone) return;
  verdict_ = v;
  verdict_ns_ = t_ns;
}

bool BootStateMachine::OnWindow(const std::string& state, double confidence, int64_t t_ns) {
  OnTime(t_ns);
  if (verdict_ != Verdict::kNone) return false;
  if (confidence < config_.min_confidence) return false;  // too unsure to move anything
  if (state == state_) {
    pending_count_ = 0;
    pending_.clear();
    return false;
  }
  if (state != pending_) {
    pending_ = state;
    pending_count_ = 0;
  }
  if (++pending_count_ < config_.min_dwell) return false;
  timeline_.push_back(StateTransition{t_ns, state_, state});
  state_ = state;
  pending_.clear();
  pending_count_ = 0;
  if (IsFailure(state_)) Decide(Verdict::kFailure, t_ns);
  return true;
}

void BootStateMachine::OnTime(int64_t now_ns) {
  if (verdict_ == Verdict::kNone && static_cast<double>(now_ns - start_ns_) > config_.max_boot_seconds * 1e9) {
    Decide(Verdict::kTimeout, now_ns);
  }
}

void BootStateMachine::ConfirmSuccess(int64_t t_ns) {
  if (success_candidate()) Decide(Verdict::kSuccess, t_ns);
}

void BootStateMachine::DeclareFailure(int64_t t_ns) { Decide(Verdict::kFailure, t_ns); }

}  // namespace crv
