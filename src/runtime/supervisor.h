// `facepipe run`: the supervisor process (docs/runtime.md, "Supervisor and workers").
//
// It groups the cameras by device (placement.h), starts one worker process per group
// (`facepipe worker`, a fresh exec of this binary: never a fork of a process with threads), hands
// each its camera list, and watches them: a worker that exits, or whose heartbeat (main loop tick,
// or a frame in flight) is older than the limit, is killed if need be, its segments unlinked, and
// it is started again at once, with a capped exponential backoff if it keeps failing. SIGHUP
// re-reads the configuration and changes only what changed; SIGINT/SIGTERM stop everything. The
// metrics endpoint is served here, from the workers' status pages.
#pragma once

#include <functional>
#include <string>

#include "runtime/config.h"

namespace facepipe::runtime {

// Exit codes of `facepipe run` (documented in docs/runtime.md).
inline constexpr int kExitStopped = 0;      // stopped by SIGINT/SIGTERM or --seconds
inline constexpr int kExitFailure = 1;      // runtime failure (a worker could not be started, ...)
inline constexpr int kExitConfigError = 2;  // bad configuration, missing file, nothing could start

struct SupervisorOptions {
  // Loads the configuration (the file plus command-line overrides); called at start and on every
  // SIGHUP. Throws facepipe::Error with a FILE:LINE message.
  std::function<RunConfig()> load_config;
  bool reloadable = true;       // false: the built-in configuration (SIGHUP only logs)
  double seconds = 0;           // stop after this long (0: until a signal)
  std::string executable = "/proc/self/exe";
};

// Throws facepipe::Error when a camera's file or folder does not exist (names the camera).
void check_sources(const RunConfig& config);

// Runs until stopped; returns one of the exit codes above. Start-up errors are reported on stderr.
int run_supervisor(const SupervisorOptions& options);

}  // namespace facepipe::runtime
