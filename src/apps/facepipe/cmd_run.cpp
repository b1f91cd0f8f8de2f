// facepipe run [--config FILE] [--instance I] [--seconds S] [--models DIR] [--metrics-port P] [--set section.key=value]...
// The live runtime: a supervisor that runs every camera of the configuration (or the bundled sample
// video as camera "cam0", looping at its frame rate) in worker processes, one per device, until
// SIGINT/SIGTERM (or --seconds); SIGHUP re-reads the configuration. docs/runtime.md has the design
// and the exit codes (0 stopped, 1 runtime failure, 2 configuration or start-up error).
#include <filesystem>

#include "apps/facepipe/cli_common.h"
#include "common/status.h"
#include "ipc/segment_name.h"
#include "runtime/config.h"
#include "runtime/supervisor.h"

namespace facepipe::cli {
namespace {

struct RunOptions {
  std::string config_file;
  std::string instance;
  double seconds = 0;
  ModelOptions models;
  int metrics_port = -1;
  std::vector<std::string> overrides;  // --set section.key=value
};

runtime::RunConfig default_config() {
  runtime::RunConfig config;
  config.origin = "<built-in sample configuration>";
  runtime::CameraConfig camera;
  camera.id = "cam0";
  camera.name = "sample video";
  // Absolute: workers must find it whatever happens to the working directory.
  camera.source = std::filesystem::weakly_canonical(std::filesystem::absolute(sample_video())).string();
  config.cameras.push_back(camera);
  return config;
}

// The configuration with the command line's overrides applied (at start and on every SIGHUP).
runtime::RunConfig load(const RunOptions& o) {
  runtime::RunConfig config = o.config_file.empty() ? default_config() : runtime::load_run_config(o.config_file);
  if (!o.instance.empty()) {
    if (!ipc::is_valid_name_part(o.instance))
      throw Error("--instance '" + o.instance + "': must be 1..48 characters of [A-Za-z0-9_-]");
    config.instance = o.instance;
  }
  if (!o.models.models_dir.empty()) config.gpu.models_dir = o.models.models_dir;
  if (o.metrics_port >= 0) config.metrics_port = o.metrics_port;
  return runtime::apply_overrides(config, o.overrides);
}

}  // namespace

void register_run_commands(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand("run", "Run cameras live: capture, track faces, publish to shared memory");
  cmd->add_option("--config", o->config_file, "TOML configuration (default: the bundled sample video as camera cam0); SIGHUP re-reads it");
  cmd->add_option("--instance", o->instance, "Instance name (overrides the configuration's)");
  cmd->add_option("--seconds", o->seconds, "Stop after this many seconds (default: until SIGINT/SIGTERM)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--set", o->overrides,
                  "Override a setting of the configuration: section.key=value, TOML value, repeatable "
                  "(e.g. --set gpu.max_batch_size=16 --set gpu.enable_fp16=false)");
  cmd->add_option("--metrics-port", o->metrics_port, "Metrics port on 127.0.0.1 (overrides the configuration; 0: off)")
      ->check(CLI::Range(0, 65535));
  add_model_options(*cmd, o->models);
  cmd->callback([o] {
    runtime::SupervisorOptions so;
    so.load_config = [o] { return load(*o); };
    so.reloadable = !o->config_file.empty();
    so.seconds = o->seconds;
    const int code = runtime::run_supervisor(so);
    if (code != 0) throw CLI::RuntimeError(code);  // main() returns it (CLI11 prints nothing for this)
  });
}

}  // namespace facepipe::cli
