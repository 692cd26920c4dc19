// Model: a trained decision tree plus what it needs at run time — the window
// shape it was trained on, the features it reads, its classes — and where it
// came from (training profiles and their hashes, parameters).
//
// File format: JSON, "format": "crv-model", "version": 1. LoadModel/ParseModel
// check everything before use: format and version, every feature is one this
// crv computes, classes are valid labels, the window is valid, and the tree
// (see DecisionTree::FromJson). Errors name the file and the field.
// Thread-safety: immutable after loading; Classify from any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "operators/decision_tree.h"
#include "operators/window_features.h"
#include "stream/profile.h"

namespace crv {

constexpr int kModelVersion = 1;

// Names of the classifier's features, in FeatureRow order: "H.<register>"
// for each register's windowed entropy, then the derived features.
const std::vector<std::string>& FeatureNames();
std::vector<double> FeatureRow(const FeatureVector& fv);

struct LabeledWindow {
  FeatureVector features;
  std::string label;  // empty: the window straddles a label change
};

// Replays a profile's frames into windows and labels each with the state that
// holds over the whole window.
Result<std::vector<LabeledWindow>> LabelProfileWindows(const Profile& p, const WindowConfig& window);

struct TrainingSet {
  Dataset data;                       // groups = index into profiles
  std::vector<std::string> profiles;  // profile directories
  std::vector<std::string> final_labels;
  std::vector<std::vector<double>> last_window;  // per profile: the features of its last window
  size_t straddling = 0;                         // windows dropped at label changes
};
Result<TrainingSet> BuildTrainingSet(const std::vector<Profile>& profiles, const WindowConfig& window);

struct Model {
  DecisionTree tree;
  WindowConfig window;
  std::vector<int> feature_index;  // tree attribute -> FeatureRow index
  nlohmann::json provenance;
  std::string id;

  Prediction Classify(const FeatureVector& fv) const;
  const std::string& ClassName(int k) const { return tree.classes()[k]; }
  nlohmann::json ToJson() const;
};

Result<Model> TrainModel(const TrainingSet& set, const WindowConfig& window, const C45Params& params,
                         const std::vector<size_t>& rows = {});
Result<Model> ParseModel(const std::string& text, const std::string& name);
Result<Model> LoadModel(const std::string& path);
Status SaveModel(const Model& m, const std::string& path);

}  // namespace crv
