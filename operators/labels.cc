#include "operators/labels.h"

namespace crv {

Status ValidateLabelName(const std::string& label) {
  if (label.empty() || label.size() > 64) return InvalidArgument("label \"" + label + "\" must be 1..64 characters");
  for (char c : label) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      return InvalidArgument("label \"" + label + "\" may only use a-z, 0-9 and _");
    }
  }
  return Status::Ok();
}

Result<LabelRule> ParseLabelRule(const std::string& spec) {
  const size_t eq = spec.rfind('=');
  if (eq == std::string::npos || eq == 0) {
    return InvalidArgument("label rule \"" + spec + "\" is not REGEX=LABEL");
  }
  LabelRule r;
  r.pattern = spec.substr(0, eq);
  r.label = spec.substr(eq + 1);
  CRV_RETURN_IF_ERROR(ValidateLabelName(r.label).WithContext("label rule \"" + spec + "\""));
  try {
    r.re = std::regex(r.pattern, std::regex::ECMAScript | std::regex::optimize);
  } catch (const std::regex_error& e) {
    return InvalidArgument("label rule \"" + spec + "\": bad regular expression: " + e.what());
  }
  return r;
}

std::vector<std::string> DefaultLabelRules() { return {"Kernel panic=boot_failure", "login: *$=boot_success"}; }

void LabelTimeline::Change(int64_t t_ns, std::string label, std::string source) {
  if (label == current()) return;
  changes_.push_back(LabelChange{t_ns, std::move(label), std::move(source)});
}

const std::string& LabelTimeline::At(int64_t t_ns) const {
  const std::string* l = &initial_;
  for (const auto& c : changes_) {
    if (c.t_ns > t_ns) break;
    l = &c.label;
  }
  return *l;
}

std::string LabelTimeline::Over(int64_t start_ns, int64_t end_ns) const {
  for (const auto& c : changes_) {
    if (c.t_ns > start_ns && c.t_ns <= end_ns) return {};
  }
  return At(start_ns);
}

void SerialLabeler::Update(const std::string& text, int64_t now_ns) {
  if (text.size() < consumed_) consumed_ = 0;  // log was truncated or replaced
  for (;;) {
    const size_t nl = text.find('\n', consumed_);
    // A prompt has no newline after it: match the pending partial line too,
    // but only consume complete lines.
    const size_t end = nl == std::string::npos ? text.size() : nl;
    std::string line = text.substr(consumed_, end - consumed_);
    while (!line.empty() && (line.back() == '\r')) line.pop_back();
    for (const auto& r : rules_) {
      if (std::regex_search(line, r.re)) {
        timeline_->Change(now_ns, r.label, line.substr(0, 200));
        break;
      }
    }
    if (nl == std::string::npos) return;
    consumed_ = nl + 1;
  }
}

}  // namespace crv
