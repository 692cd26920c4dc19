// ScreenCheck: the screen's side of a boot verdict, shared by `crv verify`
// and the host agent (`crv collect`, on action requests).
//
// Confirm(): two screenshots `settle_ms` apart must be unchanged outside the
// mask (a settled screen); then the PNG screenshot is read (OCR). A failure
// signature names an error category; "waiting/loading/starting" in the last
// lines means work in progress. Evidence(): the PNG screenshot and its text,
// without the settle check (the proof kept with a verdict).
//
// Screenshots go through a Shooter (QMP screendump, libvirt...) so the check
// does not care which backend owns the display. With `metrics`, screenshot
// and OCR durations and failures are counted.
// Thread-safety: one check at a time per ScreenCheck object.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "sinks/metrics/metrics.h"
#include "sinks/screen.h"

namespace crv {

struct ScreenCheckOptions {
  std::string workdir;  // for the two settle PPMs (removed after use)
  int settle_ms = 500;
  double max_changed_share = 0.002;
  std::vector<Rect> mask;
  int ocr_timeout_ms = 30000;
  bool ocr = true;
};

struct ScreenReading {
  bool settled = false;    // Confirm only
  std::string screenshot;  // PNG path ("" when none was taken)
  std::string text;        // OCR text ("" when OCR failed or was off)
  bool text_ok = false;
  std::string failure_category;  // from the failure catalogue, "" if none
  bool work_in_progress = false;
  std::string note;  // why not confirmed, or what failed
};

class ScreenCheck {
 public:
  // Writes the display to `path` in `format` ("ppm" or "png").
  using Shooter = std::function<Status(const std::string& path, const std::string& format)>;

  ScreenCheck(Shooter shooter, ScreenCheckOptions options, Metrics* metrics = nullptr)
      : shoot_(std::move(shooter)), o_(std::move(options)), metrics_(metrics) {}

  // The settle check, then the screenshot `png` and its text.
  ScreenReading Confirm(const std::string& png);
  // The screenshot `png` and (if options.ocr and `ocr`) its text.
  ScreenReading Evidence(const std::string& png, bool ocr = true);
  // One timed screenshot (counted in metrics).
  Status Shot(const std::string& path, const std::string& format);

 private:
  void Read(ScreenReading* r, bool ocr = true);
  Shooter shoot_;
  ScreenCheckOptions o_;
  Metrics* metrics_;
};

}  // namespace crv
