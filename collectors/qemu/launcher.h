// QemuGuest: starts a test or demo guest under QEMU and owns the process.
//
// Contract: Launch() starts qemu-system-x86_64 with no network device, no
// default devices, a standard VGA display (for screenshots), the serial
// console written to a file, and a QMP socket in a private directory (mode
// 0700, socket 0600). It returns once the QMP socket accepts connections, or
// fails with the reason (binary missing, QEMU exited: its stderr's last lines).
// KVM is used only when requested or when `accel=auto` and the probe passes.
// The destructor kills QEMU (SIGKILL) and removes the private directory
// unless keep_workdir is set. QEMU is also killed if this process dies.
// Thread-safety: one owner.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace crv {

// A bootable guest: kernel (+ initrd + command line) and/or a disk image.
struct GuestSpec {
  std::string name;
  std::string kernel;
  std::string initrd;  // empty: none
  std::string append;
  // A disk image attached as the first disk (IDE/AHCI, so guests without
  // virtio drivers see it), always opened with snapshot=on: the guest's
  // writes go to a temporary overlay and the image is never modified.
  std::string disk;
  std::string disk_format;  // raw or qcow2; empty: detected from the file
  int vcpus = 1;
  int memory_mb = 256;
};

// "raw" or "qcow2", from the file's first bytes.
Result<std::string> DetectDiskFormat(const std::string& path);

// Reads DIR/guest.json as written by scripts/build-guest.sh.
Result<GuestSpec> LoadGuestDir(const std::string& dir);

enum class Accel { kAuto, kKvm, kTcg };
Result<Accel> ParseAccel(const std::string& s);
const char* AccelName(Accel a);

struct LaunchOptions {
  Accel accel = Accel::kAuto;
  std::string qemu_binary = "qemu-system-x86_64";
  // Directory for the QMP socket, serial log and QEMU's stderr; empty: a new
  // private directory under $TMPDIR.
  std::string workdir;
  bool keep_workdir = false;
  std::vector<std::string> extra_args;
  int startup_timeout_ms = 10000;
};

class QemuGuest {
 public:
  static Result<std::unique_ptr<QemuGuest>> Launch(const GuestSpec& spec, const LaunchOptions& options);
  ~QemuGuest();
  QemuGuest(const QemuGuest&) = delete;
  QemuGuest& operator=(const QemuGuest&) = delete;

  const std::string& qmp_socket() const { return qmp_socket_; }
  const std::string& serial_log() const { return serial_log_; }
  const std::string& workdir() const { return workdir_; }
  pid_t pid() const { return pid_; }
  Accel accel() const { return accel_; }
  // With Accel::kAuto: why this accelerator was chosen.
  const std::string& accel_note() const { return accel_note_; }
  // True while QEMU runs; once it exited, `exit_description()` says how.
  bool Running();
  std::string exit_description() const { return exit_description_; }
  // Last lines QEMU wrote to stderr.
  std::string StderrTail(size_t max_bytes = 2000) const;
  void Kill();

 private:
  QemuGuest() = default;
  pid_t pid_ = -1;
  Accel accel_ = Accel::kTcg;
  std::string workdir_, qmp_socket_, serial_log_, stderr_log_;
  bool own_workdir_ = false;
  bool keep_workdir_ = false;
  std::string exit_description_;
  std::string accel_note_;
};

// True when this host is not itself a VM and /dev/kvm can create a VM and
// run a vCPU to a HLT instruction. `why` (optional) says why not.
bool ProbeKvm(std::string* why = nullptr);

}  // namespace crv
