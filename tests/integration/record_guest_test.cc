// Real guests under QEMU (TCG): record each fixture's boot at 50 Hz and check
// what the registers say against what the serial console says.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "collectors/qemu/launcher.h"
#include "collectors/qemu/qmp_register_source.h"
#include "collectors/sampler.h"
#include "operators/entropy_graph.h"

namespace crv {
namespace {

std::string GuestsDir() {
  const char* d = getenv("CRV_GUESTS_DIR");
  return d ? d : CRV_GUESTS_DIR_DEFAULT;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Boots a fixture guest under TCG.
Result<std::unique_ptr<QemuGuest>> LaunchTcg(const std::string& guest) {
  CRV_ASSIGN_OR_RETURN(GuestSpec spec, LoadGuestDir(GuestsDir() + "/" + guest));
  LaunchOptions lo;
  lo.accel = Accel::kTcg;
  return QemuGuest::Launch(spec, lo);
}

struct Recording {
  uint64_t ticks_scheduled = 0;
  std::vector<std::vector<RegisterFrame>> ticks;
  std::vector<FeatureVector> windows;
  int64_t marker_wall_ns = -1;  // when `marker` first appeared on the serial console
  std::string serial;
  Status run_status;
  SamplerStats* stats = nullptr;
  uint64_t missed = 0;
};

// Boots `guest`, samples it at `hz` for `seconds`, watches the serial log for
// `marker`, then runs the frames through the entropy graph (25-tick windows).
Recording Record(const std::string& guest, double seconds, const std::string& marker, double hz = 50) {
  Recording rec;
  auto vm = LaunchTcg(guest);
  EXPECT_TRUE(vm.ok()) << vm.status().ToString();
  if (!vm.ok()) return rec;
  auto client = QmpClient::Connect((*vm)->qmp_socket());
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  if (!client.ok()) return rec;
  QmpRegisterSource source(std::move(*client), guest);
  std::vector<std::vector<uint8_t>> batches;
  BatchEncoder enc;
  rec.ticks_scheduled = static_cast<uint64_t>(seconds * hz);
  Sampler sampler(source, RealClock::Instance(), SamplerConfig{hz, rec.ticks_scheduled},
                  [&](std::vector<RegisterFrame>&& frames) {
                    auto b = enc.Encode(guest, "test", frames);
                    batches.emplace_back(b.begin(), b.end());
                    rec.ticks.push_back(std::move(frames));
                    return Status::Ok();
                  });
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    while (!done.load()) {
      if (rec.marker_wall_ns < 0 && ReadFile((*vm)->serial_log()).find(marker) != std::string::npos) {
        rec.marker_wall_ns = RealClock::Instance().WallNs();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  rec.run_status = sampler.Run();
  done.store(true);
  watcher.join();
  rec.missed = sampler.stats().ticks_missed;
  rec.serial = ReadFile((*vm)->serial_log());
  size_t i = 0;
  EntropyGraph graph(EntropyGraphConfig{{25, 25}, 16}, [&](const FrameBatch&, std::vector<FeatureVector>& w) {
    rec.windows.insert(rec.windows.end(), w.begin(), w.end());
  });
  graph.Run([&]() -> std::optional<std::vector<uint8_t>> {
    if (i == batches.size()) return std::nullopt;
    return batches[i++];
  });
  EXPECT_EQ(graph.stats().invalid_batches, 0u);
  return rec;
}

void ExpectFramesComplete(const Recording& rec) {
  ASSERT_TRUE(rec.run_status.ok()) << rec.run_status.ToString();
  // At least 95% of the ticks produced a frame per vCPU with the registers the
  // classifier needs (the parser refuses a CPU without RIP, RSP, RFLAGS, CR3).
  size_t good = 0;
  for (const auto& t : rec.ticks) {
    bool ok = !t.empty();
    for (const auto& f : t) ok = ok && (f.regs[kRflags] & 0x2);  // bit 1 of RFLAGS is always set
    good += ok;
  }
  EXPECT_GE(good * 100, rec.ticks_scheduled * 95)
      << good << " of " << rec.ticks_scheduled << " ticks (" << rec.missed << " missed)";
}

TEST(RecordGuestTest, OkGuestBootsToAQuietPrompt) {
  Recording rec = Record("ok", 20, "login:");
  ExpectFramesComplete(rec);
  ASSERT_GT(rec.marker_wall_ns, 0) << "no login prompt on the serial console:\n" << rec.serial;
  double boot_max = 0;
  int after = 0, exactly_zero = 0;
  for (const auto& w : rec.windows) {
    if (w.end_ns < rec.marker_wall_ns) boot_max = std::max(boot_max, w.entropy[kRip]);
    if (w.start_ns > rec.marker_wall_ns) {
      ++after;
      exactly_zero += w.entropy[kRip] == 0.0;
      // An idle guest sits on its HLT instruction. Now and then a sample
      // lands in a timer interrupt handler: one stray value in a 25-sample
      // window is 0.24 bit, two are 0.40 bit. Boot windows are 2-4.5 bits.
      EXPECT_LT(w.entropy[kRip], 0.5) << "window " << w.window_index << " starts "
                                      << (w.start_ns - rec.marker_wall_ns) / 1e6 << " ms after the prompt";
      EXPECT_GE(w.derived[kHaltedShare], 0.9);  // idle at the prompt: halted
      EXPECT_GE(w.derived[kIfShare], 0.9);      // ... with interrupts on
    }
  }
  EXPECT_GT(boot_max, 1.0) << "RIP entropy never rose above 1 bit during boot";
  // Under load (another JVM or a build on the 2 cores) TCG takes more timer
  // interrupts per sample: 15 of 23 windows were exactly 0 in one such run.
  EXPECT_GE(exactly_zero * 2, after) << "most windows at the prompt should have RIP entropy exactly 0";
  EXPECT_GE(after, 4) << "too few windows after the prompt to judge";
}

TEST(RecordGuestTest, PanicGuestSpinsInThePanicLoop) {
  Recording rec = Record("panic", 20, "Kernel panic - not syncing");
  ExpectFramesComplete(rec);
  ASSERT_GT(rec.marker_wall_ns, 0) << "no kernel panic on the serial console:\n" << rec.serial;
  double boot_max = 0;
  int after = 0;
  for (const auto& w : rec.windows) {
    if (w.end_ns < rec.marker_wall_ns) boot_max = std::max(boot_max, w.entropy[kRip]);
    // Give the panic path a second to print its trace and enter the loop.
    if (w.start_ns > rec.marker_wall_ns + 1'000'000'000) {
      ++after;
      EXPECT_EQ(w.derived[kHaltedShare], 0.0) << "a panic loop busy-waits, it does not halt";
      EXPECT_GT(w.entropy[kRax], 4.0) << "the delay counter in RAX should be at maximum entropy";
      EXPECT_LT(w.entropy[kRip], 1.5) << "RIP stays nearly still in the loop";
    }
  }
  EXPECT_GT(boot_max, 1.0);
  EXPECT_GE(after, 4);
}

TEST(RecordGuestTest, TwoVcpusGiveTwoFramesPerTick) {
  Recording rec = Record("ok-smp", 4, "login:");
  ExpectFramesComplete(rec);
  for (const auto& t : rec.ticks) {
    ASSERT_EQ(t.size(), 2u);
    EXPECT_EQ(t[0].vcpu, 0);
    EXPECT_EQ(t[1].vcpu, 1);
    EXPECT_EQ(t[0].seq, t[1].seq);
    EXPECT_EQ(t[0].timestamp_ns, t[1].timestamp_ns);
  }
  ASSERT_FALSE(rec.windows.empty());
  EXPECT_EQ(rec.windows.back().vcpus, 2u);
}

TEST(RecordGuestTest, QemuKilledMidRunEndsSamplingWithTheReason) {
  auto vm = LaunchTcg("ok");
  ASSERT_TRUE(vm.ok()) << vm.status().ToString();
  auto client = QmpClient::Connect((*vm)->qmp_socket());
  ASSERT_TRUE(client.ok());
  QmpRegisterSource source(std::move(*client), "ok");
  int n = 0;
  Sampler sampler(source, RealClock::Instance(), SamplerConfig{50, 0}, [&](std::vector<RegisterFrame>&&) {
    if (++n == 20) kill((*vm)->pid(), SIGKILL);
    return Status::Ok();
  });
  Status s = sampler.Run();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("did QEMU exit?"), std::string::npos) << s.message();
  EXPECT_FALSE((*vm)->Running());
  EXPECT_NE((*vm)->exit_description().find("Killed"), std::string::npos) << (*vm)->exit_description();
}

TEST(LauncherTest, QmpSocketIsPrivateAndThereIsNoNetwork) {
  auto vm = LaunchTcg("ok");
  ASSERT_TRUE(vm.ok()) << vm.status().ToString();
  struct stat st {};
  ASSERT_EQ(stat((*vm)->qmp_socket().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat((*vm)->workdir().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  auto client = QmpClient::Connect((*vm)->qmp_socket());
  ASSERT_TRUE(client.ok());
  auto pci = (*client)->HumanMonitorCommand("info network");
  ASSERT_TRUE(pci.ok());
  EXPECT_EQ(pci->find("net"), std::string::npos) << *pci;
}

TEST(LauncherTest, MissingBinaryAndKernelAreClearErrors) {
  GuestSpec spec;
  spec.kernel = "/nonexistent/vmlinuz";
  auto r = QemuGuest::Launch(spec, LaunchOptions{});
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("/nonexistent/vmlinuz"), std::string::npos);

  auto ok = LoadGuestDir(GuestsDir() + "/ok");
  ASSERT_TRUE(ok.ok());
  LaunchOptions lo;
  lo.accel = Accel::kTcg;
  lo.qemu_binary = "qemu-system-nonexistent";
  r = QemuGuest::Launch(*ok, lo);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("cannot execute qemu-system-nonexistent"), std::string::npos)
      << r.status().message();
}

// The command line end to end: record a few seconds, replay with --json.
TEST(CliTest, RecordThenReplayJson) {
  const std::string out = ::testing::TempDir() + "/cli-" + std::to_string(getpid()) + ".crvf";
  const std::string record = std::string(CRV_BINARY) + " record --guest ok --guests-dir " + GuestsDir() +
                             " --accel tcg --seconds 3 --hz 50 -q --json -o " + out;
  FILE* p = popen(record.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string text;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof(buf), p)) text.append(buf, n);
  ASSERT_EQ(pclose(p), 0) << text;
  auto summary = nlohmann::json::parse(text);
  EXPECT_EQ(summary["ticks_scheduled"], 150);
  EXPECT_GE(summary["ticks_sampled"].get<int>(), 143);
  EXPECT_EQ(summary["records"], summary["ticks_sampled"]);

  p = popen((std::string(CRV_BINARY) + " replay --entropy --json --window 25 " + out).c_str(), "r");
  text.clear();
  while (size_t n = fread(buf, 1, sizeof(buf), p)) text.append(buf, n);
  ASSERT_EQ(pclose(p), 0);
  auto replay = nlohmann::json::parse(text);
  EXPECT_EQ(replay["stats"]["frames"], summary["frames"]);
  EXPECT_EQ(replay["windows"].size(), summary["ticks_sampled"].get<size_t>() / 25);
  EXPECT_TRUE(replay["windows"][0]["entropy"].contains("rip"));
  std::remove(out.c_str());
}

}  // namespace
}  // namespace crv
