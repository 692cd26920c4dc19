// crv record: sample a VM's registers into a frame file.
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "apps/commands.h"
#include "collectors/qemu/launcher.h"
#include "collectors/qemu/qmp_register_source.h"
#include "collectors/sampler.h"
#include "stream/frame_file.h"
#include "stream/inproc_transport.h"

namespace crv::app {
namespace {

std::atomic<Sampler*> g_sampler{nullptr};
std::atomic<bool> g_interrupted{false};
void OnSignal(int) {
  g_interrupted.store(true);
  if (Sampler* s = g_sampler.load()) s->Stop();
}

struct RecordOptions {
  std::string qmp;
  std::string guest;
  std::string guests_dir;
  std::string output = "frames.crvf";
  std::string vm_id;
  std::string host;
  std::string accel = "auto";
  std::string serial_log;
  double hz = 50;
  double seconds = 15;
  bool json = false;
  bool quiet = false;
};

std::string DefaultGuestsDir() {
  if (const char* e = getenv("CRV_GUESTS_DIR")) return e;
  return "build/guests";
}

std::string Hostname() {
  char buf[256] = {0};
  gethostname(buf, sizeof(buf) - 1);
  return buf;
}

int Run(const RecordOptions& o) {
  namespace fs = std::filesystem;
  std::unique_ptr<QemuGuest> guest;
  std::string socket = o.qmp;
  std::string vm_id = o.vm_id;
  if (!o.guest.empty()) {
    std::string dir = o.guest;
    if (!fs::exists(dir + "/guest.json"))
      dir = (o.guests_dir.empty() ? DefaultGuestsDir() : o.guests_dir) + "/" + o.guest;
    auto spec = LoadGuestDir(dir);
    if (!spec.ok()) {
      spdlog::error("guest {}: {}", o.guest, spec.status().message());
      return kExitError;
    }
    auto accel = ParseAccel(o.accel);
    if (!accel.ok()) {
      spdlog::error("{}", accel.status().message());
      return kExitError;
    }
    LaunchOptions lo;
    lo.accel = *accel;
    auto g = QemuGuest::Launch(*spec, lo);
    if (!g.ok()) {
      spdlog::error("cannot start guest {}: {}", spec->name, g.status().message());
      return kExitError;
    }
    guest = std::move(*g);
    socket = guest->qmp_socket();
    if (vm_id.empty()) vm_id = spec->name;
    spdlog::info("booted guest {} under QEMU ({}), pid {}, serial console in {}", spec->name, AccelName(guest->accel()),
                 guest->pid(), guest->serial_log());
  }
  if (vm_id.empty()) vm_id = fs::path(socket).stem().string();

  auto client = QmpClient::Connect(socket);
  if (!client.ok()) {
    spdlog::error("{}", client.status().message());
    return kExitError;
  }
  QmpRegisterSource source(std::move(*client), vm_id);
  auto writer = FrameFileWriter::Create(o.output);
  if (!writer.ok()) {
    spdlog::error("{}", writer.status().message());
    return kExitError;
  }

  // Sampler -> in-process stream -> file writer: the same shape as live
  // processing, so backpressure from a slow disk reaches the sampler.
  InProcTransport stream(1024);
  Status write_status;
  std::thread writer_thread([&] {
    for (;;) {
      auto m = stream.Poll(std::chrono::milliseconds(200));
      if (!m.ok()) break;  // closed and drained
      if (!m->has_value()) continue;
      if (write_status.ok()) write_status = (*writer)->Append((*m)->payload);
      stream.Commit(**m);
    }
  });

  BatchEncoder encoder;
  const std::string host = o.host.empty() ? Hostname() : o.host;
  SamplerConfig sc;
  sc.hz = o.hz;
  sc.max_ticks = static_cast<uint64_t>(std::llround(o.seconds * o.hz));
  Sampler sampler(source, RealClock::Instance(), sc, [&](std::vector<RegisterFrame>&& frames) -> Status {
    auto bytes = encoder.Encode(vm_id, host, frames);
    return stream.Publish(vm_id, std::vector<uint8_t>(bytes.begin(), bytes.end()), std::chrono::seconds(5));
  });
  g_sampler.store(&sampler);
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  std::atomic<bool> done{false};
  const bool progress = !o.quiet && isatty(STDERR_FILENO);
  std::thread progress_thread([&] {
    const auto start = std::chrono::steady_clock::now();
    while (!done.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
      if (!progress) continue;
      const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::fprintf(stderr, "\rrecording %s: %5.1f/%.0f s  ticks %llu  missed %llu  errors %llu  snapshot %.2f ms   ",
                   vm_id.c_str(), t, o.seconds, static_cast<unsigned long long>(sampler.stats().ticks_sampled.load()),
                   static_cast<unsigned long long>(sampler.stats().ticks_missed.load()),
                   static_cast<unsigned long long>(sampler.stats().snapshot_errors.load()),
                   static_cast<double>(sampler.stats().last_snapshot_ns.load()) / 1e6);
    }
    if (progress) std::fprintf(stderr, "\n");
  });

  const Status run = sampler.Run();
  g_sampler.store(nullptr);
  done.store(true);
  progress_thread.join();
  stream.Close();
  writer_thread.join();
  const Status closed = (*writer)->Close();

  if (!o.serial_log.empty() && guest) {
    std::error_code ec;
    fs::copy_file(guest->serial_log(), o.serial_log, fs::copy_options::overwrite_existing, ec);
    if (ec) spdlog::warn("cannot copy the serial log to {}: {}", o.serial_log, ec.message());
  }
  const auto& st = sampler.stats();
  if (!sampler.last_error().empty()) spdlog::warn("last snapshot error: {}", sampler.last_error());
  int code = kExitOk;
  std::string error;
  for (const Status* s : std::initializer_list<const Status*>{&run, &write_status, &closed}) {
    if (!s->ok() && error.empty()) {
      error = s->message();
      code = kExitError;
    }
  }
  if (o.json) {
    nlohmann::json j = {{"file", o.output},
                        {"vm_id", vm_id},
                        {"host", host},
                        {"hz", o.hz},
                        {"ticks_scheduled", sc.max_ticks},
                        {"ticks_sampled", st.ticks_sampled.load()},
                        {"ticks_missed", st.ticks_missed.load()},
                        {"snapshot_errors", st.snapshot_errors.load()},
                        {"frames", st.frames.load()},
                        {"records", (*writer)->records()},
                        {"bytes", (*writer)->bytes()},
                        {"interrupted", g_interrupted.load()},
                        {"serial_log", o.serial_log.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.serial_log)},
                        {"error", error.empty() ? nlohmann::json(nullptr) : nlohmann::json(error)}};
    std::cout << j.dump(2) << std::endl;
  } else if (!o.quiet) {
    std::fprintf(stderr, "recorded %llu ticks (%llu frames, %llu missed, %llu snapshot errors) of %s to %s\n",
                 static_cast<unsigned long long>(st.ticks_sampled.load()),
                 static_cast<unsigned long long>(st.frames.load()),
                 static_cast<unsigned long long>(st.ticks_missed.load()),
                 static_cast<unsigned long long>(st.snapshot_errors.load()), vm_id.c_str(), o.output.c_str());
  }
  if (!error.empty()) spdlog::error("{}", error);
  return code;
}

}  // namespace

