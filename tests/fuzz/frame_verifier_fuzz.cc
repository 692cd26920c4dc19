// Fuzz target: a FrameBatch buffer from outside the process (stream, file).
#include <cstddef>
#include <cstdint>

#include "schemas/register_frame.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  crv::FrameBatch batch;
  if (crv::DecodeBatch({data, size}, &batch).ok()) {
    // What was accepted re-encodes and decodes to the same frames.
    auto again = crv::EncodeBatch(batch.vm_id, batch.host, batch.frames);
    crv::FrameBatch round;
    if (!crv::DecodeBatch(again, &round).ok() || !(round.frames == batch.frames)) __builtin_trap();
  }
  return 0;
}
