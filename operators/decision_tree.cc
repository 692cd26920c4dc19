#include "operators/decision_tree.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <numeric>

namespace crv {
namespace {

constexpr double kEpsilon = 1e-3;

double Info(const std::vector<double>& counts, double total) {
  if (total <= 0) return 0;
  double h = 0;
  for (double c : counts) {
    if (c > 0) h -= c / total * std::log2(c / total);
  }
  return h;
}

int Majority(const std::vector<double>& counts) {
  int best = 0;
  for (size_t c = 1; c < counts.size(); ++c) {
    if (counts[c] > counts[best]) best = static_cast<int>(c);
  }
  return best;
}

struct Split {
  double gain = -std::numeric_limits<double>::infinity();
  double ratio = 0;
  double threshold = 0;  // midpoint, continuous only
};

Split EvaluateNominal(const Dataset& d, const std::vector<size_t>& rows, int a, int min_leaf, double base_info) {
  const size_t nv = d.attributes[a].values.size();
  std::vector<std::vector<double>> counts(nv, std::vector<double>(d.classes.size(), 0));
  std::vector<double> sizes(nv, 0);
  for (size_t r : rows) {
    const int v = static_cast<int>(d.rows[r][a]);
    counts[v][d.labels[r]] += 1;
    sizes[v] += 1;
  }
  const double n = static_cast<double>(rows.size());
  int reasonable = 0;
  double rest = 0, split_info = 0;
  for (size_t v = 0; v < nv; ++v) {
    if (sizes[v] >= min_leaf) ++reasonable;
    if (sizes[v] > 0) {
      rest += sizes[v] / n * Info(counts[v], sizes[v]);
      split_info -= sizes[v] / n * std::log2(sizes[v] / n);
    }
  }
  Split s;
  if (reasonable < 2) return s;
  s.gain = base_info - rest;
  s.ratio = split_info > kEpsilon ? s.gain / split_info : 0;
  return s;
}

Split EvaluateContinuous(const Dataset& d, const std::vector<size_t>& rows, int a, int min_leaf, double base_info,
                         bool mdl) {
  std::vector<size_t> sorted = rows;
  std::stable_sort(sorted.begin(), sorted.end(), [&](size_t x, size_t y) { return d.rows[x][a] < d.rows[y][a]; });
  const size_t k = d.classes.size();
  const double n = static_cast<double>(rows.size());
  // C4.5 release 8: the minimum branch size grows with the node.
  double min_split = 0.10 * n / static_cast<double>(k);
  if (min_split <= min_leaf) min_split = min_leaf;
  if (min_split > 25) min_split = 25;
  std::vector<double> low(k, 0), high(k, 0);
  for (size_t r : sorted) high[d.labels[r]] += 1;
  Split best;
  double best_raw_gain = -1;
  size_t best_i = 0;
  int tested = 0;
  for (size_t i = 0; i + 1 < sorted.size(); ++i) {
    const int c = d.labels[sorted[i]];
    low[c] += 1;
    high[c] -= 1;
    const double nl = static_cast<double>(i + 1), nh = n - nl;
    const double v = d.rows[sorted[i]][a], next = d.rows[sorted[i + 1]][a];
    if (!(next > v + 1e-5) || nl < min_split || nh < min_split) continue;
    ++tested;
    const double gain = base_info - (nl / n * Info(low, nl) + nh / n * Info(high, nh));
    if (gain > best_raw_gain) {
      best_raw_gain = gain;
      best_i = i;
    }
  }
  if (tested == 0) return best;
  const double nl = static_cast<double>(best_i + 1), nh = n - nl;
  best.gain = best_raw_gain - (mdl ? std::log2(static_cast<double>(tested)) / n : 0);  // MDL cost of a cut
  const double split_info = -(nl / n * std::log2(nl / n) + nh / n * std::log2(nh / n));
  best.ratio = split_info > kEpsilon ? best.gain / split_info : 0;
  best.threshold = (d.rows[sorted[best_i]][a] + d.rows[sorted[best_i + 1]][a]) / 2;
  return best;
}

Split Evaluate(const Dataset& d, const std::vector<size_t>& rows, int a, int min_leaf, double base_info,
               bool mdl = true) {
  return d.attributes[a].nominal() ? EvaluateNominal(d, rows, a, min_leaf, base_info)
                                   : EvaluateContinuous(d, rows, a, min_leaf, base_info, mdl);
}

std::vector<double> ClassCounts(const Dataset& d, const std::vector<size_t>& rows) {
  std::vector<double> counts(d.classes.size(), 0);
  for (size_t r : rows) counts[d.labels[r]] += 1;
  return counts;
}

class Builder {
 public:
  Builder(const Dataset& d, const C45Params& p, const std::vector<size_t>& all_rows)
      : d_(d), p_(p), all_rows_(all_rows) {}

