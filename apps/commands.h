// Sub-commands of the crv binary. Each Register* adds its options to the CLI
// and returns the function that runs it (its exit code).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace crv::app {

// Exit codes shared by all commands.
constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;  // the watched thing failed (e.g. boot failure)
constexpr int kExitError = 2;    // crv could not do its job (bad input, QEMU missing...)

using CommandFn = std::function<int()>;
CommandFn RegisterRecord(CLI::App& app);
CommandFn RegisterReplay(CLI::App& app);
CommandFn RegisterProfile(CLI::App& app);
CommandFn RegisterTrain(CLI::App& app);
CommandFn RegisterRules(CLI::App& app);
CommandFn RegisterEval(CLI::App& app);
CommandFn RegisterVerify(CLI::App& app);
CommandFn RegisterCollect(CLI::App& app);
CommandFn RegisterProcess(CLI::App& app);
CommandFn RegisterOcrWorker(CLI::App& app);

}  // namespace crv::app
