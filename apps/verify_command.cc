// crv verify: boot a backup image (or kernel, or attach to a running VM),
// watch its registers until the classifier and the screen agree that it has
// booted or failed, take the screenshot that proves it, read its text, record
// the verdict. Exit 0 booted, 1 boot failure (time-out included), 2 could
// not verify.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "apps/commands.h"
#include "apps/recording.h"
#include "collectors/qemu/launcher.h"
#include "collectors/qemu/qmp_register_source.h"
#include "collectors/sampler.h"
#include "operators/boot_state_machine.h"
#include "operators/entropy_graph.h"
#include "sinks/boot_log.h"
#include "sinks/failure_catalog.h"
#include "sinks/metrics/metrics.h"
#include "sinks/ocr.h"
#include "sinks/screen.h"
#include "sinks/screen_check.h"
#include "stream/inproc_transport.h"

namespace crv::app {
namespace fs = std::filesystem;
namespace {

struct VerifyOptions {
  std::string disk, disk_format, kernel, initrd, append = "console=ttyS0 console=tty0", qmp, guest, guests_dir;
  int vcpus = 1, memory_mb = 1024;
  std::string model, accel = "auto", out = "crv-verify", db, vm_id;
  double max_boot = 300, hz = 50;
  uint32_t hop = 5;
  BootStateConfig states;
  bool screen_confirm = true, ocr_success = true, json = false, quiet = false;
  std::vector<std::string> masks;
  int settle_ms = 500;
  double max_changed_share = 0.002;
  int ocr_timeout_ms = 30000;
  std::string metrics_listen, metrics_auth_file;
  double metrics_linger = 0;
};

std::string DefaultModelPath() {
  if (const char* e = getenv("CRV_MODEL")) return e;
  return CRV_DEFAULT_MODEL;
}

std::string ReadFileTail(const std::string& path, size_t max) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > max ? s.substr(s.size() - max) : s;
}

std::string Sparkline(const std::deque<double>& v, double max) {
  static const char* kBars[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  std::string out;
  for (double x : v) out += kBars[std::min(7, std::max(0, static_cast<int>(x / max * 7.999)))];
  return out;
}

class Verifier {
 public:
  explicit Verifier(const VerifyOptions& o) : o_(o) {}

  int Run() {
    record_.started_ns = RealClock::Instance().WallNs();
    std::error_code ec;
    fs::create_directories(o_.out, ec);
    if (ec) return Error("cannot create output directory " + o_.out + ": " + ec.message());
    auto model = LoadModel(o_.model.empty() ? DefaultModelPath() : o_.model);
    if (!model.ok()) return Error("bad model: " + model.status().message());
    model_ = std::move(*model);
    record_.model_id = model_.id;

    if (Status s = StartMetrics(); !s.ok()) return Error(s.message());
    int code = kExitError;
    if (Status s = Start(); !s.ok()) {
      code = Error(s.message());
    } else {
      Watch();
      code = Finish();
    }
    Linger();
    return code;
  }

 private:
  Status StartMetrics() {
    if (o_.metrics_listen.empty()) return Status::Ok();
    MetricsServerOptions mo;
    mo.listen = o_.metrics_listen;
    if (!o_.metrics_auth_file.empty()) CRV_RETURN_IF_ERROR(LoadBasicAuthFile(o_.metrics_auth_file, &mo));
    CRV_ASSIGN_OR_RETURN(metrics_server_, MetricsServer::Start(metrics_, mo));
    spdlog::info("metrics: {}", metrics_server_->url());
    return Status::Ok();
  }

  // Keeps /metrics up after the verdict so a scraper sees the final values.
  void Linger() {
    if (!metrics_server_ || o_.metrics_linger <= 0) return;
    source_.reset();
    guest_.reset();  // the VM is not needed for that
    if (!o_.quiet) spdlog::info("serving metrics for {:.0f} s more on {}", o_.metrics_linger, metrics_server_->url());
    std::this_thread::sleep_for(std::chrono::duration<double>(o_.metrics_linger));
  }

  int Error(const std::string& why) {
    record_.verdict = "error";
    record_.detail = why;
    if (record_.vm.empty()) record_.vm = o_.vm_id.empty() ? "unknown" : o_.vm_id;  // failed before the VM was named
    metrics_.Verdict(record_.vm, "error", "", -1, RealClock::Instance().WallNs());
    spdlog::error("could not verify: {}", why);
    Record();
    return kExitError;
  }

  Status Start() {
    GuestSpec spec;
    std::string socket = o_.qmp;
    if (!o_.guest.empty()) {
      std::string dir = o_.guest;
      if (!fs::exists(dir + "/guest.json"))
        dir = (o_.guests_dir.empty() ? DefaultGuestsDir() : o_.guests_dir) + "/" + o_.guest;
      CRV_ASSIGN_OR_RETURN(spec, LoadGuestDir(dir));
      record_.image = dir;
    } else if (!o_.kernel.empty() || !o_.disk.empty()) {
      spec.name = o_.disk.empty() ? fs::path(o_.kernel).filename().string() : fs::path(o_.disk).filename().string();
      spec.kernel = o_.kernel;
      spec.initrd = o_.initrd;
      spec.append = o_.append;
      spec.vcpus = o_.vcpus;
      spec.memory_mb = o_.memory_mb;
      record_.image = o_.disk.empty() ? o_.kernel : fs::absolute(o_.disk).string();
    } else {
      record_.image = socket;
    }
    if (!o_.disk.empty()) {
      if (!fs::is_regular_file(o_.disk)) return NotFound("disk image not found: " + o_.disk);
      spec.disk = o_.disk;
      spec.disk_format = o_.disk_format;
      if (record_.image.empty()) record_.image = fs::absolute(o_.disk).string();
    }
    record_.vm = o_.vm_id.empty() ? (socket.empty() ? spec.name : fs::path(socket).stem().string()) : o_.vm_id;
    if (socket.empty()) {
      CRV_ASSIGN_OR_RETURN(Accel accel, ParseAccel(o_.accel));
      LaunchOptions lo;
      lo.accel = accel;
      auto g = QemuGuest::Launch(spec, lo);
      if (!g.ok()) return g.status().WithContext("cannot start QEMU");
      guest_ = std::move(*g);
      socket = guest_->qmp_socket();
      workdir_ = guest_->workdir();
      if (!o_.quiet) {
        spdlog::info("verifying {} under QEMU ({}{}), serial console in {}", record_.image, AccelName(guest_->accel()),
                     guest_->accel_note().empty() ? "" : ": " + guest_->accel_note(), guest_->serial_log());
      }
    } else {
      workdir_ = fs::absolute(o_.out).string();  // QEMU resolves relative paths from its own cwd
    }
    auto client = QmpClient::Connect(socket);
    if (!client.ok()) {
      if (std::string exited = QemuExitReason(); !exited.empty()) return Unavailable(exited + " (at start)");
      return client.status();
    }
    source_ = std::make_unique<QmpRegisterSource>(std::move(*client), record_.vm);
    return Status::Ok();
  }

  // Samples -> stream -> graph (entropy + classifier) -> windows queue ->
  // state machine, screen confirmation and verdict on this thread.
  void Watch() {
    InProcTransport stream(1024);
    BatchEncoder encoder;
    SamplerConfig sc{o_.hz, 0};
    Sampler sampler(*source_, RealClock::Instance(), sc, PublishTicks(stream, encoder, record_.vm, "local", &metrics_));
    Status sampler_status;
    std::atomic<bool> sampler_done{false};
    std::thread sampling([&] {
      sampler_status = sampler.Run();
      sampler_done.store(true);
      stream.Close();
    });
    std::mutex mu;
    std::condition_variable cv;
    std::deque<FeatureVector> windows;
    EntropyGraph graph(
        EntropyGraphConfig{{model_.window.length, o_.hop}, 64, &model_},
        [&](const FrameBatch& b, std::vector<FeatureVector>& out) {
          CountConsumed(b);
          if (out.empty()) return;
          std::lock_guard lock(mu);
          for (auto& w : out) windows.push_back(std::move(w));
          cv.notify_one();
        },
        [&](uint64_t, const Status&) { metrics_.BatchesInvalid(1); });
    std::thread graph_thread([&] {
      graph.Run([&]() -> std::optional<std::vector<uint8_t>> {
        for (;;) {
          auto m = stream.Poll(std::chrono::milliseconds(100));
          if (!m.ok()) return std::nullopt;
          if (m->has_value()) return std::move((*m)->payload);
        }
      });
    });

    BootStateConfig cfg = o_.states;
    cfg.max_boot_seconds = o_.max_boot;
    sm_ = std::make_unique<BootStateMachine>(cfg, record_.started_ns);
    metrics_.BootStarted(record_.vm, sm_->state(), record_.started_ns);
    const bool tty = !o_.quiet && !o_.json && isatty(STDERR_FILENO);
    std::deque<double> rip;
    int64_t next_screen_check = 0;
    while (sm_->verdict() == Verdict::kNone) {
      std::deque<FeatureVector> batch;
      {
        std::unique_lock lock(mu);
        cv.wait_for(lock, std::chrono::milliseconds(100), [&] { return !windows.empty(); });
        batch.swap(windows);
      }
      for (const auto& w : batch) {
        const std::string before = sm_->state();
        if (sm_->OnWindow(model_.ClassName(w.state), w.confidence, w.end_ns)) {
          metrics_.StateChanged(record_.vm, sm_->state(), RealClock::Instance().WallNs());
          if (!o_.quiet && !tty) spdlog::info("{:6.1f} s: {} -> {}", Seconds(w.end_ns), before, sm_->state());
        }
        rip.push_back(w.entropy[kRip]);
        if (rip.size() > 24) rip.pop_front();
      }
      const int64_t now = RealClock::Instance().WallNs();
      sm_->OnTime(now);
      if (tty) {
        std::fprintf(stderr, "\r%6.1f s  state %-14s H(rip) %s  %-30s", Seconds(now), sm_->state().c_str(),
                     Sparkline(rip, 5.0).c_str(), note_.c_str());
      }
      if (sampler_done.load() || (guest_ && !guest_->Running())) {
        died_ = QemuExitReason();
        if (died_.empty()) died_ = sampler_status.ok() ? std::string("sampling stopped") : sampler_status.message();
        break;
      }
      if (sm_->success_candidate() && now >= next_screen_check) {
        next_screen_check = ConfirmOnScreen(now) ? 0 : RealClock::Instance().WallNs() + 1'000'000'000;
      }
    }
    if (tty) std::fprintf(stderr, "\n");
    if (died_.empty() && sm_->verdict() != Verdict::kSuccess) CaptureFinalScreen();
    sampler.Stop();
    sampling.join();
    stream.Close();
    graph_thread.join();
    record_.timeline = nlohmann::json::array();
    for (const auto& t : sm_->timeline()) {
      record_.timeline.push_back({{"t_s", Seconds(t.t_ns)}, {"from", t.from}, {"to", t.to}});
    }
  }

  // When the QEMU we launched has exited: how, and its last words on stderr
  // (it is given a moment to be reaped). Empty while it runs, or when attached.
  std::string QemuExitReason() {
    if (!guest_) return {};
    for (int i = 0; i < 20 && guest_->Running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (guest_->Running()) return {};
    return "QEMU " + guest_->exit_description() + ": " + guest_->StderrTail(400);
  }

  double Seconds(int64_t wall_ns) const { return static_cast<double>(wall_ns - record_.started_ns) / 1e9; }

  std::string ScreenshotPath() const {
    std::string vm = record_.vm;
    for (char& c : vm) {
      if (!isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
    }
    return fs::absolute(o_.out).string() + "/" + vm + "-" + std::to_string(record_.started_ns / 1'000'000'000) + ".png";
  }

  void CountConsumed(const FrameBatch& b) {
    if (b.frames.empty()) return;
    metrics_.FramesConsumed(b.frames.size());
    const int64_t newest = b.frames.back().timestamp_ns;
    metrics_.LastFrameAt(newest);
    metrics_.PipelineLag(static_cast<double>(RealClock::Instance().WallNs() - newest) / 1e9);
  }

  ScreenCheck& Screen() {
    if (!screen_) {
      ScreenCheckOptions so;
      so.workdir = workdir_;
      so.settle_ms = o_.settle_ms;
      so.max_changed_share = o_.max_changed_share;
      for (const auto& m : o_.masks) so.mask.push_back(*ParseRect(m));
      so.ocr_timeout_ms = o_.ocr_timeout_ms;
      screen_ = std::make_unique<ScreenCheck>(
          [this](const std::string& path, const std::string& format) {
            std::lock_guard lock(source_->mutex());
            return Screendump(source_->client(), path, format);
          },
          so, &metrics_);
    }
    return *screen_;
  }

  // Takes the verdict screenshot (PNG) and reads its text.
  void TakeScreenshotAndOcr() {
    ScreenReading r = Screen().Evidence(ScreenshotPath(), o_.ocr_success || sm_->verdict() != Verdict::kSuccess);
    if (!r.note.empty()) spdlog::warn("{}", r.note);
    record_.screenshot = r.screenshot;
    record_.ocr_text = r.text;
  }

  // Screen confirmation of a success candidate: the screen must be settled
  // (unchanged outside the mask between two screenshots) and must not show a
  // failure or work still in progress. Returns true if a verdict was reached.
  bool ConfirmOnScreen(int64_t now) {
    if (!o_.screen_confirm) {
      sm_->ConfirmSuccess(now);
      TakeScreenshotAndOcr();
      return true;
    }
    ScreenReading r = Screen().Confirm(ScreenshotPath());
    if (!r.settled) {
      note_ = r.note;
      return false;
    }
    // Without text the settled screen and the registers decide.
    if (!r.text_ok) spdlog::warn("{}", r.note);
    if (!r.failure_category.empty()) {
      record_.screenshot = r.screenshot;
      record_.ocr_text = r.text;
      record_.error_category = r.failure_category;
      sm_->DeclareFailure(RealClock::Instance().WallNs());
      return true;
    }
    if (r.work_in_progress) {
      note_ = r.note;
      return false;
    }
    record_.screenshot = r.screenshot;
    record_.ocr_text = r.text;
    sm_->ConfirmSuccess(RealClock::Instance().WallNs());
    return true;
  }

  void CaptureFinalScreen() {
    if (record_.screenshot.empty()) TakeScreenshotAndOcr();
    if (record_.error_category.empty() && sm_->verdict() != Verdict::kSuccess) {
      std::string category = MatchFailure(record_.ocr_text);
      if (category.empty() && guest_) category = MatchFailure(ReadFileTail(guest_->serial_log(), 8192));
      if (category.empty()) category = sm_->verdict() == Verdict::kTimeout ? "boot_timeout" : "unknown";
      record_.error_category = category;
    }
  }

  int Finish() {
    if (!died_.empty()) return Error(died_ + " before a verdict");
    const Verdict v = sm_->verdict();
    record_.verdict = VerdictName(v);
    record_.time_to_verdict_s = Seconds(sm_->verdict_ns());
    if (v == Verdict::kTimeout) record_.detail = "no successful boot within " + std::to_string(o_.max_boot) + " s";
    metrics_.Verdict(record_.vm, record_.verdict, record_.error_category, record_.time_to_verdict_s,
                     RealClock::Instance().WallNs());
    Record();
    return v == Verdict::kSuccess ? kExitOk : kExitFailure;
  }

  void Record() {
    const std::string db = o_.db.empty() ? o_.out + "/boot-status.sqlite3" : o_.db;
    auto log = BootLog::Open(db);
    if (log.ok()) {
      auto id = (*log)->Insert(record_);
      if (!id.ok()) spdlog::warn("{}", id.status().message());
    } else {
      spdlog::warn("{}", log.status().message());
    }
    if (o_.json) {
      nlohmann::json j = record_.ToJson();
      j["boot_status_log"] = db;
      std::cout << j.dump(2) << std::endl;
    } else if (record_.verdict != "error") {
      std::printf("%s: %s", record_.vm.c_str(), record_.verdict == "success" ? "BOOTED" : "BOOT FAILED");
      if (!record_.error_category.empty()) std::printf(" (%s)", record_.error_category.c_str());
      std::printf(" after %.1f s\n", record_.time_to_verdict_s);
      if (!record_.screenshot.empty()) std::printf("screenshot: %s\n", record_.screenshot.c_str());
      std::string first;
      std::istringstream lines(record_.ocr_text);
      for (std::string l; std::getline(lines, l);) {
        if (l.find_first_not_of(" \t") != std::string::npos) first += "  | " + l + "\n";
      }
      if (!first.empty()) std::printf("screen text:\n%s", first.c_str());
      std::printf("boot-status log: %s\n", db.c_str());
    }
  }

  const VerifyOptions& o_;
  Model model_;
  std::unique_ptr<QemuGuest> guest_;
  std::unique_ptr<QmpRegisterSource> source_;
  std::unique_ptr<BootStateMachine> sm_;
  std::string workdir_;
  std::string died_;
  std::string note_;
  VerificationRecord record_;
  Metrics metrics_;
  std::unique_ptr<ScreenCheck> screen_;
  std::unique_ptr<MetricsServer> metrics_server_;
};

}  // namespace

CommandFn RegisterVerify(CLI::App& app) {
  auto o = std::make_shared<VerifyOptions>();
  auto* src =
      app.add_option_group("what to verify", "one of --disk, --kernel, --guest, --qmp (--disk may go with --kernel)");
  src->add_option("--disk", o->disk, "backup disk image (raw or qcow2), booted from its first disk; never modified");
  src->add_option("--kernel", o->kernel, "a kernel to boot (with --initrd, --append)");
  src->add_option("--guest", o->guest, "a fixture guest: a name under --guests-dir or a directory with guest.json");
  src->add_option("--qmp", o->qmp, "the QMP socket of a VM that is already running");
  src->require_option(1, 2);
  app.add_option("--initrd", o->initrd, "initrd for --kernel");
  app.add_option("--append", o->append, "kernel command line for --kernel")->capture_default_str();
  app.add_option("--disk-format", o->disk_format, "raw or qcow2 (default: detected)")
      ->check(CLI::IsMember({"raw", "qcow2"}));
  app.add_option("--vcpus", o->vcpus, "vCPUs for --disk/--kernel")->capture_default_str();
  app.add_option("--memory-mb", o->memory_mb, "memory for --disk/--kernel")->capture_default_str();
  app.add_option("--guests-dir", o->guests_dir,
                 "where fixture guests are built (default $CRV_GUESTS_DIR or build/guests)");
  app.add_option("--accel", o->accel, "auto (KVM if the probe passes), kvm or tcg")
      ->check(CLI::IsMember({"auto", "kvm", "tcg"}))
      ->capture_default_str();
  app.add_option("--model", o->model, "model file (default: $CRV_MODEL or the shipped default model)");
  app.add_option("--max-boot-time", o->max_boot, "seconds without success before the verdict is a boot error")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--hz", o->hz, "register samples per second")->capture_default_str();
  app.add_option("--hop", o->hop, "ticks between classified windows")->capture_default_str();
  app.add_option("--min-dwell", o->states.min_dwell, "consecutive windows before a state change counts")
      ->capture_default_str();
  app.add_option("--min-confidence", o->states.min_confidence, "leaf purity below which a window moves nothing")
      ->capture_default_str();
  app.add_option("--success-state", o->states.success_states, "states that mean booted (repeatable)")
      ->capture_default_str();
  app.add_option("--failure-state", o->states.failure_states, "states that mean boot failure (repeatable)")
      ->capture_default_str();
  app.add_flag("!--no-screen-confirm", o->screen_confirm,
               "declare success from registers alone, without checking that the screen has settled");
  app.add_option("--mask", o->masks, "screen area X,Y,W,H ignored by the settle check (a clock, a cursor); repeatable")
      ->check([](const std::string& s) { return ParseRect(s).ok() ? std::string() : ParseRect(s).status().message(); });
  app.add_option("--settle-ms", o->settle_ms, "time between the two screenshots of the settle check")
      ->capture_default_str();
  app.add_option("--max-changed", o->max_changed_share, "share of pixels allowed to change on a settled screen")
      ->capture_default_str();
  app.add_flag("!--no-ocr-success", o->ocr_success, "skip OCR of the screenshot when the verdict is success");
  app.add_option("--out", o->out, "directory for the screenshot and the boot-status log")->capture_default_str();
  app.add_option("--db", o->db, "boot-status log (SQLite; default OUT/boot-status.sqlite3)");
  app.add_option("--vm-id", o->vm_id, "name recorded for the VM (default: image or guest name)");
  app.add_flag("--json", o->json, "print the verification record as JSON on stdout");
  app.add_option("--metrics-listen", o->metrics_listen,
                 "serve Prometheus metrics on HOST:PORT while verifying (port 0: any free port; off by default)");
  app.add_option("--metrics-auth-file", o->metrics_auth_file,
                 "require HTTP basic auth on /metrics; the file (mode 600) holds USER:PASSWORD")
      ->check(CLI::ExistingFile);
  app.add_option("--metrics-linger", o->metrics_linger,
                 "seconds to keep serving metrics after the verdict, so a scraper sees it")
      ->capture_default_str();
  app.add_flag("-q,--quiet", o->quiet, "no progress");
  return [o] { return Verifier(*o).Run(); };
}

CommandFn RegisterOcrWorker(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  app.add_option("IMAGE", *path)->required();
  app.group("Internal");  // the OCR worker process that crv verify starts
  return [path] { return OcrWorkerMain(*path); };
}

}  // namespace crv::app
