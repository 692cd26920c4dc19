// crv profile: record a guest's registers together with a label timeline,
// for training. Labels come from rules on the serial console (REGEX=LABEL) or
// from marks typed on standard input (one label per line) while it runs.
#include <poll.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>

#include "apps/commands.h"
#include "apps/recording.h"
#include "stream/profile.h"

namespace crv::app {
namespace {

struct ProfileOptions {
  RecordingOptions rec;
  std::string dir;
  std::vector<std::string> rules;
  std::string initial = "booting";
  bool marks = false;
  bool json = false;
};

int Run(ProfileOptions o) {
  namespace fs = std::filesystem;
  if (Status s = ValidateLabelName(o.initial); !s.ok()) {
    spdlog::error("--initial-label: {}", s.message());
    return kExitError;
  }
  std::error_code ec;
  fs::create_directories(o.dir, ec);
  if (ec) {
    spdlog::error("cannot create profile directory {}: {}", o.dir, ec.message());
    return kExitError;
  }
  o.rec.output = o.dir + "/frames.crvf";
  auto rec = Recording::Start(o.rec);
  if (!rec.ok()) {
    spdlog::error("{}", rec.status().message());
    return kExitError;
  }
  // Rules: from the command line, else from the fixture's guest.json, else
  // the defaults (login prompt, kernel panic).
  std::vector<std::string> specs = o.rules;
  const auto& gj = (*rec)->guest_json();
  if (specs.empty() && gj.is_object() && gj.contains("label_rules") && gj["label_rules"].is_array()) {
    for (const auto& r : gj["label_rules"]) specs.push_back(r.get<std::string>());
  }
  if (specs.empty()) specs = DefaultLabelRules();
  std::vector<LabelRule> rules;
  for (const auto& s : specs) {
    auto r = ParseLabelRule(s);
    if (!r.ok()) {
      spdlog::error("{}", r.status().message());
      return kExitError;
    }
    rules.push_back(std::move(*r));
  }
  Profile p;
  p.dir = fs::absolute(o.dir).lexically_normal().string();
  p.vm_id = (*rec)->vm_id();
  p.guest = gj;
  p.hz = o.rec.hz;
  p.label_rules = specs;
  p.labels = LabelTimeline(o.initial);
  std::mutex mu;
  SerialLabeler labeler(rules, &p.labels);
  QemuGuest* guest = (*rec)->guest();
  if (!guest && !o.marks) spdlog::warn("attached by --qmp without --marks: no serial console to label from");
  auto poll_fn = [&] {
    std::lock_guard lock(mu);
    const int64_t now = RealClock::Instance().WallNs();
    if (guest) {
      std::ifstream in(guest->serial_log());
      std::stringstream ss;
      ss << in.rdbuf();
      labeler.Update(ss.str(), now);
    }
    if (o.marks) {
      pollfd pfd{STDIN_FILENO, POLLIN, 0};
      while (::poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN)) {
        std::string line;
        if (!std::getline(std::cin, line)) break;
        if (ValidateLabelName(line).ok()) {
          p.labels.Change(now, line, "mark");
        } else if (!line.empty()) {
          spdlog::warn("ignoring mark \"{}\": {}", line, ValidateLabelName(line).message());
        }
      }
    }
  };
  auto status_fn = [&] {
    std::lock_guard lock(mu);
    return "label " + p.labels.current();
  };
  if (o.marks) std::fprintf(stderr, "type a label and Enter to mark a state change (e.g. boot_success)\n");
  const RecordingResult r = (*rec)->Run(poll_fn, status_fn);
  if (guest) {
    p.serial_log = p.dir + "/serial.log";
    fs::copy_file(guest->serial_log(), p.serial_log, fs::copy_options::overwrite_existing, ec);
  }
  if (Status s = SaveProfileJson(p); !s.ok()) {
    spdlog::error("{}", s.message());
    return kExitError;
  }
  if (o.json) {
    nlohmann::json j = p.ToJson();
    j["dir"] = p.dir;
    j["ticks_sampled"] = r.ticks_sampled;
    j["ticks_missed"] = r.ticks_missed;
    j["error"] = r.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.error);
    std::cout << j.dump(2) << std::endl;
  } else {
    std::fprintf(stderr, "profile %s: %llu ticks, labels:", p.dir.c_str(),
                 static_cast<unsigned long long>(r.ticks_sampled));
    std::fprintf(stderr, " %s", p.labels.initial().c_str());
    for (const auto& c : p.labels.changes()) std::fprintf(stderr, " -> %s", c.label.c_str());
    std::fprintf(stderr, "\n");
  }
  if (!r.error.empty()) {
    spdlog::error("{}", r.error);
    return kExitError;
  }
  return kExitOk;
}

}  // namespace

CommandFn RegisterProfile(CLI::App& app) {
  auto o = std::make_shared<ProfileOptions>();
  o->rec.seconds = 25;
  AddRecordingOptions(app, o->rec);
  app.add_option("-o,--output", o->dir, "profile directory to write (profile.json, frames.crvf, serial.log)")
      ->required();
  app.add_option("--label", o->rules,
                 "serial-console rule REGEX=LABEL (repeatable; default: the guest's own rules, else "
                 "'Kernel panic=boot_failure' and 'login: *$=boot_success')");
  app.add_option("--initial-label", o->initial, "the state before any rule or mark matches")->capture_default_str();
  app.add_flag("--marks", o->marks, "read state marks from standard input: one label per line, at the moment typed");
  app.add_flag("--json", o->json, "print the profile description on stdout");
  return [o] { return Run(*o); };
}

}  // namespace crv::app
