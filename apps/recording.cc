#include "apps/recording.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "collectors/source_factory.h"
#include "stream/inproc_transport.h"

namespace crv::app {
namespace {
std::atomic<Recording*> g_active{nullptr};
std::atomic<bool> g_interrupted{false};
void OnSignal(int) {
  g_interrupted.store(true);
  if (Recording* r = g_active.load()) r->Stop();
}
std::string Hostname() {
  char buf[256] = {0};
  gethostname(buf, sizeof(buf) - 1);
  return buf;
}
}  // namespace

Sampler::Sink PublishTicks(FrameTransport& stream, BatchEncoder& encoder, const std::string& vm_id,
                           const std::string& host, Metrics* metrics) {
  auto next_seq = std::make_shared<uint64_t>(0);
  return [&stream, &encoder, vm_id, host, metrics, next_seq](std::vector<RegisterFrame>&& frames) -> Status {
    auto bytes = encoder.Encode(vm_id, host, frames);
    // A full stream blocks the sampler (counted as missed ticks), not drops.
    Status s = stream.Publish(vm_id, std::vector<uint8_t>(bytes.begin(), bytes.end()), std::chrono::seconds(5));
    if (metrics != nullptr && !frames.empty()) {
      const uint64_t seq = frames.front().seq;
      if (seq > *next_seq) metrics->TicksMissed(seq - *next_seq);
      *next_seq = seq + 1;
      metrics->FramesSampled(frames.size());
      if (s.ok()) {
        metrics->FramesPublished(frames.size());
      } else {
        metrics->FramesDropped("publish_refused", frames.size());
      }
    }
    return s;
  };
}

std::string DefaultGuestsDir() {
  if (const char* e = getenv("CRV_GUESTS_DIR")) return e;
  return "build/guests";
}

Result<std::unique_ptr<Recording>> Recording::Start(const RecordingOptions& o) {
  namespace fs = std::filesystem;
  std::unique_ptr<Recording> r(new Recording());
  r->o_ = o;
  std::string socket = o.qmp;
  r->vm_id_ = o.vm_id;
  if (!o.guest.empty()) {
    std::string dir = o.guest;
    if (!fs::exists(dir + "/guest.json"))
      dir = (o.guests_dir.empty() ? DefaultGuestsDir() : o.guests_dir) + "/" + o.guest;
    CRV_ASSIGN_OR_RETURN(GuestSpec spec, LoadGuestDir(dir));
    std::ifstream gj(dir + "/guest.json");
    r->guest_json_ = nlohmann::json::parse(gj, nullptr, false);
    CRV_ASSIGN_OR_RETURN(Accel accel, ParseAccel(o.accel));
    LaunchOptions lo;
    lo.accel = accel;
    auto g = QemuGuest::Launch(spec, lo);
    if (!g.ok()) return g.status().WithContext("cannot start guest " + spec.name);
    r->guest_ = std::move(*g);
    socket = r->guest_->qmp_socket();
    if (r->vm_id_.empty()) r->vm_id_ = spec.name;
    spdlog::info("booted guest {} under QEMU ({}), pid {}, serial console in {}", spec.name,
                 AccelName(r->guest_->accel()), r->guest_->pid(), r->guest_->serial_log());
  } else if (!o.libvirt.empty()) {
    r->guest_json_ = {{"libvirt", o.libvirt}, {"libvirt_uri", o.libvirt_uri}};
  } else if (!o.xen.empty()) {
    r->guest_json_ = {{"xen", o.xen}};
  } else {
    r->guest_json_ = {{"qmp", socket}};
  }
  r->host_ = o.host.empty() ? Hostname() : o.host;
  SourceSpec spec;
  spec.qmp = socket;
  spec.libvirt = o.libvirt;
  spec.libvirt_uri = o.libvirt_uri;
  spec.xen = o.xen;
  spec.vm_id = r->vm_id_;
  CRV_ASSIGN_OR_RETURN(r->source_, OpenSource(spec));
  if (r->vm_id_.empty()) r->vm_id_ = r->source_->vm_id();
  CRV_ASSIGN_OR_RETURN(r->writer_, FrameFileWriter::Create(o.output));
  return r;
}

void Recording::Stop() {
  stop_.store(true);
  if (sampler_) sampler_->Stop();
}

RecordingResult Recording::Run(std::function<void()> poll, std::function<std::string()> status) {
  RecordingResult res;
  res.vm_id = vm_id_;
  res.host = host_;
  // Sampler -> in-process stream -> file writer: the same shape as live
  // processing, so backpressure from a slow disk reaches the sampler.
  InProcTransport stream(1024);
  Status write_status;
  std::thread writer_thread([&] {
    for (;;) {
      auto m = stream.Poll(std::chrono::milliseconds(200));
      if (!m.ok()) break;  // closed and drained
      if (!m->has_value()) continue;
      if (write_status.ok()) write_status = writer_->Append((*m)->payload);
      stream.Commit(**m);
    }
  });
  BatchEncoder encoder;
  SamplerConfig sc;
  sc.hz = o_.hz;
  sc.max_ticks = static_cast<uint64_t>(std::llround(o_.seconds * o_.hz));
  res.ticks_scheduled = sc.max_ticks;
  Sampler sampler(*source_, RealClock::Instance(), sc, PublishTicks(stream, encoder, vm_id_, host_));
  sampler_ = &sampler;
  if (stop_.load()) sampler.Stop();
  g_active.store(this);
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  std::atomic<bool> done{false};
  const bool progress = !o_.quiet && isatty(STDERR_FILENO);
  std::thread helper([&] {
    const auto start = std::chrono::steady_clock::now();
    int n = 0;
    while (!done.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      if (poll) poll();
      if (!progress || ++n % 25 != 0) continue;
      const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const auto& st = sampler.stats();
      std::fprintf(stderr, "\r%s: %5.1f/%.0f s  ticks %llu  missed %llu  errors %llu  snapshot %.2f ms  %s   ",
                   vm_id_.c_str(), t, o_.seconds, static_cast<unsigned long long>(st.ticks_sampled.load()),
                   static_cast<unsigned long long>(st.ticks_missed.load()),
                   static_cast<unsigned long long>(st.snapshot_errors.load()),
                   static_cast<double>(st.last_snapshot_ns.load()) / 1e6, status ? status().c_str() : "");
    }
    if (poll) poll();
    if (progress) std::fprintf(stderr, "\n");
  });
  const Status run = sampler.Run();
  g_active.store(nullptr);
  sampler_ = nullptr;
  done.store(true);
  helper.join();
  stream.Close();
  writer_thread.join();
  const Status closed = writer_->Close();
  const auto& st = sampler.stats();
  if (!sampler.last_error().empty()) spdlog::warn("last snapshot error: {}", sampler.last_error());
  res.ticks_sampled = st.ticks_sampled;
  res.ticks_missed = st.ticks_missed;
  res.snapshot_errors = st.snapshot_errors;
  res.frames = st.frames;
  res.records = writer_->records();
  res.bytes = writer_->bytes();
  res.interrupted = g_interrupted.load();
  for (const Status* s : std::initializer_list<const Status*>{&run, &write_status, &closed}) {
    if (!s->ok() && res.error.empty()) res.error = s->message();
  }
  return res;
}

}  // namespace crv::app
