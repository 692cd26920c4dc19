// DecisionTree: the classifier crv learns from labelled boots (C4.5) and the
// conditional statements it folds into.
//
// Learning (C45Learner) follows Quinlan's C4.5 release 8: gain ratio among
// attributes whose gain is at least the average; binary thresholds on
// continuous attributes with the MDL correction of the gain (log2 of the
// number of candidate cuts over N) and the threshold moved to the largest
// training value not above the midpoint; multiway splits on nominal
// attributes; at least `min_leaf` cases in two branches of any split;
// pessimistic-error pruning by subtree replacement at confidence `cf`.
// Ties go to the lower attribute index and the lower class index, so the same
// data always gives the same tree.
// Thread-safety: a built tree is immutable; Classify may run on any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/status.h"

namespace crv {

struct Attribute {
  std::string name;
  // Empty: continuous. Otherwise nominal with these values (coded 0..n-1).
  std::vector<std::string> values;
  bool nominal() const { return !values.empty(); }
};

struct Dataset {
  std::vector<Attribute> attributes;
  std::vector<std::string> classes;
  std::vector<std::vector<double>> rows;  // rows[i][attribute]
  std::vector<int> labels;                // class index per row
  // Which group (boot) each row came from; used for grouped cross-validation.
  std::vector<int> groups;

  void Add(std::vector<double> row, int label, int group = 0) {
    rows.push_back(std::move(row));
    labels.push_back(label);
    groups.push_back(group);
  }
  size_t size() const { return rows.size(); }
};

struct TreeNode {
  int attribute = -1;          // -1: leaf
  double threshold = 0;        // continuous: <= threshold goes to children[0]
  int klass = 0;               // majority class of the cases that reached the node
  std::vector<double> counts;  // cases per class at this node
  std::vector<std::unique_ptr<TreeNode>> children;
  bool leaf() const { return attribute < 0; }
  double total() const;
};

struct C45Params {
  double confidence = 0.25;  // pruning confidence (CF); 1.0 disables pruning
  int min_leaf = 2;          // MINOBJS
  int max_depth = 40;
  // C4.5 release 8 charges log2(candidate cuts)/N against a continuous
  // attribute's gain; off, growth is release 7's (greedier, more overfit).
  bool mdl_correction = true;
};

struct Prediction {
  int klass = 0;
  double confidence = 0;  // purity of the leaf reached
};

class DecisionTree {
 public:
  DecisionTree() = default;
  DecisionTree(std::vector<Attribute> attributes, std::vector<std::string> classes, std::unique_ptr<TreeNode> root)
      : attributes_(std::move(attributes)), classes_(std::move(classes)), root_(std::move(root)) {}

  Prediction Classify(const std::vector<double>& row) const;
  const std::vector<Attribute>& attributes() const { return attributes_; }
  const std::vector<std::string>& classes() const { return classes_; }
  const TreeNode& root() const { return *root_; }
  int leaves() const;
  int depth() const;

  // The tree folded into nested if/then/else statements.
  std::string ToRules() const;
  nlohmann::json ToJson() const;
  // Validates everything: attribute indices, thresholds, child counts, class
  // indices, depth. Errors name the JSON path of the bad node.
  static Result<DecisionTree> FromJson(const nlohmann::json& j, std::vector<Attribute> attributes,
                                       std::vector<std::string> classes);

 private:
  std::vector<Attribute> attributes_;
  std::vector<std::string> classes_;
  std::unique_ptr<TreeNode> root_;
};

// Builds (and prunes) a tree from the rows of `data` listed in `rows`
// (all rows when empty).
Result<DecisionTree> TrainC45(const Dataset& data, const C45Params& params, const std::vector<size_t>& rows = {});

// Exposed for tests: C4.5's upper-bound estimate of extra errors for a leaf
// with N cases and E errors at confidence cf.
double C45AddErrors(double n, double e, double cf);

// Gain ratio of splitting `rows` on attribute `a` (nominal: one branch per
// value; continuous: best threshold, returned in *threshold). For tests.
double C45GainRatio(const Dataset& data, const std::vector<size_t>& rows, int a, int min_leaf, double* gain,
                    double* threshold);

}  // namespace crv
