// Drawing one camera's tile of the live viewer into an 8-bit BGR image: the preview, landmark mesh
// and points, boxes and ids, pose axes, the selected face's blendshape bars, a status line and the
// OFFLINE / WAITING badges. No SDL here: the viewer uploads the result, tests can call it directly.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "ipc/shm_reader.h"
#include "media/draw.h"
#include "media/image.h"

namespace facepipe::viewer {

// Overlay colours (RGB). Points are drawn without antialiasing so the exact colour appears in the
// picture (the viewer test looks for it); nothing else uses it.
inline constexpr media::Rgb kPointColor{0, 255, 0};
inline constexpr media::Rgb kMeshColor{40, 150, 110};
inline constexpr media::Rgb kBoxColor{255, 200, 0};
inline constexpr media::Rgb kSelectedBoxColor{255, 255, 255};

struct OverlayFlags {
  bool mesh = true;
  bool points = true;
  bool boxes = true;  // and ids
  bool axes = true;
  bool blendshapes = true;
};

// Landmark index pairs to connect: the unique edges of the canonical face model's triangles.
struct MeshEdges {
  std::vector<std::pair<uint16_t, uint16_t>> edges;
};
// Reads the 'f' lines of an OBJ file (1-based vertex indices, "a/b" forms allowed). Throws
// facepipe::Error when the file cannot be read.
MeshEdges load_mesh_edges(const std::filesystem::path& obj);

struct TileStatus {
  std::string camera;
  bool attached = false;      // a segment is mapped
  bool stale = false;         // heartbeat stopped / writer closed
  bool has_frame = false;     // `frame` holds something to show
  double fps = 0;             // writer's measured rate
  double latency_ms = 0;      // publish -> display, smoothed
  double heartbeat_age_s = 0;
  int selected_face = 0;      // index into the frame's faces
  bool selected_camera = false;
  std::string message;        // e.g. an incompatibility
};

void render_tile(media::ImageView tile, const ipc::Frame& frame, const TileStatus& status, const OverlayFlags& flags,
                 const MeshEdges& mesh);

}  // namespace facepipe::viewer
