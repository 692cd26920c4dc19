#include "sinks/screen.h"

#include <gtest/gtest.h>

namespace crv {
namespace {

std::vector<uint8_t> Ppm(int w, int h, uint8_t fill, const std::string& header_extra = "") {
  std::string head = "P6\n" + header_extra + std::to_string(w) + " " + std::to_string(h) + "\n255\n";
  std::vector<uint8_t> b(head.begin(), head.end());
  b.insert(b.end(), static_cast<size_t>(w) * h * 3, fill);
  return b;
}

TEST(ScreenTest, ParsesQemuPpm) {
  auto bytes = Ppm(4, 3, 7, "# a comment\n");
  auto img = ParsePpm(bytes.data(), bytes.size());
  ASSERT_TRUE(img.ok()) << img.status().ToString();
  EXPECT_EQ(img->width, 4);
  EXPECT_EQ(img->height, 3);
  EXPECT_EQ(img->rgb.size(), 36u);
  EXPECT_EQ(img->rgb[35], 7);
}

TEST(ScreenTest, RejectsBadPpmWithTheReason) {
  auto short_pixels = Ppm(4, 3, 0);
  short_pixels.resize(short_pixels.size() - 1);
  EXPECT_EQ(ParsePpm(short_pixels.data(), short_pixels.size()).status().code(), StatusCode::kDataLoss);
  const std::string p3 = "P3\n1 1\n255\n0 0 0\n";
  EXPECT_NE(ParsePpm(reinterpret_cast<const uint8_t*>(p3.data()), p3.size()).status().message().find("P6"),
            std::string::npos);
  const std::string big = "P6\n99999 2\n255\n";
  EXPECT_NE(ParsePpm(reinterpret_cast<const uint8_t*>(big.data()), big.size()).status().message().find("out of range"),
            std::string::npos);
  const std::string deep = "P6\n1 1\n65535\n";
  EXPECT_NE(ParsePpm(reinterpret_cast<const uint8_t*>(deep.data()), deep.size()).status().message().find("maxval"),
            std::string::npos);
}

TEST(ScreenTest, ChangedPixelsOutsideTheMask) {
  auto a = *ParsePpm(Ppm(10, 10, 0).data(), Ppm(10, 10, 0).size());
  Image b = a;
  EXPECT_EQ(CountChangedPixels(a, b, {}), 0u);
  // A blinking cursor at (8,8)..(9,9) and one pixel elsewhere.
  for (int y = 8; y < 10; ++y) {
    for (int x = 8; x < 10; ++x) b.rgb[(y * 10 + x) * 3] = 255;
  }
  b.rgb[(1 * 10 + 1) * 3 + 2] = 1;
  EXPECT_EQ(CountChangedPixels(a, b, {}), 5u);
  EXPECT_EQ(CountChangedPixels(a, b, {*ParseRect("8,8,2,2")}), 1u);
  Image c;
  c.width = 5;
  c.height = 5;
  c.rgb.assign(75, 0);
  EXPECT_EQ(CountChangedPixels(a, c, {}), 100u);  // a mode change: everything changed
  EXPECT_FALSE(ParseRect("1,2,3").ok());
  EXPECT_FALSE(ParseRect("1,2,0,4").ok());
}

}  // namespace
}  // namespace crv
