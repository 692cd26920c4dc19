#include "collectors/xen/xen_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

namespace crv {
namespace {

// On a host that is not a Xen dom0 (this CI machine), choosing the Xen
// backend is a clear error, not a crash or a missing-library failure.
TEST(XenHost, UnavailableHostSaysWhy) {
  if (access("/dev/xen/privcmd", F_OK) == 0) GTEST_SKIP() << "this host runs Xen";
  auto h = XenHost::Open();
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(h.status().message(), ::testing::StartsWith("Xen is not available on this host: "));
}

}  // namespace
}  // namespace crv
