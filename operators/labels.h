// State labels for profiling: a timeline of (time, label) changes, and the
// rules that derive it from a guest's serial console.
//
// A rule is "REGEX=LABEL": when a console line matches REGEX the state becomes
// LABEL from that moment on. Rules are tried in order, first match wins; a
// match that names the current label changes nothing. The label set is open.
// Thread-safety: plain values; SerialLabeler is used by one thread.
#pragma once

#include <cstdint>
#include <regex>
#include <string>
#include <vector>

#include "core/status.h"

namespace crv {

struct LabelRule {
  std::string pattern;
  std::string label;
  std::regex re;
};

// Parses "REGEX=LABEL" (split at the last '='). LABEL: [a-z0-9_]+.
Result<LabelRule> ParseLabelRule(const std::string& spec);
Status ValidateLabelName(const std::string& label);
// login prompt -> boot_success, kernel panic -> boot_failure.
std::vector<std::string> DefaultLabelRules();

struct LabelChange {
  int64_t t_ns = 0;
  std::string label;
  std::string source;  // the console line or "mark"
};

class LabelTimeline {
 public:
  explicit LabelTimeline(std::string initial = "booting") : initial_(std::move(initial)) {}
  // Changes must come in time order; a change to the current label is ignored.
  void Change(int64_t t_ns, std::string label, std::string source);
  const std::string& At(int64_t t_ns) const;
  // The label if it holds over all of [start, end]; empty if it changes inside.
  std::string Over(int64_t start_ns, int64_t end_ns) const;
  const std::string& initial() const { return initial_; }
  const std::string& current() const { return changes_.empty() ? initial_ : changes_.back().label; }
  const std::vector<LabelChange>& changes() const { return changes_; }

 private:
  std::string initial_;
  std::vector<LabelChange> changes_;
};

// Feeds console text as it grows; complete lines are matched against rules.
class SerialLabeler {
 public:
  SerialLabeler(std::vector<LabelRule> rules, LabelTimeline* timeline)
      : rules_(std::move(rules)), timeline_(timeline) {}
  // `text` is the whole log so far; only what is new since the last call is read.
  void Update(const std::string& text, int64_t now_ns);

 private:
  std::vector<LabelRule> rules_;
  LabelTimeline* timeline_;
  size_t consumed_ = 0;
};

}  // namespace crv
