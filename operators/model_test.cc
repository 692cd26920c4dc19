#include "operators/model.h"

#include <gtest/gtest.h>

#include <random>

namespace crv {
namespace {

// A training set in the model's own feature space: "busy" windows have high
// RIP entropy, "idle" ones are halted with zero entropy.
TrainingSet Synthetic() {
  TrainingSet set;
  for (const auto& n : FeatureNames()) set.data.attributes.push_back(Attribute{n, {}});
  set.data.classes = {"booting", "boot_success"};
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < 200; ++i) {
    FeatureVector fv;
    const bool idle = i % 2;
    fv.entropy[kRip] = idle ? 0 : 1.5 + 3 * u(rng);
    fv.entropy[kRax] = 4 * u(rng);
    fv.derived[kHaltedShare] = idle ? 1 : 0.1 * u(rng);
    set.data.Add(FeatureRow(fv), idle ? 1 : 0, i / 50);
  }
  set.profiles = {"a", "b", "c", "d"};
  set.final_labels = {"boot_success", "boot_success", "boot_success", "boot_success"};
  return set;
}

Model Train() {
  auto m = TrainModel(Synthetic(), WindowConfig{25, 5}, C45Params{});
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return std::move(*m);
}

TEST(ModelTest, RoundTripThroughJson) {
  Model m = Train();
  const std::string text = m.ToJson().dump(1);
  auto back = ParseModel(text, "m.json");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->id, m.id);
  EXPECT_EQ(back->window.length, 25u);
  FeatureVector idle, busy;
  idle.derived[kHaltedShare] = 1;
  busy.entropy[kRip] = 3;
  EXPECT_EQ(back->ClassName(back->Classify(idle).klass), "boot_success");
  EXPECT_EQ(back->ClassName(back->Classify(busy).klass), "booting");
  EXPECT_DOUBLE_EQ(back->Classify(busy).confidence, 1.0);
  EXPECT_EQ(back->provenance["params"]["confidence"], 0.25);
}

TEST(ModelTest, BadModelFilesGetClearErrors) {
  const nlohmann::json good = Train().ToJson();
  struct Case {
    std::function<std::string()> text;
    std::string expect;
  } cases[] = {
      {[&] { return good.dump().substr(0, 200); }, "not valid JSON"},
      {[&] { return std::string("[]"); }, "not a JSON object"},
      {[&] {
         auto j = good;
         j["format"] = "other";
         return j.dump();
       },
       "\"format\" is not \"crv-model\""},
      {[&] {
         auto j = good;
         j["version"] = 7;
         return j.dump();
       },
       "model version 7 is not supported"},
      {[&] {
         auto j = good;
         j["features"][0] = "H.xmm0";
         return j.dump();
       },
       "\"H.xmm0\" is not a feature"},
      {[&] {
         auto j = good;
         j["window"]["length"] = 1;
         return j.dump();
       },
       "window: window length"},
      {[&] {
         auto j = good;
         j["classes"][1] = "Boot Success";
         return j.dump();
       },
       "classes"},
      {[&] {
         auto j = good;
         j["tree"]["class"] = 5;
         return j.dump();
       },
       "tree.class: 5 is not a class index"},
      {[&] {
         auto j = good;
         j["tree"]["threshold"] = 0.123;
         return j.dump();
       },
       "\"id\" does not match"},
      {[&] {
         auto j = good;
         j.erase("tree");
         return j.dump();
       },
       "\"tree\" is missing"},
  };
  for (const auto& c : cases) {
    auto r = ParseModel(c.text(), "bad.model");
    ASSERT_FALSE(r.ok()) << c.expect;
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos) << r.status().message();
    EXPECT_EQ(r.status().message().rfind("bad.model", 0), 0u) << "names the file: " << r.status().message();
  }
  EXPECT_EQ(LoadModel("/nonexistent.model").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace crv
