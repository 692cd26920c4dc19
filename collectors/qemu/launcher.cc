#include "collectors/qemu/launcher.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "core/clock.h"

namespace crv {
namespace fs = std::filesystem;

Result<GuestSpec> LoadGuestDir(const std::string& dir) {
  const std::string path = dir + "/guest.json";
  std::ifstream in(path);
  if (!in) {
    return NotFound("no guest description at " + path + " (build it with scripts/build-guest.sh NAME DIR)");
  }
  auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return InvalidArgument(path + ": not a JSON object");
  GuestSpec s;
  try {
    s.name = j.at("name").get<std::string>();
    s.kernel = dir + "/" + j.at("kernel").get<std::string>();
    if (j.contains("initrd") && !j["initrd"].is_null()) s.initrd = dir + "/" + j["initrd"].get<std::string>();
    s.append = j.value("append", "");
    s.vcpus = j.value("vcpus", 1);
    s.memory_mb = j.value("memory_mb", 256);
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(path + ": " + e.what());
  }
  if (s.vcpus < 1 || s.vcpus > 64) return InvalidArgument(path + ": vcpus must be 1..64");
  if (s.memory_mb < 16) return InvalidArgument(path + ": memory_mb must be at least 16");
  return s;
}

Result<std::string> DetectDiskFormat(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("disk image not found or unreadable: " + path);
  char magic[4] = {0, 0, 0, 0};
  in.read(magic, 4);
  if (magic[0] == 'Q' && magic[1] == 'F' && magic[2] == 'I' && static_cast<unsigned char>(magic[3]) == 0xfb) {
    return std::string("qcow2");
  }
  return std::string("raw");
}

Result<Accel> ParseAccel(const std::string& s) {
  if (s == "auto") return Accel::kAuto;
  if (s == "kvm") return Accel::kKvm;
  if (s == "tcg") return Accel::kTcg;
  return InvalidArgument("unknown accelerator \"" + s + "\" (expected auto, kvm or tcg)");
}

const char* AccelName(Accel a) {
  switch (a) {
    case Accel::kAuto:
      return "auto";
    case Accel::kKvm:
      return "kvm";
    case Accel::kTcg:
      return "tcg";
  }
  return "?";
}

namespace {
bool CanConnect(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}
}  // namespace

Result<std::unique_ptr<QemuGuest>> QemuGuest::Launch(const GuestSpec& spec, const LaunchOptions& options) {
  std::error_code ec;
  if (spec.kernel.empty() && spec.disk.empty()) return InvalidArgument("nothing to boot: no kernel and no disk image");
  if (!spec.kernel.empty() && !fs::exists(spec.kernel, ec)) return NotFound("guest kernel not found: " + spec.kernel);
  std::string disk_format = spec.disk_format;
  if (!spec.disk.empty()) {
    CRV_ASSIGN_OR_RETURN(std::string detected, DetectDiskFormat(spec.disk));
    if (disk_format.empty()) disk_format = detected;
    if (disk_format != "raw" && disk_format != "qcow2") {
      return InvalidArgument("disk format \"" + disk_format + "\" is not raw or qcow2");
    }
  }
  if (!spec.initrd.empty() && !fs::exists(spec.initrd, ec)) return NotFound("guest initrd not found: " + spec.initrd);

  std::unique_ptr<QemuGuest> g(new QemuGuest());
  g->keep_workdir_ = options.keep_workdir;
  if (options.workdir.empty()) {
    std::string tmpl = (getenv("TMPDIR") ? std::string(getenv("TMPDIR")) : std::string("/tmp")) + "/crv-qemu-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) return ErrnoStatus(StatusCode::kInternal, "mkdtemp " + tmpl, errno);
    g->workdir_ = tmpl;
    g->own_workdir_ = true;
  } else {
    fs::create_directories(options.workdir, ec);
    if (ec) return Internal("cannot create " + options.workdir + ": " + ec.message());
    g->workdir_ = fs::absolute(options.workdir).string();
  }
  chmod(g->workdir_.c_str(), 0700);
  g->qmp_socket_ = g->workdir_ + "/qmp.sock";
  g->serial_log_ = g->workdir_ + "/serial.log";
  g->stderr_log_ = g->workdir_ + "/qemu.stderr";
  unlink(g->qmp_socket_.c_str());

  Accel accel = options.accel;
  if (accel == Accel::kAuto) {
    std::string why;
    accel = ProbeKvm(&why) ? Accel::kKvm : Accel::kTcg;
    g->accel_note_ = accel == Accel::kKvm ? "KVM probe passed" : "TCG: " + why;
  }
  g->accel_ = accel;

  // clang-format off
  std::vector<std::string> args = {
      options.qemu_binary, "-nodefaults", "-no-user-config", "-machine", "q35",
      "-accel", AccelName(accel), "-m", std::to_string(spec.memory_mb), "-smp", std::to_string(spec.vcpus),
      "-vga", "std", "-display", "none", "-nic", "none", "-monitor", "none",
      "-serial", "file:" + g->serial_log_, "-qmp", "unix:" + g->qmp_socket_ + ",server=on,wait=off"};
  // clang-format on
  if (!spec.kernel.empty()) args.insert(args.end(), {"-kernel", spec.kernel, "-append", spec.append});
  if (!spec.disk.empty()) {
    // snapshot=on: writes go to a temporary overlay, never to the image.
    // QEMU's option syntax doubles commas inside values.
    std::string file;
    for (char c : fs::absolute(spec.disk).string()) file += c == ',' ? std::string(",,") : std::string(1, c);
    args.insert(args.end(), {"-drive", "file=" + file + ",format=" + disk_format + ",if=ide,media=disk,snapshot=on"});
    if (spec.kernel.empty()) args.insert(args.end(), {"-boot", "order=c"});
  }

  if (!spec.initrd.empty()) args.insert(args.end(), {"-initrd", spec.initrd});
  args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());

  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int err_fd = open(g->stderr_log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (err_fd < 0) return ErrnoStatus(StatusCode::kInternal, "open " + g->stderr_log_, errno);
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    close(err_fd);
    return ErrnoStatus(StatusCode::kInternal, "fork", errno);
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    umask(077);  // the QMP socket is created 0600
    int null_fd = open("/dev/null", O_RDWR);
    dup2(null_fd, 0);
    dup2(err_fd, 1);
    dup2(err_fd, 2);
    execvp(argv[0], argv.data());
    dprintf(2, "cannot execute %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  close(err_fd);
  g->pid_ = pid;

  const int64_t deadline = RealClock::Instance().MonotonicNs() + int64_t{options.startup_timeout_ms} * 1'000'000;
  for (;;) {
    if (!g->Running()) {
      return Unavailable("QEMU " + g->exit_description_ + " before its QMP socket was ready: " + g->StderrTail(600));
    }
    if (CanConnect(g->qmp_socket_)) {
      // QEMU creates the socket 0700 under our umask; only the owner needs
      // read/write, and the directory around it is 0700 anyway.
      chmod(g->qmp_socket_.c_str(), 0600);
      break;
    }
    if (RealClock::Instance().MonotonicNs() > deadline) {
      return DeadlineExceeded("QEMU's QMP socket was not ready after " + std::to_string(options.startup_timeout_ms) +
                              " ms: " + g->StderrTail(600));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return g;
}

bool QemuGuest::Running() {
  if (pid_ < 0) return false;
  int status = 0;
  const pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == 0) return true;
  if (r == pid_) {
    if (WIFEXITED(status)) {
      exit_description_ = "exited with status " + std::to_string(WEXITSTATUS(status));
    } else if (WIFSIGNALED(status)) {
      exit_description_ = std::string("was killed by signal ") + strsignal(WTERMSIG(status));
    }
  } else {
    exit_description_ = "is gone";
  }
  pid_ = -1;
  return false;
}

std::string QemuGuest::StderrTail(size_t max_bytes) const {
  std::ifstream in(stderr_log_);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  if (s.empty()) return "(no output on stderr)";
  return s.size() > max_bytes ? "..." + s.substr(s.size() - max_bytes) : s;
}

void QemuGuest::Kill() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    exit_description_ = "was killed by crv";
    pid_ = -1;
  }
}

QemuGuest::~QemuGuest() {
  Kill();
  if (own_workdir_ && !keep_workdir_) {
    std::error_code ec;
    fs::remove_all(workdir_, ec);
  }
}

}  // namespace crv
