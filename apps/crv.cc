// crv: watches virtual machines from the hypervisor side.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>
#include <map>

#include "apps/commands.h"
#include "core/features.h"

int main(int argc, char** argv) {
  CLI::App app{
      "crv - watches virtual machines from the hypervisor side: samples every vCPU's registers,\n"
      "computes windowed Shannon entropy, and (as it grows) classifies the VM's state and acts on it.\n"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("crv ") + CRV_VERSION + " (xen " + (CRV_WITH_XEN ? "on" : "off") +
                                        ", libvirt " + (CRV_WITH_LIBVIRT ? "on" : "off") + ", kafka " +
                                        (CRV_WITH_KAFKA ? "on" : "off") + ", tesseract " +
                                        (CRV_WITH_TESSERACT ? "on" : "off") + ", prometheus " +
                                        (CRV_WITH_PROMETHEUS ? "on" : "off") + ")");
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));

  std::map<CLI::App*, crv::app::CommandFn> commands;
  auto add = [&](const char* name, const char* help, auto reg) {
    CLI::App* sub = app.add_subcommand(name, help);
    commands[sub] = reg(*sub);
  };
  add("verify",
      "Boot a disk image or kernel in an isolated VM (or attach to a QMP socket), watch it, screenshot + OCR at the "
      "verdict; exit 0 booted, 1 boot failure, 2 could not verify",
      crv::app::RegisterVerify);
  add("record", "Sample a VM's registers into a frame file (from a QMP socket, or booting a fixture guest)",
      crv::app::RegisterRecord);
  add("replay", "Feed a frame file through the operator pipeline; --entropy prints the entropy series",
      crv::app::RegisterReplay);
  add("profile", "Boot or attach, record frames with state labels (serial-console rules or manual marks)",
      crv::app::RegisterProfile);
  add("train", "Build a C4.5 decision tree from profiles and write a model file", crv::app::RegisterTrain);
  add("rules", "Print a model's tree as conditional statements", crv::app::RegisterRules);
  add("eval", "Cross-validate the classifier grouped by boot (leave-one-boot-out by default)", crv::app::RegisterEval);
  add("collect",
      "Host agent: discover this host's VMs, sample them, publish frames to Kafka, execute action requests "
      "(screenshots, screen checks)",
      crv::app::RegisterCollect);
  add("process",
      "Processing daemon: consume frames from Kafka in a group, classify, publish state transitions, verdicts and "
      "action requests",
      crv::app::RegisterProcess);
  add("ocr-worker", "(internal) OCR of one image, run by crv verify in a limited worker process",
      crv::app::RegisterOcrWorker);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : crv::app::kExitError;
  }
  auto logger = spdlog::stderr_color_mt("crv");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("crv: %^%l%$: %v");
  spdlog::set_level(spdlog::level::from_str(log_level));
  for (auto& [sub, run] : commands) {
    if (sub->parsed()) return run();
  }
  return crv::app::kExitError;
}
