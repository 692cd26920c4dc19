#include "collectors/replay/replay_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace crv {
namespace {

std::vector<RegisterFrame> Tick(uint64_t rip, int vcpus) {
  std::vector<RegisterFrame> frames(static_cast<size_t>(vcpus));
  for (int v = 0; v < vcpus; ++v) {
    frames[static_cast<size_t>(v)].vcpu = static_cast<uint16_t>(v);
    frames[static_cast<size_t>(v)].seq = 77;
    frames[static_cast<size_t>(v)].timestamp_ns = 123;
    frames[static_cast<size_t>(v)].regs[kRip] = rip + static_cast<uint64_t>(v);
  }
  return frames;
}

std::string WriteFile(const std::string& name, bool with_bad_record) {
  const std::string path = ::testing::TempDir() + "/" + name;
  auto w = FrameFileWriter::Create(path);
  EXPECT_TRUE(w.ok());
  EXPECT_TRUE((*w)->Append(EncodeBatch("vm", "h", Tick(0x1000, 2))).ok());
  if (with_bad_record) {
    std::vector<uint8_t> bad = {8, 0, 0, 0, 'n', 'o', 't', 'a', 'f', 'b', 'u', 'f'};
    EXPECT_TRUE((*w)->Append(bad).ok());
  }
  EXPECT_TRUE((*w)->Append(EncodeBatch("vm", "h", Tick(0x2000, 2))).ok());
  EXPECT_TRUE((*w)->Close().ok());
  return path;
}

TEST(ReplaySource, RecordsBecomeSnapshotsThenTheVmIsGone) {
  auto s = ReplaySource::Open(WriteFile("replay-a.crvf", true));
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ((*s)->vm_id(), "replay-a");
  auto a = (*s)->Snapshot();
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->size(), 2u);
  EXPECT_EQ((*a)[1].vcpu, 1);
  EXPECT_EQ((*a)[1].regs[kRip], 0x1001u);
  EXPECT_EQ((*a)[0].seq, 0u);  // the sampler stamps seq and time
  EXPECT_EQ((*a)[0].timestamp_ns, 0);
  auto bad = (*s)->Snapshot();
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), ::testing::HasSubstr("record 2"));
  auto b = (*s)->Snapshot();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*b)[0].regs[kRip], 0x2000u);
  auto end = (*s)->Snapshot();
  ASSERT_FALSE(end.ok());
  EXPECT_EQ(end.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(end.status().message(), ::testing::HasSubstr("ended after 2 snapshots"));
  EXPECT_EQ((*s)->invalid(), 1u);
}

TEST(ReplaySource, LoopStartsOver) {
  auto s = ReplaySource::Open(WriteFile("replay-b.crvf", false), "vm-b", true);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->vm_id(), "vm-b");
  for (int i = 0; i < 5; ++i) {
    auto f = (*s)->Snapshot();
    ASSERT_TRUE(f.ok()) << i;
    EXPECT_EQ((*f)[0].regs[kRip], i % 2 == 0 ? 0x1000u : 0x2000u);
  }
}

TEST(ReplaySource, MissingFileIsAClearError) {
  auto s = ReplaySource::Open("/nonexistent/x.crvf");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), ::testing::HasSubstr("/nonexistent/x.crvf"));
}

}  // namespace
}  // namespace crv
