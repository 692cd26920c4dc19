// The collector conformance suite: every backend behind RegisterSource passes
// the same checks, on a real VM where the backend can run here.
//   qmp      a TCG QEMU guest launched by crv (ok-smp, 2 vCPUs)
//   libvirt  the same guest as a libvirt domain on a real libvirtd
//   replay   a recorded boot of ok-smp (the profiles fixture)
//   xen      a domain of this host, when crv runs in a Xen dom0 (otherwise
//            skipped, with the reason the backend gives)
// Checks: frame fields present and sane, all vCPUs present, sequence numbers
// monotonic through the sampler, a clean error when the VM disappears.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "collectors/libvirt/libvirt_source.h"
#include "collectors/qemu/launcher.h"
#include "collectors/qemu/qmp_register_source.h"
#include "collectors/replay/replay_source.h"
#include "collectors/sampler.h"
#include "collectors/xen/xen_source.h"
#include "core/clock.h"

namespace crv {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string kGuest = std::string(CRV_GUESTS_DIR_DEFAULT) + "/ok-smp";

// One backend with one VM under test.
class Backend {
 public:
  virtual ~Backend() = default;
  // Starts (or finds) the VM; a non-ok status with code kUnavailable from a
  // backend that cannot run on this host skips the suite for it.
  virtual Status Start() = 0;
  virtual RegisterSource& source() = 0;
  virtual int vcpus() const = 0;
  // Makes the VM disappear.
  virtual void Kill() = 0;
  // Whether frames come from a live boot (a replay does not wait).
  virtual bool live() const { return true; }
};

class QmpBackend : public Backend {
 public:
  Status Start() override {
    CRV_ASSIGN_OR_RETURN(GuestSpec spec, LoadGuestDir(kGuest));
    LaunchOptions lo;
    lo.accel = Accel::kTcg;
    CRV_ASSIGN_OR_RETURN(guest_, QemuGuest::Launch(spec, lo));
    CRV_ASSIGN_OR_RETURN(auto client, QmpClient::Connect(guest_->qmp_socket()));
    source_ = std::make_unique<QmpRegisterSource>(std::move(client), "ok-smp");
    return Status::Ok();
  }
  RegisterSource& source() override { return *source_; }
  int vcpus() const override { return 2; }
  void Kill() override { guest_->Kill(); }

 private:
  std::unique_ptr<QemuGuest> guest_;
  std::unique_ptr<QmpRegisterSource> source_;
};

class LibvirtBackend : public Backend {
 public:
  ~LibvirtBackend() override {
    Kill();
    fs::remove_all(dir_);
  }
  Status Start() override {
    // libvirt runs QEMU as its own user: the kernel and initrd go where that
    // user may read them.
    dir_ = "/var/lib/libvirt/images/" + name_;
    fs::create_directories(dir_);
    fs::copy_file(kGuest + "/vmlinuz", dir_ + "/vmlinuz", fs::copy_options::overwrite_existing);
    fs::copy_file(kGuest + "/initrd.img", dir_ + "/initrd.img", fs::copy_options::overwrite_existing);
    std::ofstream(dir_ + "/domain.xml")
        << "<domain type='qemu'><name>" << name_ << "</name><memory unit='MiB'>512</memory><vcpu>2</vcpu>"
        << "<os><type arch='x86_64' machine='pc'>hvm</type><kernel>" << dir_ << "/vmlinuz</kernel><initrd>" << dir_
        << "/initrd.img</initrd><cmdline>console=ttyS0 console=tty0 quiet loglevel=3 panic=0</cmdline></os>"
        << "<on_poweroff>destroy</on_poweroff><on_crash>destroy</on_crash><devices>"
        << "<emulator>/usr/bin/qemu-system-x86_64</emulator><serial type='pty'/>"
        << "<video><model type='vga'/></video><graphics type='vnc' listen='127.0.0.1' autoport='yes'/>"
        << "</devices></domain>";
    CRV_ASSIGN_OR_RETURN(conn_, LibvirtConnection::Open("qemu:///system"));
    const std::string cmd = "virsh -q -c qemu:///system create " + dir_ + "/domain.xml >" + dir_ + "/virsh.log 2>&1";
    if (std::system(cmd.c_str()) != 0) {
      std::ifstream log(dir_ + "/virsh.log");
      std::stringstream ss;
      ss << log.rdbuf();
      return Internal("virsh create failed: " + ss.str());
    }
    created_ = true;
    auto domains = conn_->ListDomains();
    if (!domains.ok()) return domains.status();
    bool listed = false;
    for (const auto& d : *domains) listed |= d.name == name_ && d.running && d.vcpus == 2;
    if (!listed) return Internal("domain " + name_ + " is not listed as running with 2 vCPUs");
    CRV_ASSIGN_OR_RETURN(source_, conn_->Attach(name_));
    return Status::Ok();
  }
  RegisterSource& source() override { return *source_; }
  int vcpus() const override { return 2; }
  void Kill() override {
    if (!created_) return;
    std::system(("virsh -q -c qemu:///system destroy " + name_ + " >/dev/null 2>&1").c_str());
    created_ = false;
  }
  LibvirtRegisterSource& libvirt() { return *source_; }

