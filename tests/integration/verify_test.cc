// crv verify end to end on real guests under QEMU (TCG), with real OCR.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "collectors/qemu/launcher.h"
#include "core/clock.h"
#include "sinks/boot_log.h"
#include "stream/profile.h"

namespace crv {
namespace {
namespace fs = std::filesystem;

const std::string kGuests = CRV_GUESTS_DIR_DEFAULT;

struct Outcome {
  int exit_code = -1;
  std::string out, err;
  nlohmann::json record;
};

// Runs crv with `args`; stdout is JSON (--json), stderr is kept for messages.
Outcome Verify(const std::string& args) {
  const std::string err_file = ::testing::TempDir() + "/verify-stderr-" + std::to_string(getpid());
  const std::string cmd = std::string(CRV_BINARY) + " verify --json --accel tcg " + args + " 2>" + err_file;
  Outcome o;
  FILE* p = popen(cmd.c_str(), "r");
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof(buf), p)) o.out.append(buf, n);
  const int st = pclose(p);
  o.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  std::ifstream in(err_file);
  std::stringstream ss;
  ss << in.rdbuf();
  o.err = ss.str();
  o.record = nlohmann::json::parse(o.out, nullptr, false);
  return o;
}

std::string Out(const char* name) { return ::testing::TempDir() + "/verify-" + name + "-" + std::to_string(getpid()); }

bool Contains(const nlohmann::json& j, const char* key, const std::string& what) {
  return j.contains(key) && j[key].is_string() && j[key].get<std::string>().find(what) != std::string::npos;
}

TEST(VerifyTest, OkGuestBoots) {
  const std::string out = Out("ok");
  Outcome o = Verify("--guest ok --guests-dir " + kGuests + " --max-boot-time 120 --out " + out);
  ASSERT_EQ(o.exit_code, 0) << o.out << o.err;
  EXPECT_EQ(o.record["verdict"], "success");
  EXPECT_TRUE(Contains(o.record, "ocr_text", "login")) << o.record.dump(2);
  const std::string shot = o.record["screenshot"].get<std::string>();
  ASSERT_TRUE(fs::exists(shot));
  std::ifstream png(shot, std::ios::binary);
  char magic[4];
  png.read(magic, 4);
  EXPECT_EQ(std::string(magic + 1, 3), "PNG");
  ASSERT_FALSE(o.record["timeline"].empty());
  EXPECT_EQ(o.record["timeline"].back()["to"], "boot_success");
  // The same record is in the boot-status log.
  auto log = BootLog::Open(out + "/boot-status.sqlite3");
  ASSERT_TRUE(log.ok());
  auto rows = (*log)->Recent(1);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].verdict, "success");
  EXPECT_EQ((*rows)[0].screenshot, shot);
  EXPECT_FALSE((*rows)[0].model_id.empty());
}

TEST(VerifyTest, PanicGuestFailsWithKernelPanicCategory) {
  Outcome o = Verify("--guest panic --guests-dir " + kGuests + " --max-boot-time 120 --out " + Out("panic"));
  ASSERT_EQ(o.exit_code, 1) << o.out << o.err;
  EXPECT_EQ(o.record["verdict"], "failure");
  EXPECT_EQ(o.record["error_category"], "kernel_panic");
  EXPECT_TRUE(Contains(o.record, "ocr_text", "Kernel panic")) << o.record["ocr_text"];
  EXPECT_TRUE(fs::exists(o.record["screenshot"].get<std::string>()));
}

