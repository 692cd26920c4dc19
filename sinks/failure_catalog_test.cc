#include "sinks/failure_catalog.h"

#include <gtest/gtest.h>

namespace crv {
namespace {

TEST(FailureCatalogTest, NamesKnownFailures) {
  EXPECT_EQ(MatchFailure("[ 2.5] Kernel panic - not syncing: VFS: Unable to mount root fs"), "kernel_panic");
  EXPECT_EQ(MatchFailure("Booting from Hard Disk...\nNo bootable device."), "no_bootable_device");
  EXPECT_EQ(MatchFailure("grub rescue> "), "grub_rescue");
  EXPECT_EQ(MatchFailure("*** STOP: 0x0000007B (0xF78D2524,0xC0000034,0x00000000)"), "windows_stop");
  EXPECT_EQ(MatchFailure("Your PC ran into a problem and needs to restart.\nStop code: CRITICAL_PROCESS_DIED"),
            "windows_stop");
  EXPECT_EQ(MatchFailure("Operating System not found"), "os_not_found");
  EXPECT_EQ(MatchFailure("You are in emergency mode."), "emergency_shell");
  EXPECT_EQ(MatchFailure("crv-ok login:"), "");
}

TEST(FailureCatalogTest, WorkInProgressOnlyInTheLastLines) {
  EXPECT_TRUE(ShowsWorkInProgress("crv-guest: init started\ncrv-guest: waiting for devices\n\n"));
  EXPECT_TRUE(ShowsWorkInProgress("Loading Linux 6.1 ...\nLoading initial ramdisk ..."));
  EXPECT_TRUE(ShowsWorkInProgress("Please wait while Windows starts"));
  EXPECT_FALSE(ShowsWorkInProgress("Starting services\nwaiting for udev\ndone.\nDebian login:"));
  EXPECT_FALSE(ShowsWorkInProgress(""));
}

}  // namespace
}  // namespace crv