 private:
  std::string name_ = "crv-conformance-" + std::to_string(getpid());
  std::string dir_;
  bool created_ = false;
  std::shared_ptr<LibvirtConnection> conn_;
  std::unique_ptr<LibvirtRegisterSource> source_;
};

class ReplayBackend : public Backend {
 public:
  Status Start() override {
    CRV_ASSIGN_OR_RETURN(source_, ReplaySource::Open(std::string(CRV_PROFILES_DIR_DEFAULT) + "/ok-smp/frames.crvf"));
    return Status::Ok();
  }
  RegisterSource& source() override { return *source_; }
  int vcpus() const override { return 2; }
  // A replay's VM disappears when its file ends: read to the end.
  void Kill() override {
    for (;;) {
      auto snap = source_->Snapshot();
      if (!snap.ok() && snap.status().code() != StatusCode::kInvalidArgument) return;
    }
  }
  bool live() const override { return false; }

 private:
  std::unique_ptr<ReplaySource> source_;
};

class XenBackend : public Backend {
 public:
  Status Start() override {
    CRV_ASSIGN_OR_RETURN(host_, XenHost::Open());
    CRV_ASSIGN_OR_RETURN(auto domains, host_->ListDomains());
    for (const auto& d : domains) {
      if (d.domid != 0 && d.running && !d.dying) {
        vcpus_ = d.vcpus;
        CRV_ASSIGN_OR_RETURN(source_, host_->Attach(std::to_string(d.domid)));
        return Status::Ok();
      }
    }
    return Unavailable("Xen host has no running guest domain to test with");
  }
  RegisterSource& source() override { return *source_; }
  int vcpus() const override { return vcpus_; }
  void Kill() override {}  // never destroys a domain it did not create

 private:
  std::shared_ptr<XenHost> host_;
  std::unique_ptr<XenRegisterSource> source_;
  int vcpus_ = 0;
};

std::unique_ptr<Backend> Make(const std::string& name) {
  if (name == "qmp") return std::make_unique<QmpBackend>();
  if (name == "libvirt") return std::make_unique<LibvirtBackend>();
  if (name == "replay") return std::make_unique<ReplayBackend>();
  return std::make_unique<XenBackend>();
}

// Every vCPU has left firmware: protected mode, paging, long mode.
bool AllInLongMode(const std::vector<RegisterFrame>& frames) {
  for (const auto& f : frames) {
    if ((f.regs[kCr0] & kCr0Pg) == 0 || (f.regs[kEfer] & kEferLma) == 0) return false;
  }
  return !frames.empty();
}

class CollectorConformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    backend_ = Make(GetParam());
    Status s = backend_->Start();
    if (!s.ok() && GetParam() == "xen" && s.code() == StatusCode::kUnavailable) GTEST_SKIP() << s.message();
    ASSERT_TRUE(s.ok()) << s.message();
  }
  std::unique_ptr<Backend> backend_;
};

