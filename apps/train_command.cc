// crv train / rules / eval: build the C4.5 decision tree from profiles, print
// it as conditional statements, and cross-validate it grouped by boot.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>

#include "apps/commands.h"
#include "operators/model.h"

namespace crv::app {
namespace {

struct TrainOptions {
  std::vector<std::string> inputs;
  std::string output;
  uint32_t window = 25, hop = 5;
  C45Params params;
  int folds = 0;  // eval: 0 = leave one boot out
  bool json = false;
};

// Each input is a profile directory, or a directory of profile directories.
Result<std::vector<Profile>> LoadProfiles(const std::vector<std::string>& inputs) {
  namespace fs = std::filesystem;
  std::vector<std::string> dirs;
  for (const auto& in : inputs) {
    if (fs::exists(in + "/profile.json")) {
      dirs.push_back(in);
      continue;
    }
    if (!fs::is_directory(in)) return NotFound(in + ": not a profile directory (no profile.json)");
    size_t before = dirs.size();
    for (const auto& e : fs::directory_iterator(in)) {
      if (fs::exists(e.path() / "profile.json")) dirs.push_back(e.path().string());
    }
    if (dirs.size() == before) return NotFound(in + ": holds no profile directories");
  }
  std::sort(dirs.begin(), dirs.end());
  std::vector<Profile> out;
  for (const auto& d : dirs) {
    CRV_ASSIGN_OR_RETURN(Profile p, LoadProfile(d));
    out.push_back(std::move(p));
  }
  return out;
}

void AddTrainingOptions(CLI::App& app, TrainOptions& o) {
  app.add_option("PROFILES", o.inputs, "profile directories (or directories holding them)")->required();
  app.add_option("--window", o.window, "window length in ticks")->capture_default_str();
  app.add_option("--hop", o.hop, "ticks between training windows")->capture_default_str();
  app.add_option("--confidence", o.params.confidence, "C4.5 pruning confidence (1 = no pruning)")
      ->check(CLI::Range(0.001, 1.0))
      ->capture_default_str();
  app.add_option("--min-leaf", o.params.min_leaf, "minimum cases in two branches of a split")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_flag("--json", o.json, "JSON output");
}

int Fail(const Status& s) {
  spdlog::error("{}", s.message());
  return kExitError;
}

int RunTrain(const TrainOptions& o) {
  auto profiles = LoadProfiles(o.inputs);
  if (!profiles.ok()) return Fail(profiles.status());
  const WindowConfig wc{o.window, o.hop};
  auto set = BuildTrainingSet(*profiles, wc);
  if (!set.ok()) return Fail(set.status());
  auto model = TrainModel(*set, wc, o.params);
  if (!model.ok()) return Fail(model.status());
  if (Status s = SaveModel(*model, o.output); !s.ok()) return Fail(s);
  size_t correct = 0;
  for (size_t i = 0; i < set->data.size(); ++i)
    correct += model->tree.Classify(set->data.rows[i]).klass == set->data.labels[i];
  const double acc = static_cast<double>(correct) / static_cast<double>(set->data.size());
  if (o.json) {
    std::cout << nlohmann::json({{"model", o.output},
                                 {"id", model->id},
                                 {"profiles", set->profiles.size()},
                                 {"windows", set->data.size()},
                                 {"straddling_windows_dropped", set->straddling},
                                 {"classes", set->data.classes},
                                 {"leaves", model->tree.leaves()},
                                 {"depth", model->tree.depth()},
                                 {"training_accuracy", acc}})
                     .dump(2)
              << std::endl;
  } else {
    std::printf("model %s (id %s): %zu profiles, %zu windows (%zu straddling a label change dropped), classes:",
                o.output.c_str(), model->id.c_str(), set->profiles.size(), set->data.size(), set->straddling);
    for (const auto& c : set->data.classes) std::printf(" %s", c.c_str());
    std::printf("\ntree: %d leaves, depth %d; training accuracy %.4f\n", model->tree.leaves(), model->tree.depth(),
                acc);
  }
  return kExitOk;
}

int RunRules(const std::string& path, bool json) {
  auto model = LoadModel(path);
  if (!model.ok()) return Fail(model.status());
  if (json) {
    std::cout << nlohmann::json({{"id", model->id}, {"rules", model->tree.ToRules()}}).dump(2) << std::endl;
    return kExitOk;
  }
  std::printf("// crv model %s: window %u ticks, classes:", model->id.c_str(), model->window.length);
  for (const auto& c : model->tree.classes()) std::printf(" %s", c.c_str());
  std::printf("\n// H.<reg> = Shannon entropy (bits) of the register over the window; *_share = fraction of samples\n");
  std::fputs(model->tree.ToRules().c_str(), stdout);
  return kExitOk;
}

int RunEval(const TrainOptions& o) {
  auto profiles = LoadProfiles(o.inputs);
  if (!profiles.ok()) return Fail(profiles.status());
  if (profiles->size() < 2) return Fail(InvalidArgument("cross-validation needs at least two profiles (boots)"));
  const WindowConfig wc{o.window, o.hop};
  auto set = BuildTrainingSet(*profiles, wc);
  if (!set.ok()) return Fail(set.status());
  const size_t groups = set->profiles.size();
  const size_t folds = o.folds <= 0 ? groups : std::min<size_t>(static_cast<size_t>(o.folds), groups);
  const size_t k = set->data.classes.size();
  std::vector<std::vector<uint64_t>> confusion(k, std::vector<uint64_t>(k, 0));
  nlohmann::json boots = nlohmann::json::array();
  bool all_final_ok = true;
  for (size_t f = 0; f < folds; ++f) {
    // Whole boots go to one fold: neighbouring windows of a boot would leak.
    std::vector<size_t> train, test;
    for (size_t i = 0; i < set->data.size(); ++i) {
      (static_cast<size_t>(set->data.groups[i]) % folds == f ? test : train).push_back(i);
    }
    if (train.empty()) continue;
    auto model = TrainModel(*set, wc, o.params, train);
    if (!model.ok()) return Fail(model.status());
    std::map<size_t, std::pair<size_t, size_t>> per_boot;  // correct, total
    for (size_t i : test) {
      const int pred = model->tree.Classify(set->data.rows[i]).klass;
      ++confusion[set->data.labels[i]][pred];
      auto& pb = per_boot[set->data.groups[i]];
      pb.first += pred == set->data.labels[i];
      ++pb.second;
    }
    for (size_t g = f; g < groups; g += folds) {
      const std::string& truth = set->final_labels[g];
      std::string predicted = "(no window)";
      if (!set->last_window[g].empty()) predicted = set->data.classes[model->tree.Classify(set->last_window[g]).klass];
      const bool ok = predicted == truth;
      all_final_ok = all_final_ok && ok;
      const auto& pb = per_boot[g];
      boots.push_back({{"profile", std::filesystem::path(set->profiles[g]).filename().string()},
                       {"windows", pb.second},
                       {"accuracy", pb.second ? static_cast<double>(pb.first) / static_cast<double>(pb.second) : 0.0},
                       {"final_true", truth},
                       {"final_predicted", predicted},
                       {"final_ok", ok}});
    }
  }
  uint64_t total = 0, correct = 0;
  for (size_t a = 0; a < k; ++a) {
    for (size_t b = 0; b < k; ++b) {
      total += confusion[a][b];
      if (a == b) correct += confusion[a][b];
    }
  }
  const double acc = total ? static_cast<double>(correct) / static_cast<double>(total) : 0;
  nlohmann::json per_class = nlohmann::json::array();
  for (size_t c = 0; c < k; ++c) {
    uint64_t tp = confusion[c][c], pred = 0, actual = 0;
    for (size_t x = 0; x < k; ++x) {
      pred += confusion[x][c];
      actual += confusion[c][x];
    }
    per_class.push_back({{"state", set->data.classes[c]},
                         {"windows", actual},
                         {"precision", pred ? static_cast<double>(tp) / static_cast<double>(pred) : 0.0},
                         {"recall", actual ? static_cast<double>(tp) / static_cast<double>(actual) : 0.0}});
  }
  if (o.json) {
    std::cout << nlohmann::json(
                     {{"mode", folds == groups ? "leave-one-boot-out" : std::to_string(folds) + "-fold by boot"},
                      {"boots", groups},
                      {"windows", total},
                      {"accuracy", acc},
                      {"classes", set->data.classes},
                      {"confusion", confusion},
                      {"per_state", per_class},
                      {"per_boot", boots},
                      {"all_boots_end_in_true_final_state", all_final_ok}})
                     .dump(2)
              << std::endl;
    return kExitOk;
  }
  std::printf("%s cross-validation over %zu boots, %llu windows: accuracy %.4f\n\n",
              folds == groups ? "leave-one-boot-out" : (std::to_string(folds) + "-fold (grouped by boot)").c_str(),
              groups, static_cast<unsigned long long>(total), acc);
  std::printf("confusion (rows: true state, columns: predicted)\n%-16s", "");
  for (const auto& c : set->data.classes) std::printf(" %14s", c.c_str());
  std::printf("\n");
  for (size_t a = 0; a < k; ++a) {
    std::printf("%-16s", set->data.classes[a].c_str());
    for (size_t b = 0; b < k; ++b) std::printf(" %14llu", static_cast<unsigned long long>(confusion[a][b]));
    std::printf("\n");
  }
  std::printf("\n%-16s %9s %9s %9s\n", "state", "windows", "precision", "recall");
  for (const auto& pc : per_class) {
    std::printf("%-16s %9llu %9.4f %9.4f\n", pc["state"].get<std::string>().c_str(),
                static_cast<unsigned long long>(pc["windows"].get<uint64_t>()), pc["precision"].get<double>(),
                pc["recall"].get<double>());
  }
  std::printf("\n%-28s %8s %9s  %-14s %-14s\n", "boot", "windows", "accuracy", "final (true)", "final (predicted)");
  for (const auto& b : boots) {
    std::printf("%-28s %8llu %9.4f  %-14s %-14s%s\n", b["profile"].get<std::string>().c_str(),
                static_cast<unsigned long long>(b["windows"].get<uint64_t>()), b["accuracy"].get<double>(),
                b["final_true"].get<std::string>().c_str(), b["final_predicted"].get<std::string>().c_str(),
                b["final_ok"].get<bool>() ? "" : "  <- wrong");
  }
  std::printf("\nevery boot ends in its true final state: %s\n", all_final_ok ? "yes" : "NO");
  return kExitOk;
}

}  // namespace

CommandFn RegisterTrain(CLI::App& app) {
  auto o = std::make_shared<TrainOptions>();
  AddTrainingOptions(app, *o);
  app.add_option("-o,--output", o->output, "model file to write")->required();
  return [o] { return RunTrain(*o); };
}

CommandFn RegisterRules(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  app.add_option("MODEL", *path, "model file written by crv train")->required();
  app.add_flag("--json", *json, "JSON output");
  return [path, json] { return RunRules(*path, *json); };
}

CommandFn RegisterEval(CLI::App& app) {
  auto o = std::make_shared<TrainOptions>();
  AddTrainingOptions(app, *o);
  app.add_option("--folds", o->folds, "K-fold cross-validation grouped by boot (default: leave one boot out)");
  return [o] { return RunEval(*o); };
}

}  // namespace crv::app
