#include "core/status.h"

#include <gtest/gtest.h>

namespace crv {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgument(std::to_string(x) + " is odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  CRV_ASSIGN_OR_RETURN(int h, Half(x));
  CRV_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(StatusTest, OkAndErrors) {
  EXPECT_TRUE(Status::Ok().ok());
  EXPECT_EQ(Status::Ok().ToString(), "ok");
  Status s = NotFound("no such socket");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.ToString(), "not found: no such socket");
  EXPECT_EQ(s.WithContext("connecting").message(), "connecting: no such socket");
}

TEST(StatusTest, ResultPropagates) {
  EXPECT_EQ(*Quarter(8), 2);
  auto r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "3 is odd");
}

}  // namespace
}  // namespace crv
