#include "sinks/screen_check.h"

#include <chrono>
#include <filesystem>
#include <thread>

#include "sinks/failure_catalog.h"
#include "sinks/ocr.h"

namespace crv {
namespace {
double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

Status ScreenCheck::Shot(const std::string& path, const std::string& format) {
  const auto t0 = std::chrono::steady_clock::now();
  Status s = shoot_(path, format);
  if (metrics_ != nullptr) metrics_->Screenshot(Since(t0), s.ok());
  return s;
}

void ScreenCheck::Read(ScreenReading* r, bool ocr) {
  if (!o_.ocr || !ocr) return;
  const auto t0 = std::chrono::steady_clock::now();
  auto text = RecognizeText(r->screenshot, OcrLimits{o_.ocr_timeout_ms, 1024});
  if (metrics_ != nullptr) metrics_->Ocr(Since(t0), text.ok());
  if (!text.ok()) {
    r->note = "OCR: " + text.status().message();
    return;
  }
  r->text = *text;
  r->text_ok = true;
  r->failure_category = MatchFailure(r->text);
  r->work_in_progress = r->failure_category.empty() && ShowsWorkInProgress(r->text);
}

ScreenReading ScreenCheck::Evidence(const std::string& png, bool ocr) {
  ScreenReading r;
  if (Status s = Shot(png, "png"); !s.ok()) {
    r.note = s.message();
    return r;
  }
  r.screenshot = png;
  Read(&r, ocr);
  return r;
}

ScreenReading ScreenCheck::Confirm(const std::string& png) {
  namespace fs = std::filesystem;
  ScreenReading r;
  const std::string a = o_.workdir + "/settle-a.ppm", b = o_.workdir + "/settle-b.ppm";
  if (Status s = Shot(a, "ppm"); !s.ok()) {
    r.note = s.message();
    return r;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(o_.settle_ms));
  if (Status s = Shot(b, "ppm"); !s.ok()) {
    r.note = s.message();
    return r;
  }
  auto ia = ReadPpmFile(a), ib = ReadPpmFile(b);
  std::error_code ec;
  fs::remove(a, ec);
  fs::remove(b, ec);
  if (!ia.ok() || !ib.ok()) {
    r.note = "screen check: " + (!ia.ok() ? ia : ib).status().message();
    return r;
  }
  const uint64_t changed = CountChangedPixels(*ia, *ib, o_.mask);
  const double pixels = static_cast<double>(ia->width) * ia->height;
  if (static_cast<double>(changed) > o_.max_changed_share * pixels) {
    r.note = "screen still changing";
    return r;
  }
  r.settled = true;
  if (Status s = Shot(png, "png"); !s.ok()) {
    r.settled = false;
    r.note = s.message();
    return r;
  }
  r.screenshot = png;
  Read(&r);
  if (r.work_in_progress) r.note = "screen says work in progress";
  return r;
}

}  // namespace crv
