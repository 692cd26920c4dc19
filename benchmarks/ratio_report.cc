#include "benchmarks/ratio_report.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>

namespace crv::bench {
namespace {
class CapturingReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.run_type != Run::RT_Iteration && r.aggregate_name != "median") continue;
      const std::string name = r.run_name.function_name + (r.run_name.args.empty() ? "" : "/" + r.run_name.args);
      auto it = r.counters.find("items_per_second");
      if (it != r.counters.end()) rate[name] = it->second.value;
      if (r.iterations > 0) time_ns[name] = r.real_accumulated_time / static_cast<double>(r.iterations) * 1e9;
    }
    ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, double> rate, time_ns;
};
}  // namespace

int RunWithRatios(int argc, char** argv, const std::vector<Ratio>& ratios) {
  benchmark::Initialize(&argc, argv);
  CapturingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  std::printf("\n");
  for (const Ratio& r : ratios) {
    auto& m = r.by_time ? reporter.time_ns : reporter.rate;
    if (!m.count(r.numerator) || !m.count(r.denominator) || m[r.denominator] == 0) {
      std::printf("ratio %s: not measured in this run\n", r.label.c_str());
      continue;
    }
    const double v = m[r.numerator] / m[r.denominator];
    if (r.target > 0) {
      std::printf("ratio %s: %.3f (target >= %.2f: %s)\n", r.label.c_str(), v, r.target,
                  v >= r.target ? "met" : "NOT met");
    } else {
      std::printf("ratio %s: %.3f\n", r.label.c_str(), v);
    }
  }
  benchmark::Shutdown();
  return 0;
}

}  // namespace crv::bench
