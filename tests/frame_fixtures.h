// Helpers for tests and benchmarks: synthetic register frames.
#pragma once

#include <random>
#include <vector>

#include "schemas/register_frame.h"

namespace crv::testing {

// `ticks` snapshots of `vcpus` vCPUs; register values drawn from a small
// alphabet so entropy varies, with a seeded generator (deterministic).
inline std::vector<RegisterFrame> SyntheticFrames(uint64_t ticks, uint16_t vcpus, uint32_t seed = 1,
                                                  uint64_t alphabet = 16, uint64_t first_seq = 0) {
  std::mt19937_64 rng(seed);
  std::vector<RegisterFrame> out;
  out.reserve(ticks * vcpus);
  for (uint64_t t = 0; t < ticks; ++t) {
    for (uint16_t v = 0; v < vcpus; ++v) {
      RegisterFrame f;
      f.vcpu = v;
      f.seq = first_seq + t;
      f.timestamp_ns = 1'700'000'000'000'000'000 + static_cast<int64_t>(t) * 20'000'000;
      for (int r = 0; r < kNumRegs; ++r) f.regs[r] = 0xffffffff81000000ull + (rng() % alphabet) * 8;
      for (int r = kCs; r <= kSs; ++r) f.regs[r] = (f.regs[r] & 0xfff8) | 3;  // 16-bit selectors
      f.regs[kRflags] = (rng() & 1) ? 0x246 : 0x46;
      f.regs[kCr0] = 0x80050033;
      f.regs[kEfer] = 0xd01;
      f.cpl = (rng() % 4 == 0) ? 3 : 0;
      f.halted = rng() % 3 == 0;
      out.push_back(f);
    }
  }
  return out;
}

}  // namespace crv::testing
