// Screens: screenshots of a VM's display through QMP, and the comparison
// that decides whether the screen has settled.
//
// Contract: Screendump() asks QEMU to write the display to a file (PPM for
// comparison, or PNG to keep); ParsePpm() reads QEMU's binary PPM (P6,
// maxval 255) and refuses anything else with the reason (it is the parser of
// a guest-influenced file: fuzzed). CountChangedPixels() compares two frames
// of the same size outside the exclusion rectangles (a clock, a cursor).
// Thread-safety: pure functions, plus a QmpClient owned by the caller.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "collectors/qemu/qmp_client.h"
#include "core/status.h"

namespace crv {

struct Image {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;  // width * height * 3
};

struct Rect {
  int x = 0, y = 0, w = 0, h = 0;
};
// "X,Y,W,H"
Result<Rect> ParseRect(const std::string& s);

Result<Image> ParsePpm(const uint8_t* data, size_t size);
Result<Image> ReadPpmFile(const std::string& path);

// Pixels that differ between a and b outside `mask`; a size change counts as
// every pixel changed.
uint64_t CountChangedPixels(const Image& a, const Image& b, const std::vector<Rect>& mask);

// QMP screendump to `path`; format "ppm" or "png".
Status Screendump(QmpClient& qmp, const std::string& path, const std::string& format = "ppm");

constexpr size_t kMaxImageBytes = 64u << 20;

}  // namespace crv
