// Child processes and shared-memory cleanup for the IPC and viewer tests. Every child is killed
// (SIGKILL) and every segment of the test's instance unlinked when the guard goes out of scope, so a
// failing assertion leaves nothing running and nothing in /dev/shm.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "ipc/segment_name.h"
#include "ipc/test_instance.h"

extern char** environ;

namespace facepipe::test {

inline std::string facepipe_binary() { return std::string(FACEPIPE_BINARY_DIR) + "/bin/facepipe"; }

// Polls `condition` every 5 ms until it holds or `timeout` passes.
inline bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}

class ChildProcesses {
 public:
  explicit ChildProcesses(std::string instance) : instance_(std::move(instance)), cleanup_(instance_) {}
  ChildProcesses(const ChildProcesses&) = delete;
  ChildProcesses& operator=(const ChildProcesses&) = delete;
  ~ChildProcesses() {
    while (!pids_.empty()) kill_and_reap(pids_.back(), SIGKILL);
  }  // then cleanup_ unlinks the instance's segments

  // Starts argv[0] with argv; `env` entries ("K=V") are added to the environment; stdout/stderr go
  // to `log_file` when given.
  pid_t spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env = {},
              const std::string& log_file = {}) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
    for (const auto& e : env) env_strings.push_back(e);
    std::vector<char*> envp;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (!log_file.empty()) {
      posix_spawn_file_actions_addopen(&actions, 1, log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      posix_spawn_file_actions_adddup2(&actions, 1, 2);
    }
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return -1;
    pids_.push_back(pid);
    return pid;
  }
  // Forks and runs `body` in the child (which exits with its return value).
  pid_t fork_run(const std::function<int()>& body) {
    const pid_t pid = ::fork();
    if (pid == 0) ::_exit(body());
    if (pid > 0) pids_.push_back(pid);
    return pid;
  }

  // A still-running child?
  static bool alive(pid_t pid) {
    int status = 0;
    return ::waitpid(pid, &status, WNOHANG) == 0;
  }
  // Sends `sig` and reaps; returns the wait status, or -1 when it did not end within `timeout`
  // (then it is SIGKILLed).
  int kill_and_reap(pid_t pid, int sig, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    forget(pid);
    ::kill(pid, sig);
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      const pid_t r = ::waitpid(pid, &status, WNOHANG);
      if (r == pid) return status;
      if (r < 0) return -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return -1;
  }
  // Waits for a child to exit by itself; -1 on timeout (then it is killed).
  int wait_exit(pid_t pid, std::chrono::milliseconds timeout) {
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        forget(pid);
        return status;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    kill_and_reap(pid, SIGKILL);
    return -1;
  }

  const std::string& instance() const { return instance_; }

 private:
  void forget(pid_t pid) { std::erase(pids_, pid); }
  std::string instance_;
  SegmentCleanup cleanup_;
  std::vector<pid_t> pids_;
};

}  // namespace facepipe::test
