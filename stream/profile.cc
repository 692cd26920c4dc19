#include "stream/profile.h"

#include <openssl/evp.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace crv {
namespace fs = std::filesystem;

std::string Profile::name() const { return fs::path(dir).filename().string(); }

nlohmann::json Profile::ToJson() const {
  nlohmann::json changes = nlohmann::json::array();
  for (const auto& c : labels.changes())
    changes.push_back({{"t_ns", c.t_ns}, {"label", c.label}, {"source", c.source}});
  return {{"format", "crv-profile"},
          {"version", kProfileVersion},
          {"vm_id", vm_id},
          {"guest", guest},
          {"hz", hz},
          {"label_rules", label_rules},
          {"initial_label", labels.initial()},
          {"labels", changes},
          {"final_label", labels.current()},
          {"frames", "frames.crvf"},
          {"serial_log", serial_log.empty() ? nlohmann::json(nullptr) : nlohmann::json("serial.log")}};
}

Status SaveProfileJson(const Profile& p) {
  const std::string path = p.dir + "/profile.json";
  std::ofstream out(path);
  out << p.ToJson().dump(2) << "\n";
  if (!out) return Internal("cannot write " + path);
  return Status::Ok();
}

Result<Profile> LoadProfile(const std::string& dir) {
  const std::string path = dir + "/profile.json";
  std::ifstream in(path);
  if (!in) return NotFound("no profile at " + dir + " (expected " + path + ")");
  auto j = nlohmann::json::parse(in, nullptr, false);
  auto bad = [&](const std::string& what) { return InvalidArgument(path + ": " + what); };
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  if (j.value("format", "") != "crv-profile") return bad("\"format\" is not \"crv-profile\"");
  if (!j.contains("version") || !j["version"].is_number_integer()) return bad("\"version\" missing");
  if (j["version"].get<int>() != kProfileVersion) {
    return bad("profile version " + std::to_string(j["version"].get<int>()) + " is not supported (this crv reads " +
               std::to_string(kProfileVersion) + ")");
  }
  Profile p;
  p.dir = fs::absolute(dir).lexically_normal().string();
  if (!p.dir.empty() && p.dir.back() == '/') p.dir.pop_back();
  try {
    p.vm_id = j.at("vm_id").get<std::string>();
    p.guest = j.value("guest", nlohmann::json::object());
    p.hz = j.at("hz").get<double>();
    p.label_rules = j.value("label_rules", std::vector<std::string>{});
    const std::string initial = j.at("initial_label").get<std::string>();
    CRV_RETURN_IF_ERROR(ValidateLabelName(initial).WithContext(path + ": initial_label"));
    p.labels = LabelTimeline(initial);
    int64_t last = INT64_MIN;
    for (const auto& c : j.at("labels")) {
      const int64_t t = c.at("t_ns").get<int64_t>();
      const std::string l = c.at("label").get<std::string>();
      CRV_RETURN_IF_ERROR(ValidateLabelName(l).WithContext(path + ": labels"));
      if (t < last) return bad("labels are not in time order");
      last = t;
      p.labels.Change(t, l, c.value("source", ""));
    }
    const std::string frames = j.at("frames").get<std::string>();
    if (frames.find('/') != std::string::npos) return bad("\"frames\" must be a file name inside the profile");
    p.frames_file = p.dir + "/" + frames;
    if (j.contains("serial_log") && j["serial_log"].is_string())
      p.serial_log = p.dir + "/" + j["serial_log"].get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    return bad(std::string("missing or mistyped field: ") + e.what());
  }
  if (!(p.hz > 0)) return bad("\"hz\" must be positive");
  if (!fs::exists(p.frames_file)) return NotFound(path + ": frame file " + p.frames_file + " is missing");
  return p;
}

std::string Sha256Hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

Result<std::string> Sha256File(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return Sha256Hex(ss.str());
}

}  // namespace crv
