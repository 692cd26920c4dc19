// crv record: sample a VM's registers into a frame file.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "apps/commands.h"
#include "apps/recording.h"

namespace crv::app {
namespace {

struct RecordOptions {
  RecordingOptions rec;
  std::string serial_log;
  bool json = false;
};

nlohmann::json ResultJson(const RecordingResult& r, const std::string& file, double hz) {
  return {{"file", file},
          {"vm_id", r.vm_id},
          {"host", r.host},
          {"hz", hz},
          {"ticks_scheduled", r.ticks_scheduled},
          {"ticks_sampled", r.ticks_sampled},
          {"ticks_missed", r.ticks_missed},
          {"snapshot_errors", r.snapshot_errors},
          {"frames", r.frames},
          {"records", r.records},
          {"bytes", r.bytes},
          {"interrupted", r.interrupted},
          {"error", r.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.error)}};
}

int Run(const RecordOptions& o) {
  auto rec = Recording::Start(o.rec);
  if (!rec.ok()) {
    spdlog::error("{}", rec.status().message());
    return kExitError;
  }
  const RecordingResult r = (*rec)->Run();
  if (!o.serial_log.empty() && (*rec)->guest()) {
    std::error_code ec;
    std::filesystem::copy_file((*rec)->guest()->serial_log(), o.serial_log,
                               std::filesystem::copy_options::overwrite_existing, ec);
    if (ec) spdlog::warn("cannot copy the serial log to {}: {}", o.serial_log, ec.message());
  }
  if (o.json) {
    nlohmann::json j = ResultJson(r, o.rec.output, o.rec.hz);
    j["serial_log"] = o.serial_log.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.serial_log);
    std::cout << j.dump(2) << std::endl;
  } else if (!o.rec.quiet) {
    std::fprintf(stderr, "recorded %llu ticks (%llu frames, %llu missed, %llu snapshot errors) of %s to %s\n",
                 static_cast<unsigned long long>(r.ticks_sampled), static_cast<unsigned long long>(r.frames),
                 static_cast<unsigned long long>(r.ticks_missed), static_cast<unsigned long long>(r.snapshot_errors),
                 r.vm_id.c_str(), o.rec.output.c_str());
  }
  if (!r.error.empty()) {
    spdlog::error("{}", r.error);
    return kExitError;
  }
  return kExitOk;
}

}  // namespace

void AddRecordingOptions(CLI::App& app, RecordingOptions& o) {
  auto* src = app.add_option_group("source", "what to sample (exactly one)");
  src->add_option("--qmp", o.qmp, "QMP UNIX socket of a running QEMU VM")->check(CLI::ExistingPath);
  src->add_option("--libvirt", o.libvirt, "a running libvirt domain (name or UUID), through --libvirt-uri");
  src->add_option("--xen", o.xen, "a Xen domain (name or id), when crv runs in dom0");
  src->add_option("--guest", o.guest,
                  "boot a fixture guest: a name under --guests-dir (built by scripts/build-guest.sh) or a directory");
  src->require_option(1);
  app.add_option("--libvirt-uri", o.libvirt_uri, "libvirt connection for --libvirt")->capture_default_str();
  app.add_option("--guests-dir", o.guests_dir,
                 "where fixture guests are built (default $CRV_GUESTS_DIR or build/guests)");
  app.add_option("--accel", o.accel, "QEMU accelerator for --guest: auto (KVM if the probe passes), kvm or tcg")
      ->check(CLI::IsMember({"auto", "kvm", "tcg"}))
      ->capture_default_str();
  app.add_option("--hz", o.hz, "sampling rate in snapshots per second")
      ->check(CLI::Range(0.1, 10000.0))
      ->capture_default_str();
  app.add_option("--seconds", o.seconds, "how long to record")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--vm-id", o.vm_id, "VM id stamped on frames (default: guest name or socket name)");
  app.add_option("--host", o.host, "host name stamped on frames (default: this host's name)");
  app.add_flag("-q,--quiet", o.quiet, "no progress line");
}

CommandFn RegisterRecord(CLI::App& app) {
  auto o = std::make_shared<RecordOptions>();
  o->rec.output = "frames.crvf";
  AddRecordingOptions(app, o->rec);
  app.add_option("-o,--output", o->rec.output, "frame file to write")->capture_default_str();
  app.add_option("--serial-log", o->serial_log, "with --guest: copy the guest's serial console log here");
  app.add_flag("--json", o->json, "print a JSON summary on stdout");
  return [o] { return Run(*o); };
}

}  // namespace crv::app