// The guest sits quietly for 8 s mid-boot (registers exactly like a guest at
// its prompt) with "waiting for devices" on the screen. The verdict must not
// come before the prompt appears on the serial console.
TEST(VerifyTest, QuietPauseMidBootIsNotTakenForSuccess) {
  auto spec = LoadGuestDir(kGuests + "/slow-init");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  LaunchOptions lo;
  lo.accel = Accel::kTcg;
  auto vm = QemuGuest::Launch(*spec, lo);
  ASSERT_TRUE(vm.ok()) << vm.status().ToString();
  std::atomic<int64_t> prompt_ns{-1};
  std::atomic<bool> done{false};
  std::thread watch([&] {
    while (!done.load()) {
      std::ifstream in((*vm)->serial_log());
      std::stringstream ss;
      ss << in.rdbuf();
      if (prompt_ns.load() < 0 && ss.str().find("login:") != std::string::npos) {
        prompt_ns.store(RealClock::Instance().WallNs());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  Outcome o = Verify("--qmp " + (*vm)->qmp_socket() + " --vm-id slow-init --max-boot-time 120 --out " + Out("slow"));
  done.store(true);
  watch.join();
  ASSERT_EQ(o.exit_code, 0) << o.out << o.err;
  ASSERT_GT(prompt_ns.load(), 0);
  const double verdict_ns =
      static_cast<double>(o.record["started_ns"].get<int64_t>()) + o.record["time_to_verdict_s"].get<double>() * 1e9;
  const double after_prompt_s = (verdict_ns - static_cast<double>(prompt_ns.load())) / 1e9;
  std::printf("verdict %.2f s after the prompt appeared on the serial console\n", after_prompt_s);
  EXPECT_GE(after_prompt_s, 0.0) << "success declared before the prompt";
  EXPECT_TRUE(Contains(o.record, "ocr_text", "login"));
}

TEST(VerifyTest, SilentHangTimesOutWithAScreenshot) {
  Outcome o = Verify("--guest hang --guests-dir " + kGuests + " --max-boot-time 25 --out " + Out("hang"));
  ASSERT_EQ(o.exit_code, 1) << o.out << o.err;
  EXPECT_EQ(o.record["verdict"], "timeout");
  EXPECT_EQ(o.record["error_category"], "boot_timeout");
  EXPECT_TRUE(fs::exists(o.record["screenshot"].get<std::string>()));
  EXPECT_GE(o.record["time_to_verdict_s"].get<double>(), 25.0);
}

// A blank disk: the firmware finds nothing to boot, the registers go quiet,
// and the screen says why. The image is not modified.
TEST(VerifyTest, BlankDiskIsNoBootableDeviceAndStaysUnmodified) {
  const std::string img = Out("blank") + ".img";
  {
    std::ofstream f(img, std::ios::binary);
    std::string block(1 << 20, '\0');
    for (size_t i = 0; i < block.size(); i += 4096) block[i] = static_cast<char>(i / 4096);
    for (int i = 0; i < 8; ++i) f.write(block.data(), static_cast<std::streamsize>(block.size()));
  }
  auto before = Sha256File(img);
  Outcome o = Verify("--disk " + img + " --max-boot-time 60 --out " + Out("blank-out"));
  auto after = Sha256File(img);
  ASSERT_TRUE(before.ok() && after.ok());
  EXPECT_EQ(*before, *after) << "verification modified the image";
  ASSERT_EQ(o.exit_code, 1) << o.out << o.err;
  EXPECT_EQ(o.record["verdict"], "failure");
  EXPECT_EQ(o.record["error_category"], "no_bootable_device") << o.record["ocr_text"];
  fs::remove(img);
}

TEST(VerifyTest, QemuKilledMidRunIsExit2WithTheReason) {
  auto spec = LoadGuestDir(kGuests + "/ok");
  ASSERT_TRUE(spec.ok());
  LaunchOptions lo;
  lo.accel = Accel::kTcg;
  auto vm = QemuGuest::Launch(*spec, lo);
  ASSERT_TRUE(vm.ok());
  const pid_t qemu = (*vm)->pid();
  std::thread killer([qemu] {
    std::this_thread::sleep_for(std::chrono::seconds(3));
    kill(qemu, SIGKILL);
  });
  Outcome o = Verify("--qmp " + (*vm)->qmp_socket() + " --out " + Out("killed"));
  killer.join();
  EXPECT_EQ(o.exit_code, 2) << o.out << o.err;
  EXPECT_EQ(o.record["verdict"], "error");
  EXPECT_TRUE(Contains(o.record, "detail", "QEMU")) << o.record.dump(2);
}

TEST(VerifyTest, CannotVerifyErrorsAreExit2) {
  Outcome missing = Verify("--disk /nonexistent/backup.img --out " + Out("missing"));
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_TRUE(Contains(missing.record, "detail", "disk image not found: /nonexistent/backup.img"))
      << missing.record.dump();

  const std::string bad_model = Out("bad") + ".model";
  std::ofstream(bad_model) << "{\"format\": \"crv-model\", \"version\": 1, \"features\": [";
  Outcome bad = Verify("--guest ok --guests-dir " + kGuests + " --model " + bad_model + " --out " + Out("badm"));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(Contains(bad.record, "detail", "bad model")) << bad.record.dump();

  Outcome refused = Verify("--qmp /nonexistent/qmp.sock --out " + Out("refused"));
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_TRUE(Contains(refused.record, "detail", "/nonexistent/qmp.sock")) << refused.record.dump();
}

}  // namespace
}  // namespace crv
