// Fuzz target: a screenshot file (PPM) whose pixels the guest controls.
#include <cstddef>
#include <cstdint>

#include "sinks/screen.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto img = crv::ParsePpm(data, size);
  if (img.ok()) {
    if (img->rgb.size() != static_cast<size_t>(img->width) * img->height * 3) __builtin_trap();
    crv::CountChangedPixels(*img, *img, {crv::Rect{0, 0, 1, 1}});
  }
  return 0;
}