  std::unique_ptr<TreeNode> Build(const std::vector<size_t>& rows, int depth, int parent_class) {
    auto node = std::make_unique<TreeNode>();
    node->counts = ClassCounts(d_, rows);
    const double n = static_cast<double>(rows.size());
    node->klass = n > 0 ? Majority(node->counts) : parent_class;
    if (n == 0 || node->counts[node->klass] == n || n < 2 * p_.min_leaf || depth >= p_.max_depth) return node;

    const double base = Info(node->counts, n);
    std::vector<Split> splits(d_.attributes.size());
    double total_gain = 0;
    int possible = 0;
    for (size_t a = 0; a < d_.attributes.size(); ++a) {
      splits[a] = Evaluate(d_, rows, static_cast<int>(a), p_.min_leaf, base, p_.mdl_correction);
      if (splits[a].gain > -kEpsilon) {
        total_gain += splits[a].gain;
        ++possible;
      }
    }
    if (possible == 0) return node;
    const double average = total_gain / possible;
    int best = -1;
    for (size_t a = 0; a < splits.size(); ++a) {
      const Split& s = splits[a];
      if (s.gain >= average - kEpsilon && s.gain > kEpsilon && (best < 0 || s.ratio > splits[best].ratio + 1e-12)) {
        best = static_cast<int>(a);
      }
    }
    if (best < 0) return node;

    node->attribute = best;
    const Attribute& attr = d_.attributes[best];
    std::vector<std::vector<size_t>> parts(attr.nominal() ? attr.values.size() : 2);
    if (attr.nominal()) {
      for (size_t r : rows) parts[static_cast<size_t>(d_.rows[r][best])].push_back(r);
    } else {
      node->threshold = GreatestValueBelow(best, splits[best].threshold);
      for (size_t r : rows) parts[d_.rows[r][best] <= node->threshold ? 0 : 1].push_back(r);
    }
    for (auto& part : parts) node->children.push_back(Build(part, depth + 1, node->klass));
    return node;
  }

 private:
  // C4.5 moves a cut to the largest value of the attribute in the whole
  // training set that does not exceed it, so thresholds are values seen.
  double GreatestValueBelow(int a, double cut) const {
    double best = -std::numeric_limits<double>::infinity();
    for (size_t r : all_rows_) {
      const double v = d_.rows[r][a];
      if (v <= cut && v > best) best = v;
    }
    return std::isfinite(best) ? best : cut;
  }

