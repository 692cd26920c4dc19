// OCR of screenshots with Tesseract, in a worker process.
//
// The screen is guest-controlled and Leptonica/Tesseract have had
// memory-safety bugs on hostile images, so OCR never runs in the daemon's
// process: RecognizeText() runs `crv _ocr-worker IMAGE` (this same binary)
// with a memory limit (RLIMIT_AS), a CPU limit and a wall-clock time-out,
// OMP_THREAD_LIMIT=1 (Debian's Tesseract uses OpenMP: 15 s per screen
// unset, ~1 s set). The worker converts to grey, inverts light-on-dark
// console screens to dark-on-light, and reads with page segmentation mode 6
// (one block, which keeps console lines together).
// A worker that crashes, runs out of memory or time gives an error naming
// which; the caller goes on without text.
#pragma once

#include <string>

#include "core/status.h"

namespace crv {

struct OcrLimits {
  int timeout_ms = 30000;
  long memory_mb = 1024;
};

// True when this build has Tesseract.
bool OcrAvailable();

Result<std::string> RecognizeText(const std::string& image_path, const OcrLimits& limits = {});

// The worker's entry point (the hidden sub-command): prints the text of
// `image_path` on stdout. Returns the process exit code.
int OcrWorkerMain(const std::string& image_path);

}  // namespace crv
