// Fuzz target: a whole frame file, read and replayed through the operator.
#include <cstddef>
#include <cstdint>

#include "operators/window_features.h"
#include "stream/frame_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto reader = crv::FrameFileReader::FromBytes(std::vector<uint8_t>(data, data + size));
  if (!reader.ok()) return 0;
  crv::WindowFeatureOperator op(crv::WindowConfig{4, 2});
  std::vector<crv::FeatureVector> out;
  crv::FrameBatch batch;
  for (int i = 0; i < 10000; ++i) {
    auto rec = (*reader)->Next();
    if (!rec.ok() || !rec->has_value()) break;
    if (crv::DecodeBatch(**rec, &batch).ok()) op.Add(batch, &out);
  }
  for (const auto& fv : out) {
    for (double h : fv.entropy) {
      if (!(h >= 0.0 && h <= 2.0 + 1e-9)) __builtin_trap();  // log2(4) bounds a 4-tick window
    }
  }
  return 0;
}
