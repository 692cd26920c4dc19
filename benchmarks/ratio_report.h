// Runs the registered benchmarks, then prints each named ratio between two
// benchmarks' items_per_second (or real time), so that a figure is always
// read against a baseline measured in the same run.
#pragma once

#include <string>
#include <vector>

namespace crv::bench {

struct Ratio {
  std::string label;
  std::string numerator;    // benchmark name
  std::string denominator;  // benchmark name (the baseline)
  double target = 0;        // printed as met / not met when > 0
  bool by_time = false;     // compare real time per iteration instead of rates
};

// Returns 0; prints "ratio <label>: <value> (target ...: met|NOT met)".
int RunWithRatios(int argc, char** argv, const std::vector<Ratio>& ratios);

}  // namespace crv::bench
