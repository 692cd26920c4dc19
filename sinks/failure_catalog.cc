#include "sinks/failure_catalog.h"

#include <regex>

namespace crv {

const std::vector<FailureSignature>& FailureCatalog() {
  static const std::vector<FailureSignature> kCatalog = {
      {"kernel_panic", R"(kernel panic|not syncing)", "Linux kernel panic"},
      {"no_bootable_device", R"(no bootable device|boot failed: could not read|no boot device)",
       "firmware found nothing to boot"},
      {"os_not_found", R"(operating system not found|missing operating system|no operating system)",
       "MBR without an operating system"},
      {"grub_rescue", R"(grub rescue>|error: unknown filesystem|error: no such partition)", "GRUB rescue prompt"},
      {"windows_stop", R"(stop: 0x[0-9a-f]|stop code|your pc ran into a problem|inaccessible.boot.device)",
       "Windows stop error"},
      {"emergency_shell", R"(emergency mode|give root password for maintenance|\(initramfs\))",
       "emergency or initramfs shell"},
      {"filesystem_error", R"(fsck failed|run fsck manually|unexpected inconsistency)", "file system check failed"},
  };
  return kCatalog;
}

std::string MatchFailure(const std::string& text) {
  for (const auto& s : FailureCatalog()) {
    if (std::regex_search(text, std::regex(s.pattern, std::regex::ECMAScript | std::regex::icase))) return s.category;
  }
  return {};
}

bool ShowsWorkInProgress(const std::string& text) {
  // Only the last few non-empty lines count: boot logs scroll past words
  // like "starting" long before the prompt.
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(pos, nl - pos);
    if (line.find_first_not_of(" \t\r") != std::string::npos) lines.push_back(line);
    pos = nl + 1;
  }
  static const std::regex kBusy(R"(waiting|loading|starting|please wait|in progress|\.\.\.\s*$)",
                                std::regex::ECMAScript | std::regex::icase);
  for (size_t i = lines.size() > 2 ? lines.size() - 2 : 0; i < lines.size(); ++i) {
    if (std::regex_search(lines[i], kBusy)) return true;
  }
  return false;
}

}  // namespace crv
