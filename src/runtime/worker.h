// A worker process of `facepipe run` (docs/runtime.md, "Supervisor and workers"): the cameras of one
// device (a GPU index, or the CPU), each with its capture and pipeline threads, publishing to shared
// memory. The supervisor starts it as `facepipe worker ...`, sends it its camera list through a pipe
// (standard input) and watches the status page (worker_status.h) it keeps up to date.
//
// Command protocol on the pipe (text header, then a body): "CONFIG <generation> <bytes>\n" followed by
// a TOML configuration (format_run_config) holding exactly this worker's cameras. The worker starts
// cameras that are new, stops those that are gone, restarts those whose settings changed, and leaves
// the others alone (same threads, no gap in their frames). End of file on the pipe means the
// supervisor is gone: the worker stops, as it does on SIGTERM/SIGINT.
#pragma once

#include <string>
#include <sys/types.h>

namespace facepipe::runtime {

struct WorkerOptions {
  std::string name;        // "cpu", "gpu0", ... (log lines, process name)
  int gpu = -1;            // kCpu or the device index
  pid_t supervisor = 0;    // the worker stops when its parent is no longer this process
  int command_fd = 0;      // the pipe from the supervisor
  int status_fd = 3;       // the status page (kWorkerStatusFd)
};

// Exit codes of a worker process (the supervisor tells them apart).
inline constexpr int kWorkerExitStopped = 0;
inline constexpr int kWorkerExitFailure = 1;        // a runtime failure
inline constexpr int kWorkerExitNothingStarted = 2;  // its first camera list could not start at all

// Runs until stopped; returns the process exit code.
int run_worker(const WorkerOptions& options);

}  // namespace facepipe::runtime
