// facepipe run [--config FILE] [--instance I] [--seconds S] [--models DIR]
// The live runtime: every camera of the configuration (or the bundled sample video as camera
// "cam0", looping at its frame rate) captured, tracked and published to shared memory until
// SIGINT/SIGTERM (or --seconds). docs/runtime.md has the design.
#include <signal.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstring>

#include "apps/facepipe/cli_common.h"
#include "common/status.h"
#include "ipc/segment_name.h"
#include "runtime/config.h"
#include "runtime/runtime.h"

namespace facepipe::cli {
namespace {

struct RunOptions {
  std::string config_file;
  std::string instance;
  double seconds = 0;
  ModelOptions models;
  int metrics_port = -1;
};

runtime::RunConfig default_config() {
  runtime::RunConfig config;
  config.origin = "<built-in sample configuration>";
  runtime::CameraConfig camera;
  camera.id = "cam0";
  camera.name = "sample video";
  camera.source = sample_video();
  config.cameras.push_back(camera);
  return config;
}

void run_command(const RunOptions& o) {
  // Block the stop signals in every thread before any is started; the main thread then takes them
  // synchronously with sigtimedwait (no async-signal-safety concerns, no lost wake-ups).
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  runtime::RunConfig config = o.config_file.empty() ? default_config() : runtime::load_run_config(o.config_file);
  if (!o.instance.empty()) {
    if (!ipc::is_valid_name_part(o.instance))
      throw Error("--instance '" + o.instance + "': must be 1..48 characters of [A-Za-z0-9_-]");
    config.instance = o.instance;
  }
  if (!o.models.models_dir.empty()) config.gpu.models_dir = o.models.models_dir;
  if (o.metrics_port >= 0) config.metrics_port = o.metrics_port;

  for (const auto& c : config.cameras)
    if (c.gpu >= 0)
      std::fprintf(stderr, "facepipe run: note: camera '%s': gpu = %d requested; GPU workers are not implemented yet, it runs on the CPU\n",
                   c.id.c_str(), c.gpu);
  std::fprintf(stderr, "facepipe run: instance '%s', %zu camera(s) from %s\n", config.instance.c_str(),
               config.cameras.size(), config.origin.c_str());
  runtime::Runtime rt(config);
  rt.start();
  if (rt.metrics_port()) std::fprintf(stderr, "facepipe run: metrics at http://127.0.0.1:%d/metrics\n", rt.metrics_port());
  for (const auto& c : rt.cameras())
    std::fprintf(stderr, "facepipe run: camera '%s' -> /facepipe.%s.%s (%s)\n", c->config().id.c_str(),
                 config.instance.c_str(), c->config().id.c_str(), c->config().source.c_str());
  std::fflush(stderr);

  const auto started = std::chrono::steady_clock::now();
  int signal_number = 0;
  for (;;) {
    const timespec tick{0, 100'000'000};
    const int s = sigtimedwait(&stop_signals, nullptr, &tick);
    if (s > 0) {
      signal_number = s;
      break;
    }
    const std::string changes = rt.state_changes();
    if (!changes.empty()) {
      std::fprintf(stderr, "%s", changes.c_str());
      std::fflush(stderr);
    }
    if (o.seconds > 0 && std::chrono::steady_clock::now() - started >= std::chrono::duration<double>(o.seconds)) break;
  }
  const auto stop_begin = std::chrono::steady_clock::now();
  rt.stop();
  const double stop_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - stop_begin).count();
  for (const auto& c : rt.cameras()) {
    const auto ring = c->ring_counters();
    std::fprintf(stderr, "facepipe run: camera '%s': %llu frames published, %llu faces, %llu dropped, %llu reconnects\n",
                 c->config().id.c_str(), static_cast<unsigned long long>(c->pipeline_stats().frames.load()),
                 static_cast<unsigned long long>(c->pipeline_stats().faces.load()),
                 static_cast<unsigned long long>(ring.dropped),
                 static_cast<unsigned long long>(c->capture().stats().reconnects.load()));
  }
  std::fprintf(stderr, "facepipe run: stopped (%s) in %.0f ms\n", signal_number ? strsignal(signal_number) : "time limit",
               stop_ms);
}

}  // namespace

void register_run_commands(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand("run", "Run cameras live: capture, track faces, publish to shared memory");
  cmd->add_option("--config", o->config_file, "TOML configuration (default: the bundled sample video as camera cam0)");
  cmd->add_option("--instance", o->instance, "Instance name (overrides the configuration's)");
  cmd->add_option("--seconds", o->seconds, "Stop after this many seconds (default: until SIGINT/SIGTERM)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--metrics-port", o->metrics_port, "Metrics port on 127.0.0.1 (overrides the configuration; 0: off)")
      ->check(CLI::Range(0, 65535));
  add_model_options(*cmd, o->models);
  cmd->callback([o] { run_command(*o); });
}

}  // namespace facepipe::cli
