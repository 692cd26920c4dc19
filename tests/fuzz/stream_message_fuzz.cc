// Fuzz target: the JSON messages that arrive from Kafka besides frames —
// action requests (read by host agents), action results and state events
// (read by processing daemons). A parsed message must survive a round trip.
#include <cstddef>
#include <cstdint>
#include <span>

#include "stream/messages.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> bytes(data, size);
  if (auto r = crv::ParseActionRequest(bytes); r.ok()) {
    const std::string again = r->ToJson();
    auto r2 =
        crv::ParseActionRequest(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(again.data()), again.size()));
    if (!r2.ok() || r2->vm != r->vm || r2->boot_id != r->boot_id) __builtin_trap();
  }
  if (auto r = crv::ParseActionResult(bytes); r.ok()) {
    const std::string again = r->ToJson();
    auto r2 =
        crv::ParseActionResult(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(again.data()), again.size()));
    if (!r2.ok() || r2->ocr_text != r->ocr_text) __builtin_trap();
  }
  (void)crv::ParseStateEventKey(bytes);
  return 0;
}
