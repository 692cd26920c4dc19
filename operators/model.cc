#include "operators/model.h"

#include <fstream>
#include <map>
#include <sstream>

#include "core/features.h"
#include "stream/frame_file.h"

namespace crv {

const std::vector<std::string>& FeatureNames() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> n;
    for (auto r : RegisterNames()) n.push_back("H." + std::string(r));
    for (auto d : DerivedFeatureNames()) n.emplace_back(d);
    return n;
  }();
  return kNames;
}

std::vector<double> FeatureRow(const FeatureVector& fv) {
  std::vector<double> row(fv.entropy.begin(), fv.entropy.end());
  row.insert(row.end(), fv.derived.begin(), fv.derived.end());
  return row;
}

Result<std::vector<LabeledWindow>> LabelProfileWindows(const Profile& p, const WindowConfig& window) {
  CRV_RETURN_IF_ERROR(ValidateWindowConfig(window));
  CRV_ASSIGN_OR_RETURN(auto reader, FrameFileReader::Open(p.frames_file));
  WindowFeatureOperator op(window);
  std::vector<FeatureVector> out;
  FrameBatch batch;
  for (;;) {
    auto rec = reader->Next();
    if (!rec.ok()) break;  // a truncated tail: keep what came before
    if (!rec->has_value()) break;
    if (!DecodeBatch(**rec, &batch).ok()) continue;
    op.Add(batch, &out);
  }
  std::vector<LabeledWindow> labeled;
  labeled.reserve(out.size());
  for (auto& fv : out) {
    std::string l = p.labels.Over(fv.start_ns, fv.end_ns);
    labeled.push_back(LabeledWindow{std::move(fv), std::move(l)});
  }
  return labeled;
}

Result<TrainingSet> BuildTrainingSet(const std::vector<Profile>& profiles, const WindowConfig& window) {
  if (profiles.empty()) return InvalidArgument("no profiles to train on");
  TrainingSet set;
  for (const auto& name : FeatureNames()) set.data.attributes.push_back(Attribute{name, {}});
  std::map<std::string, int> class_index;
  // Classes in order of first appearance over sorted profiles: deterministic.
  for (size_t g = 0; g < profiles.size(); ++g) {
    CRV_ASSIGN_OR_RETURN(auto windows, LabelProfileWindows(profiles[g], window));
    set.profiles.push_back(profiles[g].dir);
    set.final_labels.push_back(profiles[g].labels.current());
    set.last_window.push_back(windows.empty() ? std::vector<double>() : FeatureRow(windows.back().features));
    for (auto& w : windows) {
      if (w.label.empty()) {
        ++set.straddling;
        continue;
      }
      auto [it, inserted] = class_index.emplace(w.label, static_cast<int>(set.data.classes.size()));
      if (inserted) set.data.classes.push_back(w.label);
      set.data.Add(FeatureRow(w.features), it->second, static_cast<int>(g));
    }
  }
  if (set.data.size() == 0) return InvalidArgument("the profiles gave no labelled windows (recordings too short?)");
  return set;
}

Prediction Model::Classify(const FeatureVector& fv) const {
  const std::vector<double> all = FeatureRow(fv);
  std::vector<double> row(feature_index.size());
  for (size_t i = 0; i < feature_index.size(); ++i) row[i] = all[feature_index[i]];
  return tree.Classify(row);
}

nlohmann::json Model::ToJson() const {
  std::vector<std::string> features;
  for (const auto& a : tree.attributes()) features.push_back(a.name);
  return {{"format", "crv-model"},
          {"version", kModelVersion},
          {"id", id},
          {"created_by", std::string("crv ") + CRV_VERSION},
          {"window", {{"length", window.length}, {"hop", window.hop}}},
          {"features", features},
          {"classes", tree.classes()},
          {"provenance", provenance},
          {"tree", tree.ToJson()}};
}

namespace {
std::string ComputeId(const nlohmann::json& j) {
  const nlohmann::json core = {
      {"window", j["window"]}, {"features", j["features"]}, {"classes", j["classes"]}, {"tree", j["tree"]}};
  return Sha256Hex(core.dump()).substr(0, 16);
}
}  // namespace

