// Known boot-failure signatures, matched against the OCR text of the screen
// (and the serial console when there is one) to name an error category.
#pragma once

#include <string>
#include <vector>

namespace crv {

struct FailureSignature {
  std::string category;  // e.g. "kernel_panic"
  std::string pattern;   // ECMAScript regex, case-insensitive
  std::string description;
};

const std::vector<FailureSignature>& FailureCatalog();

// The category of the first signature found in `text`, or "" when none is.
std::string MatchFailure(const std::string& text);

// True when the text shows the machine still working ("waiting", "loading",
// "starting", "please wait"...) in its last lines: a settled screen that
// says this is not a finished boot.
bool ShowsWorkInProgress(const std::string& text);

}  // namespace crv
