// Sampling costs: parsing one `info registers -a` snapshot (from replies
// captured on real guests), and — when a fixture guest is available — the
// full QMP snapshot against a bare QMP round trip to the same QEMU, so the
// figure reads as "what crv adds to the QEMU round trip".
#include <benchmark/benchmark.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "benchmarks/ratio_report.h"
#include "collectors/qemu/launcher.h"
#include "collectors/qemu/qmp_register_source.h"
#include "collectors/qemu/register_parser.h"

namespace crv {
namespace {

std::string ReadData(const std::string& name) {
  std::ifstream in(std::string(CRV_TEST_DATA) + "/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void BM_ParseSnapshot(benchmark::State& state, const char* file) {
  const std::string text = ReadData(file);
  size_t cpus = 0;
  for (auto _ : state) {
    auto r = ParseInfoRegisters(text);
    cpus += r->size();
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(static_cast<int64_t>(cpus));  // vCPUs per second
  state.counters["bytes"] = static_cast<double>(text.size());
}
BENCHMARK_CAPTURE(BM_ParseSnapshot, one_vcpu, "ok-12s.txt");
BENCHMARK_CAPTURE(BM_ParseSnapshot, two_vcpus, "smp2-14s.txt");

// A real guest for the QMP benchmarks, started once.
struct LiveGuest {
  std::unique_ptr<QemuGuest> vm;
  std::unique_ptr<QmpRegisterSource> source;
  std::string error;
};
LiveGuest& Live() {
  static LiveGuest g = [] {
    LiveGuest l;
    const char* dir = getenv("CRV_GUESTS_DIR");
    auto spec = LoadGuestDir(std::string(dir ? dir : "build/guests") + "/ok");
    if (!spec.ok()) {
      l.error = spec.status().message();
      return l;
    }
    LaunchOptions lo;
    lo.accel = Accel::kTcg;
    auto vm = QemuGuest::Launch(*spec, lo);
    if (!vm.ok()) {
      l.error = vm.status().message();
      return l;
    }
    auto c = QmpClient::Connect((*vm)->qmp_socket());
    if (!c.ok()) {
      l.error = c.status().message();
      return l;
    }
    l.vm = std::move(*vm);
    l.source = std::make_unique<QmpRegisterSource>(std::move(*c), "ok");
    return l;
  }();
  return g;
}

void BM_QmpRoundTrip(benchmark::State& state) {
  auto& l = Live();
  if (!l.source) {
    state.SkipWithError(("no guest: " + l.error).c_str());
    return;
  }
  for (auto _ : state) {
    auto r = l.source->client().Execute("query-status");
    if (!r.ok()) state.SkipWithError(r.status().message().c_str());
  }
  state.SetItemsProcessed(state.iterations());
}
void BM_QmpSnapshot(benchmark::State& state) {
  auto& l = Live();
  if (!l.source) {
    state.SkipWithError(("no guest: " + l.error).c_str());
    return;
  }
  for (auto _ : state) {
    auto r = l.source->Snapshot();
    if (!r.ok()) state.SkipWithError(r.status().message().c_str());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_QmpRoundTrip)->Unit(benchmark::kMicrosecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_QmpSnapshot)->Unit(benchmark::kMicrosecond)->UseRealTime()->MinTime(2.0);

}  // namespace
}  // namespace crv

int main(int argc, char** argv) {
  return crv::bench::RunWithRatios(
      argc, argv,
      {{"snapshot time / bare QMP round trip", "BM_QmpSnapshot", "BM_QmpRoundTrip", 0, true},
       {"parse time / snapshot time (crv's share)", "BM_ParseSnapshot/one_vcpu", "BM_QmpSnapshot", 0, true}});
}
