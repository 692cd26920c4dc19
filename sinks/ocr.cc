#include "sinks/ocr.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/clock.h"
#include "core/features.h"

#if CRV_WITH_TESSERACT
#include <leptonica/allheaders.h>
#include <tesseract/baseapi.h>
#endif

namespace crv {

bool OcrAvailable() { return CRV_WITH_TESSERACT; }

int OcrWorkerMain(const std::string& image_path) {
#if CRV_WITH_TESSERACT
  setMsgSeverity(L_SEVERITY_NONE);
  Pix* pix = pixRead(image_path.c_str());
  if (pix == nullptr) {
    std::fprintf(stderr, "cannot read image %s\n", image_path.c_str());
    return 3;
  }
  Pix* gray = pixConvertTo8(pix, 0);
  pixDestroy(&pix);
  if (gray == nullptr) return 3;
  // Console screens are light text on a dark background; Tesseract wants
  // dark on light (84% character errors without this, 1.5% with it).
  l_float32 mean = 0;
  pixGetAverageMasked(gray, nullptr, 0, 0, 1, L_MEAN_ABSVAL, &mean);
  if (mean < 128) pixInvert(gray, gray);
  tesseract::TessBaseAPI api;
  if (api.Init(nullptr, "eng") != 0) {
    std::fprintf(stderr, "cannot load Tesseract's English model (tesseract-ocr-eng)\n");
    pixDestroy(&gray);
    return 4;
  }
  api.SetPageSegMode(tesseract::PSM_SINGLE_BLOCK);
  api.SetImage(gray);
  char* text = api.GetUTF8Text();
  if (text != nullptr) {
    std::fputs(text, stdout);
    delete[] text;
  }
  api.End();
  pixDestroy(&gray);
  return 0;
#else
  std::fprintf(stderr, "this crv was built without Tesseract (CRV_WITH_TESSERACT=OFF)\n");
  return 5;
#endif
}

Result<std::string> RecognizeText(const std::string& image_path, const OcrLimits& limits) {
  if (!OcrAvailable()) return Unavailable("OCR is not available: crv was built without Tesseract");
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return ErrnoStatus(StatusCode::kInternal, "pipe", errno);
  const pid_t pid = fork();
  if (pid < 0) return ErrnoStatus(StatusCode::kInternal, "fork", errno);
  if (pid == 0) {
    dup2(out[1], 1);
    int devnull = open("/dev/null", O_RDWR);
    dup2(devnull, 0);
    dup2(devnull, 2);
    rlimit mem{static_cast<rlim_t>(limits.memory_mb) << 20, static_cast<rlim_t>(limits.memory_mb) << 20};
    setrlimit(RLIMIT_AS, &mem);
    const rlim_t cpu = static_cast<rlim_t>(limits.timeout_ms / 1000 + 1);
    rlimit cpu_limit{cpu, cpu};
    setrlimit(RLIMIT_CPU, &cpu_limit);
    setenv("OMP_THREAD_LIMIT", "1", 1);
    execl("/proc/self/exe", "crv", "ocr-worker", image_path.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  std::string text;
  const int64_t deadline = RealClock::Instance().MonotonicNs() + int64_t{limits.timeout_ms} * 1'000'000;
  bool timed_out = false;
  for (;;) {
    const int64_t left_ms = (deadline - RealClock::Instance().MonotonicNs()) / 1'000'000;
    if (left_ms <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{out[0], POLLIN, 0};
    const int r = poll(&p, 1, static_cast<int>(left_ms));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    char buf[4096];
    const ssize_t n = read(out[0], buf, sizeof(buf));
    if (n <= 0) break;
    if (text.size() < (1u << 20)) text.append(buf, static_cast<size_t>(n));
  }
  close(out[0]);
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  if (timed_out) return DeadlineExceeded("OCR worker killed after " + std::to_string(limits.timeout_ms) + " ms");
  if (WIFSIGNALED(status)) {
    return Internal(std::string("OCR worker died of signal ") + strsignal(WTERMSIG(status)) + " (memory limit " +
                    std::to_string(limits.memory_mb) + " MiB)");
  }
  if (WEXITSTATUS(status) != 0)
    return Internal("OCR worker failed with exit status " + std::to_string(WEXITSTATUS(status)));
  return text;
}

}  // namespace crv