  const Dataset& d_;
  const C45Params& p_;
  const std::vector<size_t>& all_rows_;
};

double LeafErrors(const TreeNode& n, double cf) {
  const double total = n.total();
  const double e = total - (total > 0 ? n.counts[Majority(n.counts)] : 0);
  return e + C45AddErrors(total, e, cf);
}

// Subtree replacement, bottom-up. Returns the estimated errors of the
// (possibly pruned) subtree.
double Prune(TreeNode* n, double cf) {
  if (n->leaf()) return LeafErrors(*n, cf);
  double subtree = 0;
  for (auto& c : n->children) subtree += Prune(c.get(), cf);
  const double as_leaf = LeafErrors(*n, cf);
  if (as_leaf <= subtree + 0.1) {
    n->attribute = -1;
    n->children.clear();
    return as_leaf;
  }
  return subtree;
}

}  // namespace

double TreeNode::total() const { return std::accumulate(counts.begin(), counts.end(), 0.0); }

double C45AddErrors(double n, double e, double cf) {
  // Quinlan's C4.5 (stats.c): the normal deviate for cf interpolated from a
  // small table, then the upper confidence limit of the binomial error rate.
  static const double kVal[] = {0, 0.001, 0.005, 0.01, 0.05, 0.10, 0.20, 0.40, 1.00};
  static const double kDev[] = {4.0, 3.09, 2.58, 2.33, 1.65, 1.28, 0.84, 0.25, 0.00};
  if (n <= 0) return 0;
  int i = 0;
  while (cf > kVal[i]) ++i;
  double coeff =
      i == 0 ? kDev[0] : kDev[i - 1] + (kDev[i] - kDev[i - 1]) * (cf - kVal[i - 1]) / (kVal[i] - kVal[i - 1]);
  coeff *= coeff;
  if (e < 1e-6) return n * (1 - std::exp(std::log(cf) / n));
  if (e < 0.9999) {
    const double v0 = n * (1 - std::exp(std::log(cf) / n));
    return v0 + e * (C45AddErrors(n, 1.0, cf) - v0);
  }
  if (e + 0.5 >= n) return 0.67 * (n - e);
  const double pr =
      (e + 0.5 + coeff / 2 + std::sqrt(coeff * ((e + 0.5) * (1 - (e + 0.5) / n) + coeff / 4))) / (n + coeff);
  return n * pr - e;
}

double C45GainRatio(const Dataset& data, const std::vector<size_t>& rows, int a, int min_leaf, double* gain,
                    double* threshold) {
  const auto counts = ClassCounts(data, rows);
  const Split s = Evaluate(data, rows, a, min_leaf, Info(counts, static_cast<double>(rows.size())));
  if (gain) *gain = s.gain;
  if (threshold) *threshold = s.threshold;
  return s.ratio;
}

Result<DecisionTree> TrainC45(const Dataset& data, const C45Params& params, const std::vector<size_t>& rows_in) {
  if (data.classes.empty()) return InvalidArgument("training set has no classes");
  if (data.attributes.empty()) return InvalidArgument("training set has no attributes");
  if (params.confidence <= 0 || params.confidence > 1) {
    return InvalidArgument("pruning confidence must be in (0, 1], got " + std::to_string(params.confidence));
  }
  if (params.min_leaf < 1) return InvalidArgument("minimum leaf size must be at least 1");
  std::vector<size_t> rows = rows_in;
  if (rows.empty()) {
    rows.resize(data.size());
    std::iota(rows.begin(), rows.end(), 0);
  }
  if (rows.empty()) return InvalidArgument("training set is empty");
  for (size_t r : rows) {
    if (data.rows[r].size() != data.attributes.size()) {
      return InvalidArgument("row " + std::to_string(r) + " has " + std::to_string(data.rows[r].size()) +
                             " values for " + std::to_string(data.attributes.size()) + " attributes");
    }
    if (data.labels[r] < 0 || data.labels[r] >= static_cast<int>(data.classes.size())) {
      return InvalidArgument("row " + std::to_string(r) + " has an unknown class");
    }
    for (size_t a = 0; a < data.attributes.size(); ++a) {
      const double v = data.rows[r][a];
      if (!std::isfinite(v))
        return InvalidArgument("row " + std::to_string(r) + ": " + data.attributes[a].name + " is not finite");
      if (data.attributes[a].nominal() &&
          (v < 0 || v >= static_cast<double>(data.attributes[a].values.size()) || v != std::floor(v))) {
        return InvalidArgument("row " + std::to_string(r) + ": " + data.attributes[a].name +
                               " is not one of its values");
      }
    }
  }
  Builder b(data, params, rows);
  auto root = b.Build(rows, 0, 0);
  if (params.confidence < 1.0) Prune(root.get(), params.confidence);
  return DecisionTree(data.attributes, data.classes, std::move(root));
}

Prediction DecisionTree::Classify(const std::vector<double>& row) const {
  const TreeNode* n = root_.get();
  while (!n->leaf()) {
    const Attribute& a = attributes_[n->attribute];
    size_t child;
    if (a.nominal()) {
      child = static_cast<size_t>(row[n->attribute]);
      if (child >= n->children.size()) break;  // unseen value: the node's majority
    } else {
      child = row[n->attribute] <= n->threshold ? 0 : 1;
    }
    const TreeNode* next = n->children[child].get();
    if (next->total() <= 0) break;  // an empty branch predicts its parent's class
    n = next;
  }
  const double total = n->total();
  return Prediction{n->klass, total > 0 ? n->counts[n->klass] / total : 0};
}

int DecisionTree::leaves() const {
  std::function<int(const TreeNode&)> count = [&](const TreeNode& n) {
    if (n.leaf()) return 1;
    int s = 0;
    for (auto& c : n.children) s += count(*c);
    return s;
  };
  return count(*root_);
}

int DecisionTree::depth() const {
  std::function<int(const TreeNode&)> d = [&](const TreeNode& n) {
    int m = 0;
    for (auto& c : n.children) m = std::max(m, d(*c));
    return n.leaf() ? 0 : m + 1;
  };
  return d(*root_);
}

std::string DecisionTree::ToRules() const {
  std::string out;
  char buf[256];
  std::function<void(const TreeNode&, int)> emit = [&](const TreeNode& n, int indent) {
    const std::string pad(static_cast<size_t>(indent) * 2, ' ');
    if (n.leaf()) {
      const double total = n.total();
      std::snprintf(buf, sizeof(buf), "state = %s;  // purity %.3f, %.0f windows\n", classes_[n.klass].c_str(),
                    total > 0 ? n.counts[n.klass] / total : 0.0, total);
      out += pad + buf;
      return;
    }
    const Attribute& a = attributes_[n.attribute];
    if (a.nominal()) {
      for (size_t v = 0; v < n.children.size(); ++v) {
        out += pad + (v == 0 ? "if (" : "} else if (") + a.name + " == " + a.values[v] + ") {\n";
        emit(*n.children[v], indent + 1);
      }
    } else {
      std::snprintf(buf, sizeof(buf), "%.6g", n.threshold);
      out += pad + "if (" + a.name + " <= " + buf + ") {\n";
      emit(*n.children[0], indent + 1);
      out += pad + "} else {\n";
      emit(*n.children[1], indent + 1);
    }
    out += pad + "}\n";
  };
  emit(*root_, 0);
  return out;
}

nlohmann::json DecisionTree::ToJson() const {
  std::function<nlohmann::json(const TreeNode&)> to = [&](const TreeNode& n) {
    nlohmann::json j = {{"class", n.klass}, {"counts", n.counts}};
    if (!n.leaf()) {
      j["attribute"] = n.attribute;
      if (!attributes_[n.attribute].nominal()) j["threshold"] = n.threshold;
      nlohmann::json kids = nlohmann::json::array();
      for (auto& c : n.children) kids.push_back(to(*c));
      j["children"] = std::move(kids);
    }
    return j;
  };
  return to(*root_);
}

Result<DecisionTree> DecisionTree::FromJson(const nlohmann::json& j, std::vector<Attribute> attributes,
                                            std::vector<std::string> classes) {
  constexpr int kMaxDepth = 200;
  constexpr size_t kMaxNodes = 1'000'000;
  size_t nodes = 0;
  std::function<Result<std::unique_ptr<TreeNode>>(const nlohmann::json&, const std::string&, int)> from =
      [&](const nlohmann::json& n, const std::string& path, int depth) -> Result<std::unique_ptr<TreeNode>> {
    if (depth > kMaxDepth) return InvalidArgument(path + ": tree deeper than " + std::to_string(kMaxDepth));
    if (++nodes > kMaxNodes) return InvalidArgument(path + ": more than " + std::to_string(kMaxNodes) + " nodes");
    if (!n.is_object()) return InvalidArgument(path + ": a node must be an object");
    auto node = std::make_unique<TreeNode>();
    if (!n.contains("class") || !n["class"].is_number_integer())
      return InvalidArgument(path + ".class: missing or not an integer");
    node->klass = n["class"].get<int>();
    if (node->klass < 0 || node->klass >= static_cast<int>(classes.size())) {
      return InvalidArgument(path + ".class: " + std::to_string(node->klass) + " is not a class index (0.." +
                             std::to_string(classes.size() - 1) + ")");
    }
    if (!n.contains("counts") || !n["counts"].is_array() || n["counts"].size() != classes.size()) {
      return InvalidArgument(path + ".counts: must be an array of " + std::to_string(classes.size()) + " numbers");
    }
    for (const auto& c : n["counts"]) {
      if (!c.is_number() || !(c.get<double>() >= 0) || !std::isfinite(c.get<double>())) {
        return InvalidArgument(path + ".counts: must hold non-negative numbers");
      }
      node->counts.push_back(c.get<double>());
    }
    if (!n.contains("attribute")) return node;
    if (!n["attribute"].is_number_integer()) return InvalidArgument(path + ".attribute: not an integer");
    node->attribute = n["attribute"].get<int>();
    if (node->attribute < 0 || node->attribute >= static_cast<int>(attributes.size())) {
      return InvalidArgument(path + ".attribute: " + std::to_string(node->attribute) + " is not a feature index");
    }
    const Attribute& a = attributes[node->attribute];
    const size_t want = a.nominal() ? a.values.size() : 2;
    if (!a.nominal()) {
      if (!n.contains("threshold") || !n["threshold"].is_number() || !std::isfinite(n["threshold"].get<double>())) {
        return InvalidArgument(path + ".threshold: missing or not a finite number");
      }
      node->threshold = n["threshold"].get<double>();
    }
    if (!n.contains("children") || !n["children"].is_array() || n["children"].size() != want) {
      return InvalidArgument(path + ".children: must be an array of " + std::to_string(want) + " nodes");
    }
    for (size_t i = 0; i < want; ++i) {
      CRV_ASSIGN_OR_RETURN(auto child,
                           from(n["children"][i], path + ".children[" + std::to_string(i) + "]", depth + 1));
      node->children.push_back(std::move(child));
    }
    return node;
  };
  if (classes.empty()) return InvalidArgument("model has no classes");
  CRV_ASSIGN_OR_RETURN(auto root, from(j, "tree", 0));
  return DecisionTree(std::move(attributes), std::move(classes), std::move(root));
}

}  // namespace crv