TEST_P(CollectorConformance, FramesSaneAllVcpusMonotonicAndCleanEnd) {
  RegisterSource& src = backend_->source();
  EXPECT_FALSE(src.vm_id().empty());

  // 1. Wait for the kernel (a replay reads through its boot).
  std::vector<RegisterFrame> frames;
  const auto deadline = std::chrono::steady_clock::now() + 90s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto snap = src.Snapshot();
    ASSERT_TRUE(snap.ok()) << snap.status().message();
    frames = std::move(*snap);
    if (AllInLongMode(frames)) break;
    if (backend_->live()) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(AllInLongMode(frames)) << "the guest never reached long mode on every vCPU";

  // 2. Fields present and sane, every vCPU once.
  ASSERT_EQ(frames.size(), static_cast<size_t>(backend_->vcpus()));
  std::set<int> ids;
  for (const auto& f : frames) {
    SCOPED_TRACE("vCPU " + std::to_string(f.vcpu));
    ids.insert(f.vcpu);
    EXPECT_NE(f.regs[kRip], 0u);
    EXPECT_NE(f.regs[kRflags] & 0x2, 0u) << "RFLAGS bit 1 is always set";
    EXPECT_NE(f.regs[kCr0] & kCr0Pe, 0u);
    EXPECT_NE(f.regs[kCr3], 0u);
    EXPECT_NE(f.regs[kCr4], 0u);
    EXPECT_NE(f.regs[kCs], 0u);
    EXPECT_TRUE(f.cpl == 0 || f.cpl == 3) << int(f.cpl);
    EXPECT_EQ(f.cpl, f.regs[kCs] & 3) << "CPL matches the CS selector's RPL";
  }
  EXPECT_EQ(ids.size(), frames.size());
  EXPECT_EQ(*ids.begin(), 0);
  EXPECT_EQ(*ids.rbegin(), backend_->vcpus() - 1);

  // 3. Through the sampler: seq monotonic per vCPU, every tick complete.
  std::map<uint64_t, int> per_tick;
  std::map<int, uint64_t> last_seq;
  int64_t last_ts = 0;
  bool monotonic = true;
  Sampler sampler(src, RealClock::Instance(), SamplerConfig{20, 20}, [&](std::vector<RegisterFrame>&& tick) {
    for (const auto& f : tick) {
      if (last_seq.count(f.vcpu) && f.seq <= last_seq[f.vcpu]) monotonic = false;
      if (f.timestamp_ns < last_ts) monotonic = false;
      last_seq[f.vcpu] = f.seq;
      last_ts = f.timestamp_ns;
      ++per_tick[f.seq];
    }
    return Status::Ok();
  });
  Status run = sampler.Run();
  ASSERT_TRUE(run.ok()) << run.message();
  EXPECT_TRUE(monotonic);
  EXPECT_GE(per_tick.size(), 15u) << "ticks sampled of 20";
  for (const auto& [seq, n] : per_tick) EXPECT_EQ(n, backend_->vcpus()) << "tick " << seq;

  // 4. The VM disappears: a clean kUnavailable/kNotFound naming it, quickly.
  if (GetParam() == "xen") return;  // never destroys a domain it did not create
  backend_->Kill();
  Status gone = Status::Ok();
  for (int i = 0; i < 50 && gone.ok(); ++i) {
    auto snap = src.Snapshot();
    if (!snap.ok()) gone = snap.status();
    if (gone.ok()) std::this_thread::sleep_for(100ms);
  }
  ASSERT_FALSE(gone.ok()) << "snapshots still succeed after the VM was killed";
  EXPECT_TRUE(gone.code() == StatusCode::kUnavailable || gone.code() == StatusCode::kNotFound) << gone.message();
  EXPECT_FALSE(gone.message().empty());
  // And the sampler ends with that error instead of spinning.
  Sampler after(src, RealClock::Instance(), SamplerConfig{20, 100}, [](auto&&) { return Status::Ok(); });
  EXPECT_FALSE(after.Run().ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, CollectorConformance, ::testing::Values("qmp", "libvirt", "replay", "xen"),
                         [](const auto& info) { return info.param; });

// libvirt's screenshot call returns the display as PNG.
TEST(LibvirtCollector, ScreenshotIsPng) {
  LibvirtBackend b;
  ASSERT_TRUE(b.Start().ok());
  const std::string path = ::testing::TempDir() + "/libvirt-shot-" + std::to_string(getpid()) + ".png";
  auto type = b.libvirt().Screenshot(path);
  ASSERT_TRUE(type.ok()) << type.status().message();
  EXPECT_EQ(*type, "image/png");
  std::ifstream in(path, std::ios::binary);
  char magic[8] = {};
  in.read(magic, 8);
  EXPECT_EQ(std::string(magic + 1, 3), "PNG");
  EXPECT_GT(fs::file_size(path), 1000u);
}

TEST(LibvirtCollector, UnknownDomainAndBadUriAreClearErrors) {
  auto conn = LibvirtConnection::Open("qemu:///system");
  ASSERT_TRUE(conn.ok()) << conn.status().message();
  auto s = (*conn)->Attach("no-such-domain-crv");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kNotFound);
  EXPECT_NE(s.status().message().find("no-such-domain-crv"), std::string::npos);
  auto bad = LibvirtConnection::Open("test+unix:///nonexistent?socket=/nonexistent/sock");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("cannot connect to libvirt"), std::string::npos);
}

}  // namespace
}  // namespace crv
