// A child process for integration tests: `sh -c cmd` with stdout and stderr
// in files; stopped (SIGTERM, then SIGKILL) when it goes out of scope.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace crv::testing {

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class Child {
 public:
  Child(const std::string& cmd, const std::string& out, const std::string& err) : out_(out), err_(err) {
    pid_ = fork();
    if (pid_ == 0) {
      if (freopen(out.c_str(), "w", stdout) == nullptr || freopen(err.c_str(), "w", stderr) == nullptr) _exit(126);
      execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~Child() { Stop(SIGTERM); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // Sends `sig` and waits (up to 20 s, then SIGKILL). Returns the exit code,
  // 128+signal when killed by one, -1 if it was already reaped.
  int Stop(int sig) {
    if (pid_ <= 0) return exit_code_;
    kill(pid_, sig);
    for (int i = 0; i < 400; ++i) {
      if (Reap(false)) return exit_code_;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    kill(pid_, SIGKILL);
    Reap(true);
    return exit_code_;
  }
  bool Running() { return pid_ > 0 && !Reap(false); }
  std::string out() const { return ReadAll(out_); }
  std::string err() const { return ReadAll(err_); }

 private:
  bool Reap(bool block) {
    int st = 0;
    if (waitpid(pid_, &st, block ? 0 : WNOHANG) != pid_) return false;
    exit_code_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    pid_ = -1;
    return true;
  }
  pid_t pid_ = -1;
  int exit_code_ = -1;
  std::string out_, err_;
};

}  // namespace crv::testing
