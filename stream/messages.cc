#include "stream/messages.h"

#include <nlohmann/json.hpp>

namespace crv {
namespace {

using nlohmann::json;

Result<json> Object(std::span<const uint8_t> bytes, const char* what) {
  json j = json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument(std::string(what) + ": not JSON");
  if (!j.is_object()) return InvalidArgument(std::string(what) + ": not a JSON object");
  return j;
}

Status Str(const json& j, const char* what, const char* key, bool required, std::string* out) {
  auto it = j.find(key);
  if (it == j.end()) return required ? InvalidArgument(std::string(what) + ": no \"" + key + "\"") : Status::Ok();
  if (!it->is_string()) return InvalidArgument(std::string(what) + ": \"" + key + "\" is not a string");
  *out = it->get<std::string>();
  return Status::Ok();
}

Status Bool(const json& j, const char* what, const char* key, bool* out) {
  auto it = j.find(key);
  if (it == j.end()) return Status::Ok();
  if (!it->is_boolean()) return InvalidArgument(std::string(what) + ": \"" + key + "\" is not true/false");
  *out = it->get<bool>();
  return Status::Ok();
}

template <typename T>
Status Int(const json& j, const char* what, const char* key, T* out) {
  auto it = j.find(key);
  if (it == j.end()) return Status::Ok();
  if (!it->is_number_integer()) return InvalidArgument(std::string(what) + ": \"" + key + "\" is not an integer");
  if (std::is_unsigned_v<T> && it->is_number_integer() && !it->is_number_unsigned() && it->get<int64_t>() < 0) {
    return InvalidArgument(std::string(what) + ": \"" + key + "\" is negative");
  }
  *out = it->get<T>();
  return Status::Ok();
}

}  // namespace

std::string ActionRequest::ToJson() const {
  return json{{"request_id", request_id}, {"vm", vm},         {"host", host},
              {"boot_id", boot_id},       {"action", action}, {"t_ns", t_ns}}
      .dump();
}

std::string ActionResult::ToJson() const {
  json j = {{"request_id", request_id},
            {"vm", vm},
            {"host", host},
            {"boot_id", boot_id},
            {"action", action},
            {"ok", ok},
            {"settled", settled},
            {"screenshot", screenshot},
            {"ocr_text", ocr_text},
            {"text_ok", text_ok},
            {"failure_category", failure_category},
            {"work_in_progress", work_in_progress}};
  if (!note.empty()) j["note"] = note;
  if (!error.empty()) j["error"] = error;
  return j.dump();
}

Result<ActionRequest> ParseActionRequest(std::span<const uint8_t> bytes) {
  const char* what = "action request";
  CRV_ASSIGN_OR_RETURN(json j, Object(bytes, what));
  ActionRequest r;
  CRV_RETURN_IF_ERROR(Str(j, what, "vm", true, &r.vm));
  CRV_RETURN_IF_ERROR(Str(j, what, "action", true, &r.action));
  CRV_RETURN_IF_ERROR(Str(j, what, "request_id", false, &r.request_id));
  CRV_RETURN_IF_ERROR(Str(j, what, "host", false, &r.host));
  CRV_RETURN_IF_ERROR(Int(j, what, "boot_id", &r.boot_id));
  CRV_RETURN_IF_ERROR(Int(j, what, "t_ns", &r.t_ns));
  if (r.vm.empty()) return InvalidArgument("action request: \"vm\" is empty");
  if (r.action != "confirm" && r.action != "screenshot") {
    return InvalidArgument("action request: unknown action \"" + r.action + "\" (confirm, screenshot)");
  }
  return r;
}

Result<ActionResult> ParseActionResult(std::span<const uint8_t> bytes) {
  const char* what = "action result";
  CRV_ASSIGN_OR_RETURN(json j, Object(bytes, what));
  ActionResult r;
  CRV_RETURN_IF_ERROR(Str(j, what, "vm", true, &r.vm));
  CRV_RETURN_IF_ERROR(Str(j, what, "action", true, &r.action));
  CRV_RETURN_IF_ERROR(Str(j, what, "request_id", false, &r.request_id));
  CRV_RETURN_IF_ERROR(Str(j, what, "host", false, &r.host));
  CRV_RETURN_IF_ERROR(Int(j, what, "boot_id", &r.boot_id));
  CRV_RETURN_IF_ERROR(Bool(j, what, "ok", &r.ok));
  CRV_RETURN_IF_ERROR(Bool(j, what, "settled", &r.settled));
  CRV_RETURN_IF_ERROR(Bool(j, what, "text_ok", &r.text_ok));
  CRV_RETURN_IF_ERROR(Bool(j, what, "work_in_progress", &r.work_in_progress));
  CRV_RETURN_IF_ERROR(Str(j, what, "screenshot", false, &r.screenshot));
  CRV_RETURN_IF_ERROR(Str(j, what, "ocr_text", false, &r.ocr_text));
  CRV_RETURN_IF_ERROR(Str(j, what, "failure_category", false, &r.failure_category));
  CRV_RETURN_IF_ERROR(Str(j, what, "note", false, &r.note));
  CRV_RETURN_IF_ERROR(Str(j, what, "error", false, &r.error));
  return r;
}

Result<std::string> ParseStateEventKey(std::span<const uint8_t> bytes) {
  const char* what = "state event";
  CRV_ASSIGN_OR_RETURN(json j, Object(bytes, what));
  std::string key;
  CRV_RETURN_IF_ERROR(Str(j, what, "event_key", true, &key));
  return key;
}

}  // namespace crv
