#include "operators/window_features.h"

#include <gtest/gtest.h>

#include "tests/frame_fixtures.h"

namespace crv {
namespace {

FrameBatch Batch(std::vector<RegisterFrame> frames, std::string vm = "vm") {
  return FrameBatch{std::move(vm), "h", std::move(frames)};
}

TEST(WindowFeaturesTest, TumblingAndHoppingWindows) {
  auto frames = testing::SyntheticFrames(100, 1);
  for (auto [length, hop, expected] : {std::tuple{25u, 25u, 4u}, {25u, 5u, 16u}, {10u, 1u, 91u}}) {
    WindowFeatureOperator op(WindowConfig{length, hop});
    std::vector<FeatureVector> out;
    for (size_t i = 0; i < frames.size(); i += 7) {  // batches of 7 ticks
      op.Add(Batch({frames.begin() + i, frames.begin() + std::min(i + 7, frames.size())}), &out);
    }
    ASSERT_EQ(out.size(), expected) << length << "/" << hop;
    EXPECT_EQ(out[0].first_seq, 0u);
    EXPECT_EQ(out[0].last_seq, length - 1);
    EXPECT_EQ(out[1].first_seq, hop);
    EXPECT_EQ(out[1].window_index, 1u);
    EXPECT_EQ(out.back().last_seq, 99u);
    EXPECT_EQ(out[0].start_ns, frames[0].timestamp_ns);
    EXPECT_EQ(out[0].end_ns, frames[length - 1].timestamp_ns);
  }
}

TEST(WindowFeaturesTest, EntropyAndDerivedValues) {
  // vCPU 0: RIP alternates between two values (1 bit); vCPU 1 halted,
  // constant. IF on for half of vCPU 0's samples, always on for vCPU 1.
  std::vector<RegisterFrame> frames;
  for (uint64_t t = 0; t < 8; ++t) {
    RegisterFrame a, b;
    a.vcpu = 0;
    b.vcpu = 1;
    a.seq = b.seq = t;
    a.regs[kRip] = 0x1000 + (t % 2);
    a.regs[kRflags] = (t % 2) ? kRflagsIf : 0;
    a.regs[kCr3] = 0x5000 + (t % 4) * 0x1000;
    a.cpl = t < 2 ? 3 : 0;
    b.regs[kRip] = 0x2000;
    b.regs[kRflags] = kRflagsIf;
    b.halted = true;
    b.regs[kCr0] = kCr0Pg | kCr0Pe;
    b.regs[kEfer] = kEferLma;
    frames.push_back(a);
    frames.push_back(b);
  }
  WindowFeatureOperator op(WindowConfig{8, 8});
  std::vector<FeatureVector> out;
  op.Add(Batch(frames), &out);
  ASSERT_EQ(out.size(), 1u);
  const FeatureVector& fv = out[0];
  EXPECT_EQ(fv.vcpus, 2u);
  EXPECT_DOUBLE_EQ(fv.entropy[kRip], 1.0);  // max over vCPUs
  EXPECT_DOUBLE_EQ(fv.entropy[kCr3], 2.0);
  EXPECT_DOUBLE_EQ(fv.entropy[kRsp], 0.0);
  EXPECT_DOUBLE_EQ(fv.derived[kIfShare], 0.5);      // min(0.5, 1)
  EXPECT_DOUBLE_EQ(fv.derived[kUserShare], 0.25);   // max(2/8, 0)
  EXPECT_DOUBLE_EQ(fv.derived[kHaltedShare], 0.0);  // min(0, 1)
  EXPECT_DOUBLE_EQ(fv.derived[kPagingShare], 1.0);  // max(0, 1)
  EXPECT_DOUBLE_EQ(fv.derived[kLongModeShare], 1.0);
  EXPECT_DOUBLE_EQ(fv.derived[kDistinctCr3], 4.0);
}

TEST(WindowFeaturesTest, StaleFramesAreSkippedAndCounted) {
  auto frames = testing::SyntheticFrames(10, 2);
  WindowFeatureOperator op(WindowConfig{5, 5});
  std::vector<FeatureVector> out;
  op.Add(Batch({frames.begin(), frames.begin() + 12}), &out);      // ticks 0..5
  op.Add(Batch({frames.begin() + 8, frames.begin() + 12}), &out);  // ticks 4, 5 again
  EXPECT_EQ(op.stale_frames(), 4u);
  op.Add(Batch({frames.begin() + 12, frames.end()}), &out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].first_seq, 5u);
  EXPECT_EQ(out[1].last_seq, 9u);
}

TEST(WindowFeaturesTest, VmsAreIndependent) {
  auto a = testing::SyntheticFrames(10, 1, 1);
  auto b = testing::SyntheticFrames(10, 1, 2);
  WindowFeatureOperator together(WindowConfig{5, 5}), alone(WindowConfig{5, 5});
  std::vector<FeatureVector> mixed, only_a;
  for (int i = 0; i < 10; ++i) {
    together.Add(Batch({a[i]}, "a"), &mixed);
    together.Add(Batch({b[i]}, "b"), &mixed);
    alone.Add(Batch({a[i]}, "a"), &only_a);
  }
  ASSERT_EQ(mixed.size(), 4u);
  std::vector<FeatureVector> mixed_a;
  for (auto& f : mixed) {
    if (f.vm_id == "a") mixed_a.push_back(f);
  }
  ASSERT_EQ(mixed_a.size(), only_a.size());
  for (size_t i = 0; i < only_a.size(); ++i) EXPECT_EQ(mixed_a[i].entropy, only_a[i].entropy);
  together.Forget("a");
  EXPECT_EQ(together.vm_count(), 1u);
}

TEST(WindowFeaturesTest, ConfigValidation) {
  EXPECT_TRUE(ValidateWindowConfig({25, 25}).ok());
  EXPECT_FALSE(ValidateWindowConfig({1, 1}).ok());
  EXPECT_FALSE(ValidateWindowConfig({25, 0}).ok());
  EXPECT_NE(ValidateWindowConfig({25, 30}).message().find("hop"), std::string::npos);
}

}  // namespace
}  // namespace crv
