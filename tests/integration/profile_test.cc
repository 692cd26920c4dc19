// Profiles recorded from real guests at test time (the `profiles` fixture:
// scripts/record-profiles.sh), then cross-validated, trained and checked
// against the shipped default model, which was trained on other recordings.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "operators/model.h"

namespace crv {
namespace {

std::string ProfilesDir() {
  const char* d = getenv("CRV_PROFILES_DIR");
  return d ? d : CRV_PROFILES_DIR_DEFAULT;
}

std::string Shell(const std::string& cmd, int* status) {
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof(buf), p)) out.append(buf, n);
  *status = pclose(p);
  return out;
}

TEST(ProfileTest, LeaveOneBootOutAccuracyAndFinalStates) {
  int st = 0;
  const std::string out = Shell(std::string(CRV_BINARY) + " eval --json " + ProfilesDir(), &st);
  ASSERT_EQ(st, 0) << out;
  auto j = nlohmann::json::parse(out);
  std::printf("%s\n", Shell(std::string(CRV_BINARY) + " eval " + ProfilesDir(), &st).c_str());
  EXPECT_EQ(j["mode"], "leave-one-boot-out");
  EXPECT_GE(j["boots"].get<int>(), 8);
  EXPECT_GE(j["accuracy"].get<double>(), 0.97);
  EXPECT_TRUE(j["all_boots_end_in_true_final_state"].get<bool>());
  for (const auto& b : j["per_boot"]) EXPECT_TRUE(b["final_ok"].get<bool>()) << b.dump();
}

TEST(ProfileTest, TrainingIsDeterministicAndRulesPrint) {
  const std::string a = ::testing::TempDir() + "/a.model", b = ::testing::TempDir() + "/b.model";
  int st = 0;
  Shell(std::string(CRV_BINARY) + " train " + ProfilesDir() + " -o " + a, &st);
  ASSERT_EQ(st, 0);
  Shell(std::string(CRV_BINARY) + " train " + ProfilesDir() + " -o " + b, &st);
  ASSERT_EQ(st, 0);
  auto ma = LoadModel(a), mb = LoadModel(b);
  ASSERT_TRUE(ma.ok() && mb.ok()) << ma.status().ToString();
  EXPECT_EQ(ma->id, mb->id);
  EXPECT_EQ(ma->tree.ToJson().dump(), mb->tree.ToJson().dump());
  const std::string rules = Shell(std::string(CRV_BINARY) + " rules " + a, &st);
  ASSERT_EQ(st, 0);
  EXPECT_NE(rules.find("state = boot_success;"), std::string::npos) << rules;
  EXPECT_NE(rules.find("if ("), std::string::npos);
}

// The shipped model was trained on profiles recorded on another day and
// machine; it must read these fresh boots right.
TEST(ProfileTest, ShippedDefaultModelReadsFreshBoots) {
  auto model = LoadModel(std::string(CRV_SOURCE_DIR) + "/config/models/default.model.json");
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  size_t total = 0, correct = 0;
  for (const auto& e : std::filesystem::directory_iterator(ProfilesDir())) {
    auto p = LoadProfile(e.path().string());
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    auto windows = LabelProfileWindows(*p, model->window);
    ASSERT_TRUE(windows.ok());
    ASSERT_FALSE(windows->empty());
    for (const auto& w : *windows) {
      if (w.label.empty()) continue;
      ++total;
      correct += model->ClassName(model->Classify(w.features).klass) == w.label;
    }
    EXPECT_EQ(model->ClassName(model->Classify(windows->back().features).klass), p->labels.current())
        << p->name() << " ends in the wrong state";
  }
  ASSERT_GT(total, 0u);
  const double acc = static_cast<double>(correct) / static_cast<double>(total);
  std::printf("default model on fresh profiles: %zu/%zu windows = %.4f\n", correct, total, acc);
  EXPECT_GE(acc, 0.95);
}

TEST(ProfileTest, ManualMarksFromStdin) {
  const std::string dir = ::testing::TempDir() + "/marks-profile";
  std::filesystem::remove_all(dir);
  int st = 0;
  const std::string out = Shell("printf 'os_about_to_load\\nNot A Label\\n' | " + std::string(CRV_BINARY) +
                                    " profile --guest ok --guests-dir " CRV_GUESTS_DIR_DEFAULT +
                                    " --accel tcg --seconds 2 --marks --label 'never-matches=x' -q --json -o " + dir,
                                &st);
  ASSERT_EQ(st, 0) << out;
  auto p = LoadProfile(dir);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->labels.changes().size(), 1u);
  EXPECT_EQ(p->labels.changes()[0].label, "os_about_to_load");
  EXPECT_EQ(p->labels.changes()[0].source, "mark");
  EXPECT_EQ(p->label_rules, std::vector<std::string>{"never-matches=x"});
}

TEST(ProfileTest, BrokenProfilesGetClearErrors) {
  const std::string dir = ::testing::TempDir() + "/broken-profile";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/profile.json") << "{\"format\": \"crv-profile\", \"version\": 1, \"vm_id\": \"x\"";
  auto p = LoadProfile(dir);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("profile.json: not a JSON object"), std::string::npos) << p.status().message();
  std::ofstream(dir + "/profile.json") << R"({"format": "crv-profile", "version": 1, "vm_id": "x", "hz": 50,
    "initial_label": "booting", "labels": [{"t_ns": 5, "label": "b"}, {"t_ns": 1, "label": "c"}], "frames": "f.crvf"})";
  p = LoadProfile(dir);
  EXPECT_NE(p.status().message().find("labels are not in time order"), std::string::npos) << p.status().message();
  std::ofstream(dir + "/profile.json") << R"({"format": "crv-profile", "version": 2})";
  p = LoadProfile(dir);
  EXPECT_NE(p.status().message().find("profile version 2 is not supported"), std::string::npos);
  int st = 0;
  const std::string out = Shell(std::string(CRV_BINARY) + " train " + dir + " -o /dev/null 2>&1", &st);
  EXPECT_NE(st, 0);
  EXPECT_NE(out.find("profile version 2"), std::string::npos) << out;
}

}  // namespace
}  // namespace crv
