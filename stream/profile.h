// Profiles: labelled recordings of a guest for training (crv profile).
//
// A profile is a directory:
//   profile.json  format "crv-profile" version 1: VM id, guest description,
//                 sampling rate, label rules, the label timeline, final label
//   frames.crvf   the frame file (see frame_file.h)
//   serial.log    the guest's serial console, when crv booted it
// Load() checks the format, version and every field it reads, and names the
// file and field of any problem; frames are read by the caller.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/status.h"
#include "operators/labels.h"

namespace crv {

constexpr int kProfileVersion = 1;

struct Profile {
  std::string dir;
  std::string vm_id;
  nlohmann::json guest;  // guest.json of a fixture, or {"qmp": path}
  double hz = 50;
  std::vector<std::string> label_rules;
  LabelTimeline labels;
  std::string frames_file;  // absolute path
  std::string serial_log;   // absolute path or empty

  std::string name() const;  // last component of dir
  nlohmann::json ToJson() const;
};

Result<Profile> LoadProfile(const std::string& dir);
Status SaveProfileJson(const Profile& p);

// Hex SHA-256 of a file's contents (provenance in model files).
Result<std::string> Sha256File(const std::string& path);
std::string Sha256Hex(const std::string& data);

}  // namespace crv
