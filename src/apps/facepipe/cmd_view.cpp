// facepipe view [--instance I] [--cameras a,b] [--fullscreen]: the live viewer (SDL2, optional at
// build time). See docs/ipc.md, "Viewer", for what it shows and the keys.
#include <cstdio>

#include "apps/facepipe/cli_common.h"
#include "common/status.h"
#include "engine/model_locator.h"

#if FACEPIPE_HAVE_VIEWER
#include "viewer/viewer.h"
#endif

namespace facepipe::cli {

namespace {

struct ViewOptions {
  ModelOptions models;
  std::string instance = "default";
  std::vector<std::string> cameras;
  bool fullscreen = false;
  double stale_after = 0.5;
};

void run_view(const ViewOptions& o) {
#if FACEPIPE_HAVE_VIEWER
  viewer::ViewerOptions v;
  v.instance = o.instance;
  v.cameras = o.cameras;
  v.fullscreen = o.fullscreen;
  v.stale_after_s = o.stale_after;
  try {
    v.mesh_obj = engine::ModelLocator(o.models.models_dir).find("canonical_face_model.obj").string();
  } catch (const std::exception&) {
    std::fprintf(stderr, "facepipe view: canonical_face_model.obj not found: drawing landmark points, no mesh\n");
  }
  viewer::run_viewer(v);
#else
  (void)o;
  throw Error("this facepipe was built without SDL2, so `facepipe view` is not available: install libsdl2-dev "
              "(scripts/setup.sh) and rebuild; `facepipe list` and the client libraries work without it");
#endif
}

}  // namespace

void register_view_commands(CLI::App& app) {
  auto options = std::make_shared<ViewOptions>();
  CLI::App* cmd = app.add_subcommand("view", "Live viewer of the shared-memory outputs (SDL2 window)");
  add_model_options(*cmd, options->models);
  cmd->add_option("--instance", options->instance, "Instance to show")->capture_default_str();
  cmd->add_option("--cameras", options->cameras, "Cameras to show (default: all, including new ones)")->delimiter(',');
  cmd->add_flag("--fullscreen", options->fullscreen, "Start fullscreen (key f toggles)");
  cmd->add_option("--stale-after", options->stale_after, "Seconds without heartbeat before OFFLINE")->capture_default_str();
  cmd->footer("Keys: m mesh, p points, b boxes+ids, a pose axes, s blendshapes, Tab next face, c next camera, "
              "f fullscreen, q/Esc quit");
  cmd->callback([options] { run_view(*options); });
}

}  // namespace facepipe::cli
