#include "sinks/boot_log.h"

#include <sqlite3.h>

namespace crv {

nlohmann::json VerificationRecord::ToJson() const {
  auto opt = [](const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); };
  return {{"vm", vm},
          {"image", image},
          {"started_ns", started_ns},
          {"verdict", verdict},
          {"error_category", opt(error_category)},
          {"timeline", timeline},
          {"time_to_verdict_s", time_to_verdict_s},
          {"screenshot", opt(screenshot)},
          {"ocr_text", opt(ocr_text)},
          {"model_id", opt(model_id)},
          {"detail", opt(detail)}};
}

Result<std::unique_ptr<BootLog>> BootLog::Open(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Unavailable("cannot open boot-status log " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db, 5000);
  char* err = nullptr;
  const char* schema =
      "CREATE TABLE IF NOT EXISTS verifications ("
      " id INTEGER PRIMARY KEY AUTOINCREMENT,"
      " vm TEXT NOT NULL, image TEXT, started_ns INTEGER NOT NULL, verdict TEXT NOT NULL,"
      " error_category TEXT, timeline TEXT NOT NULL, time_to_verdict_s REAL, screenshot TEXT,"
      " ocr_text TEXT, model_id TEXT, detail TEXT);";
  if (sqlite3_exec(db, schema, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "?";
    sqlite3_free(err);
    sqlite3_close(db);
    return Unavailable("boot-status log " + path + ": " + msg);
  }
  return std::unique_ptr<BootLog>(new BootLog(db));
}

BootLog::~BootLog() { sqlite3_close(db_); }

Result<int64_t> BootLog::Insert(const VerificationRecord& r) {
  sqlite3_stmt* st = nullptr;
  const char* sql =
      "INSERT INTO verifications (vm, image, started_ns, verdict, error_category, timeline, time_to_verdict_s,"
      " screenshot, ocr_text, model_id, detail) VALUES (?,?,?,?,?,?,?,?,?,?,?)";
  if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK) return Internal(sqlite3_errmsg(db_));
  auto text = [&](int i, const std::string& s) {
    if (s.empty()) {
      sqlite3_bind_null(st, i);
    } else {
      sqlite3_bind_text(st, i, s.c_str(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    }
  };
  text(1, r.vm);
  text(2, r.image);
  sqlite3_bind_int64(st, 3, r.started_ns);
  text(4, r.verdict);
  text(5, r.error_category);
  text(6, r.timeline.dump());
  sqlite3_bind_double(st, 7, r.time_to_verdict_s);
  text(8, r.screenshot);
  text(9, r.ocr_text);
  text(10, r.model_id);
  text(11, r.detail);
  const int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return Unavailable(std::string("writing the boot-status log: ") + sqlite3_errmsg(db_));
  return static_cast<int64_t>(sqlite3_last_insert_rowid(db_));
}

Result<std::vector<VerificationRecord>> BootLog::Recent(int limit) {
  sqlite3_stmt* st = nullptr;
  const char* sql =
      "SELECT vm, image, started_ns, verdict, error_category, timeline, time_to_verdict_s, screenshot, ocr_text,"
      " model_id, detail FROM verifications ORDER BY id DESC LIMIT ?";
  if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK) return Internal(sqlite3_errmsg(db_));
  sqlite3_bind_int(st, 1, limit);
  std::vector<VerificationRecord> out;
  auto col = [&](int i) {
    const unsigned char* t = sqlite3_column_text(st, i);
    return t ? std::string(reinterpret_cast<const char*>(t)) : std::string();
  };
  while (sqlite3_step(st) == SQLITE_ROW) {
    VerificationRecord r;
    r.vm = col(0);
    r.image = col(1);
    r.started_ns = sqlite3_column_int64(st, 2);
    r.verdict = col(3);
    r.error_category = col(4);
    r.timeline = nlohmann::json::parse(col(5), nullptr, false);
    r.time_to_verdict_s = sqlite3_column_double(st, 6);
    r.screenshot = col(7);
    r.ocr_text = col(8);
    r.model_id = col(9);
    r.detail = col(10);
    out.push_back(std::move(r));
  }
  sqlite3_finalize(st);
  return out;
}

}  // namespace crv
