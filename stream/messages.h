// The JSON messages of the Kafka topics besides frames: action requests
// (processing daemon -> host agent), action results (agent -> daemons) and
// state events (daemons -> anyone). Every message from the stream is parsed
// here, field by field with its type checked; a bad one is an error that
// names the field, never an exception (fuzzed: tests/fuzz/stream_message_fuzz.cc).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "core/status.h"

namespace crv {

struct ActionRequest {
  std::string request_id, vm, host, action;  // action: "confirm" or "screenshot"
  uint64_t boot_id = 0;
  int64_t t_ns = 0;  // when it was asked (wall clock)
  std::string ToJson() const;
};

struct ActionResult {
  std::string request_id, vm, host, action;
  uint64_t boot_id = 0;
  bool ok = false, settled = false, text_ok = false, work_in_progress = false;
  std::string screenshot, ocr_text, failure_category, note, error;
  std::string ToJson() const;
};

Result<ActionRequest> ParseActionRequest(std::span<const uint8_t> bytes);
Result<ActionResult> ParseActionResult(std::span<const uint8_t> bytes);
// The dedup key of a state event ("event_key"), or an error.
Result<std::string> ParseStateEventKey(std::span<const uint8_t> bytes);

}  // namespace crv