CommandFn RegisterRecord(CLI::App& app) {
  auto o = std::make_shared<RecordOptions>();
  auto* src = app.add_option_group("source", "what to sample (exactly one)");
  src->add_option("--qmp", o->qmp, "QMP UNIX socket of a running QEMU VM")->check(CLI::ExistingPath);
  src->add_option("--guest", o->guest,
                  "boot a fixture guest: a name under --guests-dir (built by scripts/build-guest.sh) or a directory");
  src->require_option(1);
  app.add_option("--guests-dir", o->guests_dir,
                 "where fixture guests are built (default $CRV_GUESTS_DIR or build/guests)");
  app.add_option("--accel", o->accel, "QEMU accelerator for --guest: auto (KVM if the probe passes), kvm or tcg")
      ->check(CLI::IsMember({"auto", "kvm", "tcg"}))
      ->capture_default_str();
  app.add_option("--hz", o->hz, "sampling rate in snapshots per second")
      ->check(CLI::Range(0.1, 10000.0))
      ->capture_default_str();
  app.add_option("--seconds", o->seconds, "how long to record")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("-o,--output", o->output, "frame file to write")->capture_default_str();
  app.add_option("--vm-id", o->vm_id, "VM id stamped on frames (default: guest name or socket name)");
  app.add_option("--host", o->host, "host name stamped on frames (default: this host's name)");
  app.add_option("--serial-log", o->serial_log, "with --guest: copy the guest's serial console log here");
  app.add_flag("--json", o->json, "print a JSON summary on stdout");
  app.add_flag("-q,--quiet", o->quiet, "no progress line");
  return [o] { return Run(*o); };
}

}  // namespace crv::app
