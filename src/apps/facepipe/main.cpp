// facepipe: one binary, subcommands. Every subcommand's start-up errors (facepipe::Error and other
// exceptions) are caught here and reported with a non-zero exit code.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "common/status.h"

int main(int argc, char** argv) {
  CLI::App app{"facepipe: real-time multi-camera face tracking (landmarks, blendshapes, head pose)"};
  app.set_version_flag("--version", "facepipe 0.1.0");
  app.require_subcommand(1);
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
