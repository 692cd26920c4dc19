#include "sinks/boot_log.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace crv {
namespace {

TEST(BootLogTest, InsertAndReadBack) {
  const std::string path = ::testing::TempDir() + "/bootlog-" + std::to_string(getpid()) + ".sqlite3";
  std::remove(path.c_str());
  {
    auto log = BootLog::Open(path);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    VerificationRecord r;
    r.vm = "vm-1";
    r.image = "/backups/a.qcow2";
    r.started_ns = 42;
    r.verdict = "failure";
    r.error_category = "kernel_panic";
    r.timeline = nlohmann::json::array({{{"t_s", 1.5}, {"from", "booting"}, {"to", "boot_failure"}}});
    r.time_to_verdict_s = 3.25;
    r.ocr_text = "Kernel panic - it's \"quoted\"";
    r.model_id = "abc";
    auto id = (*log)->Insert(r);
    ASSERT_TRUE(id.ok());
    r.vm = "vm-2";
    r.verdict = "success";
    r.error_category.clear();
    ASSERT_TRUE((*log)->Insert(r).ok());
  }
  auto log = BootLog::Open(path);  // reopened: the schema is kept
  ASSERT_TRUE(log.ok());
  auto rows = (*log)->Recent(10);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].vm, "vm-2");
  EXPECT_EQ((*rows)[1].error_category, "kernel_panic");
  EXPECT_EQ((*rows)[1].ocr_text, "Kernel panic - it's \"quoted\"");
  EXPECT_EQ((*rows)[1].timeline[0]["to"], "boot_failure");
  EXPECT_DOUBLE_EQ((*rows)[1].time_to_verdict_s, 3.25);
  EXPECT_EQ((*rows)[1].ToJson()["error_category"], "kernel_panic");
  EXPECT_TRUE((*rows)[0].ToJson()["error_category"].is_null());
  std::remove(path.c_str());
}

TEST(BootLogTest, UnwritablePathIsAClearError) {
  auto log = BootLog::Open("/nonexistent/dir/log.sqlite3");
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.status().message().find("/nonexistent/dir/log.sqlite3"), std::string::npos);
}

}  // namespace
}  // namespace crv
