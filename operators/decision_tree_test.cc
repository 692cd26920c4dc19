#include "operators/decision_tree.h"

#include <gtest/gtest.h>

#include <random>

namespace crv {
namespace {

// Quinlan's weather data (C4.5: Programs for Machine Learning, 1993).
const char* kOutlook[] = {"sunny", "sunny", "overcast", "rain",  "rain",     "rain",     "overcast",
                          "sunny", "sunny", "rain",     "sunny", "overcast", "overcast", "rain"};
const double kTemp[] = {85, 80, 83, 70, 68, 65, 64, 72, 69, 75, 75, 72, 81, 71};
const char* kTempNominal[] = {"hot",  "hot",  "hot",  "mild", "cool", "cool", "cool",
                              "mild", "cool", "mild", "mild", "mild", "hot",  "mild"};
const double kHumidity[] = {85, 90, 78, 96, 80, 70, 65, 95, 70, 80, 70, 90, 75, 80};
const char* kHumidityNominal[] = {"high", "high",   "high",   "high",   "normal", "normal", "normal",
                                  "high", "normal", "normal", "normal", "high",   "normal", "high"};
const bool kWindy[] = {false, true, false, false, false, true, true, false, false, false, true, true, false, true};
const bool kPlay[] = {false, false, true, true, true, false, true, false, true, true, true, true, true, false};

int Index(const std::vector<std::string>& values, const std::string& v) {
  return static_cast<int>(std::find(values.begin(), values.end(), v) - values.begin());
}

Dataset Weather(bool numeric) {
  Dataset d;
  d.classes = {"no", "yes"};
  d.attributes = {{"outlook", {"sunny", "overcast", "rain"}},
                  numeric ? Attribute{"temperature", {}} : Attribute{"temperature", {"hot", "mild", "cool"}},
                  numeric ? Attribute{"humidity", {}} : Attribute{"humidity", {"high", "normal"}},
                  {"windy", {"false", "true"}}};
  for (int i = 0; i < 14; ++i) {
    d.Add({static_cast<double>(Index(d.attributes[0].values, kOutlook[i])),
           numeric ? kTemp[i] : Index(d.attributes[1].values, kTempNominal[i]),
           numeric ? kHumidity[i] : Index(d.attributes[2].values, kHumidityNominal[i]), kWindy[i] ? 1.0 : 0.0},
          kPlay[i] ? 1 : 0);
  }
  return d;
}

std::vector<size_t> All(const Dataset& d) {
  std::vector<size_t> r(d.size());
  for (size_t i = 0; i < r.size(); ++i) r[i] = i;
  return r;
}

TEST(C45Test, WeatherGainRatiosMatchTheTextbook) {
  const Dataset d = Weather(false);
  const auto rows = All(d);
  double gain = 0;
  // Quinlan: gain(outlook) = 0.246, split info 1.577, gain ratio 0.156.
  EXPECT_NEAR(C45GainRatio(d, rows, 0, 2, &gain, nullptr), 0.156, 0.0005);
  EXPECT_NEAR(gain, 0.2467, 0.0005);
  EXPECT_NEAR(C45GainRatio(d, rows, 1, 2, &gain, nullptr), 0.0188, 0.0005);
  EXPECT_NEAR(gain, 0.0292, 0.0005);
  EXPECT_NEAR(C45GainRatio(d, rows, 2, 2, &gain, nullptr), 0.1518, 0.0005);
  EXPECT_NEAR(gain, 0.1518, 0.0005);
  EXPECT_NEAR(C45GainRatio(d, rows, 3, 2, &gain, nullptr), 0.0488, 0.0005);
  EXPECT_NEAR(gain, 0.0481, 0.0005);
}

TEST(C45Test, WeatherNominalTree) {
  auto t = TrainC45(Weather(false), C45Params{});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->ToRules(),
            "if (outlook == sunny) {\n"
            "  if (humidity == high) {\n"
            "    state = no;  // purity 1.000, 3 windows\n"
            "  } else if (humidity == normal) {\n"
            "    state = yes;  // purity 1.000, 2 windows\n"
            "  }\n"
            "} else if (outlook == overcast) {\n"
            "  state = yes;  // purity 1.000, 4 windows\n"
            "} else if (outlook == rain) {\n"
            "  if (windy == false) {\n"
            "    state = yes;  // purity 1.000, 3 windows\n"
            "  } else if (windy == true) {\n"
            "    state = no;  // purity 1.000, 2 windows\n"
            "  }\n"
            "}\n");
}

TEST(C45Test, WeatherNumericTreeCutsHumidityAt75) {
  auto t = TrainC45(Weather(true), C45Params{});
  ASSERT_TRUE(t.ok());
  const TreeNode& root = t->root();
  ASSERT_EQ(root.attribute, 0);  // outlook
  const TreeNode& sunny = *root.children[0];
  ASSERT_EQ(sunny.attribute, 2);  // humidity
  // The midpoint of 70 and 85 moved down to the largest humidity in the data
  // not above it, as C4.5 reports "humidity <= 75".
  EXPECT_EQ(sunny.threshold, 75);
  EXPECT_TRUE(root.children[1]->leaf());
  EXPECT_EQ(root.children[2]->attribute, 3);  // windy
  EXPECT_EQ(t->leaves(), 5);
  for (int i = 0; i < 14; ++i) {
    const Dataset d = Weather(true);
    EXPECT_EQ(t->Classify(d.rows[i]).klass, d.labels[i]);
  }
}

TEST(C45Test, HandComputedContinuousSplit) {
  Dataset d;
  d.classes = {"a", "b"};
  d.attributes = {{"x", {}}};
  for (int i = 1; i <= 6; ++i) d.Add({static_cast<double>(i)}, i <= 3 ? 0 : 1);
  double gain = 0, cut = 0;
  const double ratio = C45GainRatio(d, All(d), 0, 2, &gain, &cut);
  // Cuts tested (each side >= 2 cases): after 2, 3 and 4. The best, after 3,
  // has information gain 1 bit; the MDL cost is log2(3)/6.
  EXPECT_NEAR(gain, 1.0 - std::log2(3.0) / 6, 1e-12);
  EXPECT_NEAR(ratio, gain, 1e-12);  // split info of 3|3 is 1 bit
  EXPECT_DOUBLE_EQ(cut, 3.5);
  auto t = TrainC45(d, C45Params{});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->root().threshold, 3);
  EXPECT_EQ(t->Classify({3.2}).klass, 1);  // above the cut moved to 3
}

