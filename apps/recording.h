// A recording session shared by `crv record` and `crv profile`: boot a
// fixture guest or attach to a QMP socket, sample at a fixed rate through the
// in-process stream into a frame file, show progress, stop on time-out or
// SIGINT/SIGTERM with everything flushed.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>

#include "collectors/qemu/launcher.h"
#include "collectors/qemu/qmp_register_source.h"
#include "collectors/sampler.h"
#include "sinks/metrics/metrics.h"
#include "stream/frame_file.h"
#include "stream/transport.h"

namespace crv::app {

struct RecordingOptions {
  std::string qmp;
  std::string libvirt, libvirt_uri = "qemu:///system";
  std::string xen;
  std::string guest;  // name under guests_dir, or a directory
  std::string guests_dir;
  std::string accel = "auto";
  std::string vm_id;
  std::string host;
  std::string output;
  double hz = 50;
  double seconds = 15;
  bool quiet = false;
};

struct RecordingResult {
  std::string vm_id, host;
  uint64_t ticks_scheduled = 0, ticks_sampled = 0, ticks_missed = 0, snapshot_errors = 0, frames = 0;
  uint64_t records = 0, bytes = 0;
  bool interrupted = false;
  std::string error;  // empty: ok
};

class Recording {
 public:
  static Result<std::unique_ptr<Recording>> Start(const RecordingOptions& o);
  // Samples until the time is up, Stop(), a signal or an error. `poll` runs
  // every 10 ms on a helper thread (e.g. to watch the serial console);
  // `status` adds text to the progress line.
  RecordingResult Run(std::function<void()> poll = nullptr, std::function<std::string()> status = nullptr);
  void Stop();

  QemuGuest* guest() { return guest_.get(); }  // null when attached by --qmp
  const nlohmann::json& guest_json() const { return guest_json_; }
  const std::string& vm_id() const { return vm_id_; }

 private:
  RecordingOptions o_;
  std::unique_ptr<QemuGuest> guest_;
  nlohmann::json guest_json_;
  std::unique_ptr<RegisterSource> source_;
  std::unique_ptr<FrameFileWriter> writer_;
  std::string vm_id_, host_;
  Sampler* sampler_ = nullptr;
  std::atomic<bool> stop_{false};
};

std::string DefaultGuestsDir();
// The sampler sink both `record`/`profile` and `verify` use: each tick's
// frames as one FrameBatch published on `stream` under the VM id. `stream`
// and `encoder` must outlive the sink.
// With `metrics`, counts frames sampled and published, ticks missed (gaps in
// the tick sequence) and ticks the stream refused.
Sampler::Sink PublishTicks(FrameTransport& stream, BatchEncoder& encoder, const std::string& vm_id,
                           const std::string& host, Metrics* metrics = nullptr);
// The source and sampling options shared by `crv record` and `crv profile`.
void AddRecordingOptions(CLI::App& app, RecordingOptions& o);

}  // namespace crv::app