Result<Model> TrainModel(const TrainingSet& set, const WindowConfig& window, const C45Params& params,
                         const std::vector<size_t>& rows) {
  CRV_ASSIGN_OR_RETURN(DecisionTree tree, TrainC45(set.data, params, rows));
  Model m;
  m.tree = std::move(tree);
  m.window = window;
  for (size_t i = 0; i < set.data.attributes.size(); ++i) m.feature_index.push_back(static_cast<int>(i));
  nlohmann::json training = nlohmann::json::array();
  for (size_t g = 0; g < set.profiles.size(); ++g) {
    auto sha = Sha256File(set.profiles[g] + "/frames.crvf");
    training.push_back(
        {{"profile", set.profiles[g]}, {"frames_sha256", sha.ok() ? *sha : ""}, {"final_label", set.final_labels[g]}});
  }
  m.provenance = {{"training", training},
                  {"windows", rows.empty() ? set.data.size() : rows.size()},
                  {"straddling_windows_dropped", set.straddling},
                  {"params", {{"confidence", params.confidence}, {"min_leaf", params.min_leaf}}},
                  {"algorithm", "C4.5 (gain ratio, MDL-corrected thresholds, pessimistic pruning)"}};
  m.id = ComputeId(m.ToJson());
  return m;
}

Result<Model> ParseModel(const std::string& text, const std::string& name) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  auto bad = [&](const std::string& what) { return InvalidArgument(name + ": " + what); };
  if (j.is_discarded()) return bad("not valid JSON (truncated?)");
  if (!j.is_object()) return bad("not a JSON object");
  if (!j.contains("format") || j["format"] != "crv-model") return bad("\"format\" is not \"crv-model\"");
  if (!j.contains("version") || !j["version"].is_number_integer()) return bad("\"version\" is missing");
  if (j["version"].get<int>() != kModelVersion) {
    return bad("model version " + std::to_string(j["version"].get<int>()) + " is not supported (this crv reads " +
               std::to_string(kModelVersion) + ")");
  }
  Model m;
  std::vector<Attribute> attributes;
  std::vector<std::string> classes;
  try {
    m.window.length = j.at("window").at("length").get<uint32_t>();
    m.window.hop = j.at("window").at("hop").get<uint32_t>();
    const auto& known = FeatureNames();
    for (const auto& f : j.at("features")) {
      const std::string n = f.get<std::string>();
      auto it = std::find(known.begin(), known.end(), n);
      if (it == known.end()) return bad("features: \"" + n + "\" is not a feature this crv computes");
      m.feature_index.push_back(static_cast<int>(it - known.begin()));
      attributes.push_back(Attribute{n, {}});
    }
    for (const auto& c : j.at("classes")) {
      classes.push_back(c.get<std::string>());
      CRV_RETURN_IF_ERROR(ValidateLabelName(classes.back()).WithContext(name + ": classes"));
    }
    m.provenance = j.value("provenance", nlohmann::json::object());
    m.id = j.value("id", "");
  } catch (const nlohmann::json::exception& e) {
    return bad(std::string("missing or mistyped field: ") + e.what());
  }
  CRV_RETURN_IF_ERROR(ValidateWindowConfig(m.window).WithContext(name + ": window"));
  if (attributes.empty()) return bad("features: empty");
  if (!j.contains("tree")) return bad("\"tree\" is missing");
  auto tree = DecisionTree::FromJson(j["tree"], std::move(attributes), std::move(classes));
  if (!tree.ok()) return tree.status().WithContext(name);
  m.tree = std::move(*tree);
  if (m.id != ComputeId(m.ToJson())) return bad("\"id\" does not match the model's contents (edited or corrupt)");
  return m;
}

Result<Model> LoadModel(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("cannot read model file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseModel(ss.str(), path);
}

Status SaveModel(const Model& m, const std::string& path) {
  std::ofstream out(path);
  out << m.ToJson().dump(1) << "\n";
  if (!out) return Internal("cannot write model file " + path);
  return Status::Ok();
}

}  // namespace crv
