// facepipe: one binary, subcommands. Start-up errors of every subcommand (facepipe::Error and other
// exceptions) are caught here, printed as one clear line, and turned into exit code 1; usage errors
// exit with CLI11's code (non-zero); a subcommand with exit codes of its own (run: 2 for a
// configuration error) throws CLI::RuntimeError(code).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "apps/facepipe/cli_common.h"
#include "common/status.h"

int main(int argc, char** argv) {
  CLI::App app{"facepipe: real-time multi-camera face tracking (landmarks, blendshapes, head pose)"};
  app.set_version_flag("--version", "facepipe 0.1.0");
  app.require_subcommand(1);
  facepipe::cli::register_analyze_commands(app);
  facepipe::cli::register_model_commands(app);
  facepipe::cli::register_bench_commands(app);
  facepipe::cli::register_list_commands(app);
  facepipe::cli::register_view_commands(app);
  facepipe::cli::register_ipc_demo_commands(app);
  facepipe::cli::register_run_commands(app);
  facepipe::cli::register_worker_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "facepipe: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
