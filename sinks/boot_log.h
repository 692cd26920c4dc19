// BootLog: the boot-status log, one row per verification, in SQLite (the
// embedded default). The same record is what `crv verify --json` prints.
// Thread-safety: one writer; SQLite serialises access from several processes.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"

struct sqlite3;

namespace crv {

struct VerificationRecord {
  std::string vm;          // VM id
  std::string image;       // disk image, kernel or QMP socket verified
  int64_t started_ns = 0;  // wall clock
  std::string verdict;     // success, failure, timeout, error
  std::string error_category;
  nlohmann::json timeline = nlohmann::json::array();  // [{t_s, from, to}]
  double time_to_verdict_s = 0;
  std::string screenshot;
  std::string ocr_text;
  std::string model_id;
  std::string detail;  // why, in words

  nlohmann::json ToJson() const;
};

class BootLog {
 public:
  static Result<std::unique_ptr<BootLog>> Open(const std::string& path);
  ~BootLog();
  // Returns the new row's id.
  Result<int64_t> Insert(const VerificationRecord& r);
  // The newest `limit` rows, newest first.
  Result<std::vector<VerificationRecord>> Recent(int limit);

 private:
  explicit BootLog(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

}  // namespace crv
