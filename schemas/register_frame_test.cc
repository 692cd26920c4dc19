#include "schemas/register_frame.h"

#include <gtest/gtest.h>

#include <cstring>

#include "frame_generated.h"
#include "tests/frame_fixtures.h"

namespace crv {
namespace {

TEST(RegisterFrameTest, RoundTrip) {
  auto frames = testing::SyntheticFrames(10, 3, 7);
  frames[4].regs[kCs] = 0x10;
  frames[5].regs[kSs] = 0x18;
  auto bytes = EncodeBatch("vm-a", "host-1", frames);
  FrameBatch out;
  ASSERT_TRUE(DecodeBatch(bytes, &out).ok());
  EXPECT_EQ(out.vm_id, "vm-a");
  EXPECT_EQ(out.host, "host-1");
  EXPECT_EQ(out.frames, frames);
}

TEST(RegisterFrameTest, EncoderReuseGivesSameBytes) {
  auto frames = testing::SyntheticFrames(4, 2);
  BatchEncoder enc;
  auto a = enc.Encode("v", "h", frames);
  std::vector<uint8_t> first(a.begin(), a.end());
  enc.Encode("other", "h", testing::SyntheticFrames(9, 1));
  auto b = enc.Encode("v", "h", frames);
  EXPECT_EQ(first, std::vector<uint8_t>(b.begin(), b.end()));
}

TEST(RegisterFrameTest, MisalignedInputIsCopiedNotMisread) {
  auto frames = testing::SyntheticFrames(3, 1);
  auto bytes = EncodeBatch("vm", "h", frames);
  std::vector<uint8_t> shifted(bytes.size() + 1);
  std::memcpy(shifted.data() + 1, bytes.data(), bytes.size());
  FrameBatch out;
  ASSERT_TRUE(DecodeBatch(std::span<const uint8_t>(shifted.data() + 1, bytes.size()), &out).ok());
  EXPECT_EQ(out.frames, frames);
}

TEST(RegisterFrameTest, RejectsGarbageWithAClearReason) {
  FrameBatch out;
  std::vector<uint8_t> tiny = {1, 2, 3};
  EXPECT_EQ(DecodeBatch(tiny, &out).code(), StatusCode::kDataLoss);

  auto bytes = EncodeBatch("vm", "h", testing::SyntheticFrames(2, 1));
  auto wrong_prefix = bytes;
  wrong_prefix[0] ^= 0x01;
  Status s = DecodeBatch(wrong_prefix, &out);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("size prefix"), std::string::npos);

  auto wrong_id = bytes;
  std::memcpy(wrong_id.data() + 8, "XXXX", 4);  // identifier after prefix + root offset
  s = DecodeBatch(wrong_id, &out);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("CRVB"), std::string::npos) << s.message();

  // Every single-byte corruption either decodes or is refused; never a crash.
  for (size_t i = 4; i < bytes.size(); ++i) {
    auto c = bytes;
    c[i] ^= 0xA5;
    DecodeBatch(c, &out).IgnoreError();
  }
}

TEST(RegisterFrameTest, RejectsBackwardsSequence) {
  auto frames = testing::SyntheticFrames(3, 1);
  std::swap(frames[0], frames[2]);
  FrameBatch out;
  Status s = DecodeBatch(EncodeBatch("vm", "h", frames), &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("backwards"), std::string::npos);
}

TEST(RegisterFrameTest, RejectsMissingRegistersAndEmptyVmId) {
  flatbuffers::FlatBufferBuilder fbb;
  fb::FrameBuilder fb_(fbb);
  fb_.add_seq(1);
  auto frame = fb_.Finish();
  auto vec = fbb.CreateVector(std::vector<flatbuffers::Offset<fb::Frame>>{frame});
  auto batch = fb::CreateFrameBatch(fbb, fbb.CreateString("vm"), 0, vec);
  fb::FinishSizePrefixedFrameBatchBuffer(fbb, batch);
  FrameBatch out;
  Status s = DecodeBatch({fbb.GetBufferPointer(), fbb.GetSize()}, &out);
  EXPECT_NE(s.message().find("no registers"), std::string::npos) << s.message();

  s = DecodeBatch(EncodeBatch("", "h", testing::SyntheticFrames(1, 1)), &out);
  EXPECT_NE(s.message().find("empty vm_id"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace crv