TEST(C45Test, AddErrorsMatchesQuinlansEstimate) {
  EXPECT_NEAR(C45AddErrors(6, 0, 0.25), 6 * (1 - std::pow(0.25, 1.0 / 6)), 1e-12);
  // Hand-computed from Quinlan's formula (e + 0.5 continuity correction,
  // z^2 = 0.6925^2 interpolated for CF = 0.25).
  EXPECT_NEAR(C45AddErrors(6, 2, 0.25), 1.343, 0.002);
  EXPECT_EQ(C45AddErrors(0, 0, 0.25), 0);
  EXPECT_LT(C45AddErrors(100, 10, 0.25), C45AddErrors(100, 10, 0.05));  // lower CF: more pessimistic
}

// A diagonal boundary x + y > 1 (a staircase of axis-parallel cuts: real
// structure worth a deep tree), an irrelevant z, and label noise for an
// unpruned tree to chase.
Dataset Noisy(int n, uint32_t seed, double noise = 0.20) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  Dataset d;
  d.classes = {"even", "odd"};
  d.attributes = {{"x", {}}, {"y", {}}, {"z", {}}};
  for (int i = 0; i < n; ++i) {
    const double x = u(rng), y = u(rng), z = u(rng);
    int label = x + y > 1 ? 1 : 0;
    if (u(rng) < noise) label = 1 - label;
    d.Add({x, y, z}, label);
  }
  return d;
}

TEST(C45Test, PruningShrinksAnOvergrownTreeWithoutLosingHeldOutAccuracy) {
  const Dataset train = Noisy(500, 1, 0.25), test = Noisy(4000, 2, 0.0);
  // Grown greedily (no MDL charge on cuts, leaves of one case), the tree
  // chases the noise; pruning at CF 0.25 cuts it back.
  auto full = TrainC45(train, C45Params{1.0, 1, 40, false});
  auto pruned = TrainC45(train, C45Params{0.25, 1, 40, false});
  ASSERT_TRUE(full.ok() && pruned.ok());
  auto accuracy = [&](const DecisionTree& t) {
    int ok = 0;
    for (size_t i = 0; i < test.size(); ++i) ok += t.Classify(test.rows[i]).klass == test.labels[i];
    return static_cast<double>(ok) / static_cast<double>(test.size());
  };
  std::printf("leaves: unpruned %d, pruned %d; held-out accuracy: unpruned %.4f, pruned %.4f\n", full->leaves(),
              pruned->leaves(), accuracy(*full), accuracy(*pruned));
  EXPECT_LT(pruned->leaves() * 2, full->leaves());
  EXPECT_GE(accuracy(*pruned), accuracy(*full) - 0.005);
  EXPECT_GT(accuracy(*pruned), 0.75);
}

TEST(C45Test, Deterministic) {
  const Dataset d = Noisy(400, 5);
  auto a = TrainC45(d, C45Params{});
  auto b = TrainC45(d, C45Params{});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->ToJson().dump(), b->ToJson().dump());
}

TEST(C45Test, RejectsBadInput) {
  Dataset d = Noisy(10, 1);
  d.rows[3][1] = std::nan("");
  auto t = TrainC45(d, C45Params{});
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("row 3: y is not finite"), std::string::npos) << t.status().message();
  EXPECT_FALSE(TrainC45(Noisy(10, 1), C45Params{0, 2, 10}).ok());
}

TEST(C45Test, JsonRoundTripAndValidation) {
  const Dataset d = Weather(true);
  auto t = TrainC45(d, C45Params{});
  ASSERT_TRUE(t.ok());
  auto back = DecisionTree::FromJson(t->ToJson(), d.attributes, d.classes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->ToRules(), t->ToRules());

  auto j = t->ToJson();
  j["children"][0]["attribute"] = 9;
  auto bad = DecisionTree::FromJson(j, d.attributes, d.classes);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("tree.children[0].attribute: 9 is not a feature index"), std::string::npos)
      << bad.status().message();
  j = t->ToJson();
  j["children"][2]["children"].erase(1);
  bad = DecisionTree::FromJson(j, d.attributes, d.classes);
  EXPECT_NE(bad.status().message().find("tree.children[2].children: must be an array of 2"), std::string::npos)
      << bad.status().message();
}

}  // namespace
}  // namespace crv
