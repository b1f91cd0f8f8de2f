// The live viewer (`facepipe view`): a separate process that attaches to an instance's segments and
// shows them in a grid (docs/ipc.md, "Viewer"). Built only with SDL2.
#pragma once

#include <string>
#include <vector>

namespace facepipe::viewer {

struct ViewerOptions {
  std::string instance = "default";
  std::vector<std::string> cameras;  // empty: every camera of the instance, including ones that appear later
  std::string mesh_obj;              // canonical_face_model.obj for the mesh edges; empty: points only
  bool fullscreen = false;
  double stale_after_s = 0.5;
};

// Runs until the window is closed, q/Esc, or SIGINT/SIGTERM. Throws facepipe::Error when SDL cannot
// open a window (with SDL's reason).
void run_viewer(const ViewerOptions& options);

}  // namespace facepipe::viewer
