#include "collectors/sampler.h"

#include <gtest/gtest.h>

namespace crv {
namespace {

// A source whose snapshots cost fake time, scripted per call.
class ScriptedSource : public RegisterSource {
 public:
  ScriptedSource(FakeClock& clock, std::function<int64_t(int)> cost_ns, int vcpus = 2)
      : clock_(clock), cost_ns_(std::move(cost_ns)), vcpus_(vcpus) {}
  Result<std::vector<RegisterFrame>> Snapshot() override {
    const int call = calls_++;
    clock_.Advance(cost_ns_(call));
    if (fail_at_ == call) return InvalidArgument("garbled reply");
    if (gone_at_ == call) return Unavailable("QEMU closed the connection");
    std::vector<RegisterFrame> out(vcpus_);
    for (int v = 0; v < vcpus_; ++v) out[v].vcpu = static_cast<uint16_t>(v);
    return out;
  }
  const std::string& vm_id() const override { return id_; }
  int fail_at_ = -1, gone_at_ = -1;

 private:
  FakeClock& clock_;
  std::function<int64_t(int)> cost_ns_;
  int vcpus_;
  int calls_ = 0;
  std::string id_ = "vm";
};

struct Capture {
  std::vector<std::vector<RegisterFrame>> ticks;
  Sampler::Sink sink() {
    return [this](std::vector<RegisterFrame>&& f) {
      ticks.push_back(std::move(f));
      return Status::Ok();
    };
  }
};

TEST(SamplerTest, FixedRateWithoutDrift) {
  FakeClock clock;
  const int64_t start_wall = clock.WallNs();
  ScriptedSource src(clock, [](int) { return 3'000'000; });  // 3 ms per snapshot
  Capture cap;
  Sampler s(src, clock, SamplerConfig{50, 1000}, cap.sink());
  ASSERT_TRUE(s.Run().ok());
  ASSERT_EQ(cap.ticks.size(), 1000u);
  EXPECT_EQ(s.stats().ticks_missed, 0u);
  EXPECT_EQ(s.stats().frames, 2000u);
  for (size_t k = 0; k < cap.ticks.size(); ++k) {
    for (const auto& f : cap.ticks[k]) {
      EXPECT_EQ(f.seq, k);
      // Tick k is stamped exactly at start + k * 20 ms: the 3 ms snapshot
      // cost does not accumulate.
      ASSERT_EQ(f.timestamp_ns, start_wall + static_cast<int64_t>(k) * 20'000'000);
    }
  }
}

TEST(SamplerTest, SlowSnapshotsCountMissedTicks) {
  FakeClock clock;
  // Call 10 (at 200 ms) takes 65 ms: ticks 11 and 12 (due at 220 and 240 ms)
  // pass; tick 13 (due at 260 ms) is sampled late, at 265 ms.
  ScriptedSource src(
      clock, [](int call) { return call == 10 ? 65'000'000 : 1'000'000; }, 1);
  Capture cap;
  Sampler s(src, clock, SamplerConfig{50, 30}, cap.sink());
  ASSERT_TRUE(s.Run().ok());
  EXPECT_EQ(s.stats().ticks_missed, 2u);
  EXPECT_EQ(cap.ticks.size(), 28u);
  EXPECT_EQ(cap.ticks[10][0].seq, 10u);
  EXPECT_EQ(cap.ticks[11][0].seq, 13u);  // sampled late but within its period
  EXPECT_EQ(cap.ticks.back()[0].seq, 29u);
}

TEST(SamplerTest, ParseErrorIsCountedAndSamplingGoesOn) {
  FakeClock clock;
  ScriptedSource src(clock, [](int) { return 1'000'000; });
  src.fail_at_ = 3;
  Capture cap;
  Sampler s(src, clock, SamplerConfig{100, 10}, cap.sink());
  ASSERT_TRUE(s.Run().ok());
  EXPECT_EQ(s.stats().snapshot_errors, 1u);
  EXPECT_EQ(cap.ticks.size(), 9u);
  EXPECT_NE(s.last_error().find("garbled"), std::string::npos);
}

TEST(SamplerTest, SourceGoneStopsWithTheReason) {
  FakeClock clock;
  ScriptedSource src(clock, [](int) { return 1'000'000; });
  src.gone_at_ = 5;
  Capture cap;
  Sampler s(src, clock, SamplerConfig{100, 0}, cap.sink());
  Status st = s.Run();
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_EQ(cap.ticks.size(), 5u);
}

TEST(SamplerTest, RejectsBadRate) {
  FakeClock clock;
  ScriptedSource src(clock, [](int) { return 0; });
  Capture cap;
  Sampler s(src, clock, SamplerConfig{0, 10}, cap.sink());
  EXPECT_EQ(s.Run().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace crv
