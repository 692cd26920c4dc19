#include "operators/boot_state_machine.h"

#include <gtest/gtest.h>

namespace crv {
namespace {

constexpr int64_t kS = 1'000'000'000;

TEST(BootStateMachineTest, DwellAndHysteresis) {
  BootStateMachine m(BootStateConfig{}, 0);
  // A single quiet window mid-boot (timer calibration) does not count.
  int64_t t = 0;
  for (int i = 0; i < 3; ++i) m.OnWindow("boot_success", 1.0, t += kS / 10);
  m.OnWindow("booting", 1.0, t += kS / 10);
  for (int i = 0; i < 3; ++i) m.OnWindow("boot_success", 1.0, t += kS / 10);
  EXPECT_EQ(m.state(), "booting");
  EXPECT_FALSE(m.success_candidate());
  // Unsure windows neither move the state nor break a run.
  for (int i = 0; i < 4; ++i) {
    m.OnWindow("boot_success", 1.0, t += kS / 10);
    m.OnWindow("boot_failure", 0.5, t += kS / 10);
  }
  EXPECT_EQ(m.state(), "boot_success");
  EXPECT_TRUE(m.success_candidate());
  EXPECT_EQ(m.verdict(), Verdict::kNone);  // a candidate, not a verdict
  ASSERT_EQ(m.timeline().size(), 1u);
  EXPECT_EQ(m.timeline()[0].from, "booting");
  m.ConfirmSuccess(t);
  EXPECT_EQ(m.verdict(), Verdict::kSuccess);
  EXPECT_EQ(m.verdict_ns(), t);
}

TEST(BootStateMachineTest, LeavingSuccessDropsTheCandidate) {
  BootStateMachine m(BootStateConfig{}, 0);
  int64_t t = 0;
  for (int i = 0; i < 5; ++i) m.OnWindow("boot_success", 1.0, t += kS / 10);
  EXPECT_TRUE(m.success_candidate());
  for (int i = 0; i < 5; ++i) m.OnWindow("booting", 1.0, t += kS / 10);
  EXPECT_FALSE(m.success_candidate());
  m.ConfirmSuccess(t);
  EXPECT_EQ(m.verdict(), Verdict::kNone);
  EXPECT_EQ(m.timeline().size(), 2u);
}

TEST(BootStateMachineTest, FailureAndTimeout) {
  BootStateMachine f(BootStateConfig{}, 0);
  int64_t t = 0;
  for (int i = 0; i < 5; ++i) f.OnWindow("boot_failure", 1.0, t += kS / 10);
  EXPECT_EQ(f.verdict(), Verdict::kFailure);

  BootStateConfig c;
  c.max_boot_seconds = 10;
  BootStateMachine m(c, 5 * kS);
  m.OnTime(14 * kS);
  EXPECT_EQ(m.verdict(), Verdict::kNone);
  m.OnTime(15 * kS + 1);
  EXPECT_EQ(m.verdict(), Verdict::kTimeout);
  m.ConfirmSuccess(16 * kS);  // too late
  EXPECT_EQ(m.verdict(), Verdict::kTimeout);
}

TEST(BootStateMachineTest, ChainedStatesAreBothSuccess) {
  BootStateMachine m(BootStateConfig{}, 0);
  int64_t t = 0;
  for (int i = 0; i < 5; ++i) m.OnWindow("boot_success", 1.0, t += kS);
  for (int i = 0; i < 5; ++i) m.OnWindow("app_loaded", 1.0, t += kS);
  EXPECT_EQ(m.state(), "app_loaded");
  EXPECT_TRUE(m.success_candidate());
  ASSERT_EQ(m.timeline().size(), 2u);
}

}  // namespace
}  // namespace crv
