#include "stream/frame_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <iterator>

#include "tests/frame_fixtures.h"

namespace crv {
namespace {

std::string TempPath(const char* name) {
  return std::string(::testing::TempDir()) + "/" + name + "-" + std::to_string(getpid()) + ".crvf";
}

std::vector<uint8_t> WriteSample(const std::string& path, int records) {
  auto w = FrameFileWriter::Create(path);
  EXPECT_TRUE(w.ok());
  BatchEncoder enc;
  for (int i = 0; i < records; ++i) {
    auto frames = testing::SyntheticFrames(1 + i % 3, 2, i, 16, i * 10);
    EXPECT_TRUE((*w)->Append(enc.Encode("vm", "h", frames)).ok());
  }
  EXPECT_TRUE((*w)->Close().ok());
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(FrameFileTest, RoundTrip) {
  const std::string path = TempPath("roundtrip");
  WriteSample(path, 5);
  auto r = FrameFileReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  int n = 0;
  for (;;) {
    auto rec = (*r)->Next();
    ASSERT_TRUE(rec.ok());
    if (!rec->has_value()) break;
    FrameBatch b;
    ASSERT_TRUE(DecodeBatch(**rec, &b).ok());
    EXPECT_EQ(b.frames, testing::SyntheticFrames(1 + n % 3, 2, n, 16, n * 10));
    ++n;
  }
  EXPECT_EQ(n, 5);
  std::remove(path.c_str());
}

TEST(FrameFileTest, TruncatedTailKeepsEveryCompleteRecord) {
  const std::string path = TempPath("truncated");
  const auto bytes = WriteSample(path, 4);
  std::remove(path.c_str());
  // Record boundaries, to know how many complete records each cut keeps.
  std::vector<size_t> ends;
  for (size_t off = kFrameFileHeaderSize; off < bytes.size();) {
    off += 4 + (bytes[off] | bytes[off + 1] << 8 | bytes[off + 2] << 16 | size_t(bytes[off + 3]) << 24);
    ends.push_back(off);
  }
  ASSERT_EQ(ends.size(), 4u);
  for (size_t cut = kFrameFileHeaderSize; cut < bytes.size(); ++cut) {
    auto r = FrameFileReader::FromBytes(std::vector<uint8_t>(bytes.begin(), bytes.begin() + cut));
    ASSERT_TRUE(r.ok());
    size_t good = 0;
    Status tail;
    for (;;) {
      auto rec = (*r)->Next();
      if (!rec.ok()) {
        tail = rec.status();
        break;
      }
      if (!rec->has_value()) break;
      FrameBatch b;
      ASSERT_TRUE(DecodeBatch(**rec, &b).ok());
      ++good;
    }
    const size_t expect = std::count_if(ends.begin(), ends.end(), [&](size_t e) { return e <= cut; });
    ASSERT_EQ(good, expect) << "cut at " << cut;
    const bool at_boundary = cut == kFrameFileHeaderSize || std::find(ends.begin(), ends.end(), cut) != ends.end();
    if (at_boundary) {
      EXPECT_TRUE(tail.ok()) << "cut at " << cut;
    } else {
      EXPECT_EQ(tail.code(), StatusCode::kDataLoss) << "cut at " << cut;
      EXPECT_NE(tail.message().find("at byte"), std::string::npos);
    }
  }
}

TEST(FrameFileTest, HeaderErrors) {
  EXPECT_EQ(FrameFileReader::Open("/nonexistent.crvf").status().code(), StatusCode::kNotFound);
  auto r = FrameFileReader::FromBytes({'h', 'e', 'l', 'l', 'o'}, "x.crvf");
  EXPECT_NE(r.status().message().find("x.crvf: not a crv frame file"), std::string::npos);
  std::vector<uint8_t> v2 = {'C', 'R', 'V', 'F', 'R', 'A', 'M', 'E', 2, 0, 0, 0, 16, 0, 0, 0};
  r = FrameFileReader::FromBytes(v2, "y.crvf");
  EXPECT_NE(r.status().message().find("version 2 is not supported"), std::string::npos);
}

TEST(FrameFileTest, CorruptSizeStopsWithDataLoss) {
  std::vector<uint8_t> b = {'C', 'R', 'V', 'F', 'R', 'A', 'M', 'E', 1, 0, 0, 0, 16, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 1};
  auto r = FrameFileReader::FromBytes(b);
  ASSERT_TRUE(r.ok());
  auto rec = (*r)->Next();
  EXPECT_EQ(rec.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(rec.status().message().find("corrupt record size"), std::string::npos);
  // And stays ended.
  auto again = (*r)->Next();
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());
}

}  // namespace
}  // namespace crv
