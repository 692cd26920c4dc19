// Frames per second through the whole in-process operator graph (encoded
// batches in, feature vectors out) against the bare window/entropy kernel on
// already-decoded frames, in the same run.
//
// Target (issue "Foundation"): the graph reaches 1,000,000 frames/s on a
// 2-core machine and at least 50% of the bare kernel's rate.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <memory>

#include "benchmarks/ratio_report.h"
#include "operators/entropy_graph.h"
#include "tests/frame_fixtures.h"

namespace crv {
namespace {

constexpr int kVms = 8;
constexpr int kVcpus = 4;
constexpr int kBatchesPerVm = 64;

// Batches of `ticks` snapshots of kVcpus vCPUs, round-robin over kVms VMs,
// values from a boot-like mix (runs of repeats and fresh values).
struct Workload {
  std::vector<std::vector<uint8_t>> encoded;
  std::vector<FrameBatch> decoded;
  uint64_t frames = 0;
  explicit Workload(int ticks) {
    for (int b = 0; b < kBatchesPerVm; ++b) {
      for (int vm = 0; vm < kVms; ++vm) {
        auto frames = testing::SyntheticFrames(ticks, kVcpus, b * kVms + vm, 12, static_cast<uint64_t>(b) * ticks);
        const std::string id = "vm-" + std::to_string(vm);
        encoded.push_back(EncodeBatch(id, "bench-host", frames));
        frames_total(frames.size());
        decoded.push_back(FrameBatch{id, "bench-host", std::move(frames)});
      }
    }
  }
  void frames_total(size_t n) { frames += n; }
};

const Workload& GetWorkload(int ticks) {
  static std::map<int, std::unique_ptr<Workload>> cache;
  auto& w = cache[ticks];
  if (!w) w = std::make_unique<Workload>(ticks);
  return *w;
}

// The bare kernel: window features on decoded frames, one thread, no graph.
void BM_Kernel(benchmark::State& state) {
  const Workload& w = GetWorkload(static_cast<int>(state.range(0)));
  std::vector<FeatureVector> out;
  uint64_t windows = 0;
  for (auto _ : state) {
    WindowFeatureOperator op(WindowConfig{25, 25});
    for (const auto& b : w.decoded) {
      out.clear();
      op.Add(b, &out);
      windows += out.size();
    }
  }
  benchmark::DoNotOptimize(windows);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * w.frames));
}

// Only the entropy updates (29 registers per frame), for reference.
void BM_EntropyUpdatesOnly(benchmark::State& state) {
  const Workload& w = GetWorkload(static_cast<int>(state.range(0)));
  std::vector<SlidingEntropy> ent(kNumRegs, SlidingEntropy(25));
  for (auto _ : state) {
    for (const auto& b : w.decoded) {
      for (const auto& f : b.frames) {
        for (int r = 0; r < kNumRegs; ++r) ent[r].Push(f.regs[r]);
      }
    }
  }
  benchmark::DoNotOptimize(ent[0].Bits());
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * w.frames));
}

// The whole graph: verify + decode (parallel), order, windows (serial).
void BM_Graph(benchmark::State& state) {
  const Workload& w = GetWorkload(static_cast<int>(state.range(0)));
  uint64_t windows = 0;
  for (auto _ : state) {
    size_t i = 0;
    EntropyGraph g(EntropyGraphConfig{{25, 25}, 64},
                   [&](const FrameBatch&, std::vector<FeatureVector>& out) { windows += out.size(); });
    g.Run([&]() -> std::optional<std::vector<uint8_t>> {
      if (i == w.encoded.size()) return std::nullopt;
      return w.encoded[i++];
    });
  }
  benchmark::DoNotOptimize(windows);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * w.frames));
}

// range(0) = ticks per batch: 64 ticks x 4 vCPUs = 256 frames per batch, and
// 1 tick (4 frames) per batch, the live sampler's shape.
BENCHMARK(BM_EntropyUpdatesOnly)->Arg(64)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Kernel)->Arg(64)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Graph)->Arg(64)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace crv

int main(int argc, char** argv) {
  return crv::bench::RunWithRatios(argc, argv,
                                   {{"graph/kernel, 256-frame batches", "BM_Graph/64", "BM_Kernel/64", 0.5},
                                    {"graph/kernel, 4-frame batches (one tick)", "BM_Graph/1", "BM_Kernel/1", 0},
                                    {"kernel/entropy-updates-only", "BM_Kernel/64", "BM_EntropyUpdatesOnly/64", 0}});
}
