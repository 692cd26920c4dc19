// crv replay: feed a frame file through the operator graph.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "apps/commands.h"
#include "operators/entropy_graph.h"
#include "operators/model.h"
#include "stream/frame_file.h"

namespace crv::app {
namespace {

struct ReplayOptions {
  std::string file;
  bool entropy = false;
  bool json = false;
  uint32_t window = 25;
  uint32_t hop = 0;  // 0: same as window
  std::string model;
};

nlohmann::json WindowJson(const FeatureVector& fv, const Model* model) {
  nlohmann::json e = nlohmann::json::object(), d = nlohmann::json::object();
  for (int r = 0; r < kNumRegs; ++r) e[std::string(RegisterNames()[r])] = fv.entropy[r];
  for (int k = 0; k < kNumDerived; ++k) d[std::string(DerivedFeatureNames()[k])] = fv.derived[k];
  return {{"vm_id", fv.vm_id},
          {"window", fv.window_index},
          {"first_seq", fv.first_seq},
          {"last_seq", fv.last_seq},
          {"start_ns", fv.start_ns},
          {"end_ns", fv.end_ns},
          {"vcpus", fv.vcpus},
          {"entropy", e},
          {"derived", d}};
}

int Run(const ReplayOptions& o) {
  std::optional<Model> model;
  if (!o.model.empty()) {
    auto m = LoadModel(o.model);
    if (!m.ok()) {
      spdlog::error("{}", m.status().message());
      return kExitError;
    }
    model = std::move(*m);
  }
  // With a model, windows have the length it was trained on.
  const uint32_t length = model ? model->window.length : o.window;
  WindowConfig wc{length, o.hop == 0 ? (model ? model->window.hop : length) : o.hop};
  if (Status s = ValidateWindowConfig(wc); !s.ok()) {
    spdlog::error("{}", s.message());
    return kExitError;
  }
  auto reader = FrameFileReader::Open(o.file);
  if (!reader.ok()) {
    spdlog::error("{}", reader.status().message());
    return kExitError;
  }
  std::string tail_error;
  auto source = [&]() -> std::optional<std::vector<uint8_t>> {
    auto rec = (*reader)->Next();
    if (!rec.ok()) {
      tail_error = rec.status().message();
      return std::nullopt;
    }
    return std::move(*rec);
  };
  nlohmann::json windows = nlohmann::json::array();
  const bool csv = o.entropy && !o.json;
  if (csv) {
    std::printf("vm_id,window,first_seq,last_seq,start_ns,end_ns,vcpus");
    for (auto n : RegisterNames()) std::printf(",%.*s", static_cast<int>(n.size()), n.data());
    for (auto n : DerivedFeatureNames()) std::printf(",%.*s", static_cast<int>(n.size()), n.data());
    if (model) std::printf(",state,confidence");
    std::printf("\n");
  }
  EntropyGraph graph(
      EntropyGraphConfig{wc, 64, model ? &*model : nullptr},
      [&](const FrameBatch&, std::vector<FeatureVector>& out) {
        if (!o.entropy) return;
        for (const FeatureVector& fv : out) {
          if (o.json) {
            windows.push_back(WindowJson(fv, model ? &*model : nullptr));
            continue;
          }
          std::printf("%s,%llu,%llu,%llu,%lld,%lld,%u", fv.vm_id.c_str(),
                      static_cast<unsigned long long>(fv.window_index), static_cast<unsigned long long>(fv.first_seq),
                      static_cast<unsigned long long>(fv.last_seq), static_cast<long long>(fv.start_ns),
                      static_cast<long long>(fv.end_ns), fv.vcpus);
          for (double h : fv.entropy) std::printf(",%.6f", h);
          for (double d : fv.derived) std::printf(",%.6f", d);
          if (model) std::printf(",%s,%.3f", model->ClassName(fv.state).c_str(), fv.confidence);
          std::printf("\n");
        }
      },
      [&](uint64_t index, const Status& why) {
        spdlog::warn("{}: record {} skipped: {}", o.file, index, why.message());
      });
  graph.Run(source);
  const auto& st = graph.stats();
  if (!tail_error.empty()) spdlog::warn("{} (the records before it were replayed)", tail_error);
  nlohmann::json stats = {{"records", st.batches.load()},
                          {"invalid_records", st.invalid_batches.load()},
                          {"frames", st.frames.load()},
                          {"windows", st.windows.load()},
                          {"stale_frames", st.stale_frames.load()},
                          {"truncated", tail_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(tail_error)}};
  if (o.json) {
    nlohmann::json j = {{"file", o.file}, {"window", {{"length", wc.length}, {"hop", wc.hop}}}, {"stats", stats}};
    if (o.entropy) j["windows"] = std::move(windows);
    std::cout << j.dump(o.entropy ? -1 : 2) << std::endl;
  } else if (!o.entropy) {
    std::printf("%s: %llu records, %llu frames, %llu windows of %u ticks, %llu invalid records%s\n", o.file.c_str(),
                static_cast<unsigned long long>(st.batches.load()), static_cast<unsigned long long>(st.frames.load()),
                static_cast<unsigned long long>(st.windows.load()), wc.length,
                static_cast<unsigned long long>(st.invalid_batches.load()),
                tail_error.empty() ? "" : ", truncated tail");
  }
  return kExitOk;
}

}  // namespace

CommandFn RegisterReplay(CLI::App& app) {
  auto o = std::make_shared<ReplayOptions>();
  app.add_option("FILE", o->file, "frame file written by crv record")->required();
  app.add_flag("--entropy", o->entropy,
               "print the per-window entropy series of every register (CSV, or JSON with --json)");
  app.add_flag("--json", o->json, "JSON output");
  app.add_option("--window", o->window, "window length in ticks")->capture_default_str();
  app.add_option("--hop", o->hop, "ticks between windows (default: the window length, or the model's hop)");
  app.add_option("--model", o->model,
                 "classify each window with this model (crv train); adds state and confidence columns; the window "
                 "length is the model's");
  return [o] { return Run(*o); };
}

}  // namespace crv::app
