#include "viewer/overlay.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "common/status.h"
#include "face/blendshapes/blendshape_input.h"

namespace facepipe::viewer {

MeshEdges load_mesh_edges(const std::filesystem::path& obj) {
  std::ifstream in(obj);
  if (!in) throw Error(obj.string() + ": cannot open");
  std::set<std::pair<uint16_t, uint16_t>> unique;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("f ", 0) != 0) continue;
    std::istringstream fields(line.substr(2));
    std::vector<int> vertices;
    std::string token;
    while (fields >> token) {
      const int v = std::atoi(token.c_str());  // "12/34" -> 12
      if (v >= 1 && v <= FP_SHM_NUM_LANDMARKS) vertices.push_back(v - 1);
    }
    for (size_t i = 0; i < vertices.size() && vertices.size() >= 2; ++i) {
      auto a = static_cast<uint16_t>(vertices[i]), b = static_cast<uint16_t>(vertices[(i + 1) % vertices.size()]);
      if (a > b) std::swap(a, b);
      if (a != b) unique.insert({a, b});
    }
  }
  MeshEdges mesh;
  mesh.edges.assign(unique.begin(), unique.end());
  return mesh;
}

namespace {

// Nearest-neighbour copy of the preview onto the whole tile (a plain row copy when sizes match).
void blit_preview(const ipc::PreviewView& p, media::ImageView tile) {
  const bool swap = (p.format == FP_SHM_PREVIEW_RGB8) != (tile.format == media::PixelFormat::kRGB8);
  for (int y = 0; y < tile.height; ++y) {
    const uint8_t* src = p.row(std::min(p.height - 1, y * p.height / tile.height));
    uint8_t* dst = tile.row(y);
    if (p.width == tile.width && !swap) {
      std::memcpy(dst, src, static_cast<size_t>(tile.width) * 3);
      continue;
    }
    for (int x = 0; x < tile.width; ++x) {
      const uint8_t* s = src + 3 * std::min(p.width - 1, x * p.width / tile.width);
      dst[3 * x + 0] = swap ? s[2] : s[0];
      dst[3 * x + 1] = s[1];
      dst[3 * x + 2] = swap ? s[0] : s[2];
    }
  }
}

void draw_badge(media::ImageView tile, const std::string& text, media::Rgb background, int scale) {
  const int w = media::text_width(text, scale) + 24, h = media::text_height(text, scale) + 16;
  const int x = (tile.width - w) / 2, y = (tile.height - h) / 2;
  media::fill_rect(tile, x, y, w, h, background);
  media::draw_rect(tile, x, y, w, h, {255, 255, 255}, 2);
  media::draw_text(tile, x + 12, y + 8, text, {255, 255, 255}, scale);
}

void draw_face(media::ImageView tile, const fp_shm_face& f, float sx, float sy, bool selected, const OverlayFlags& flags,
               const MeshEdges& mesh) {
  const int n = static_cast<int>(std::min<uint32_t>(f.num_landmarks, FP_SHM_NUM_LANDMARKS));
  auto at = [&](int i) { return media::PointF{f.landmarks[i][0] * sx, f.landmarks[i][1] * sy}; };
  if (flags.mesh)
    for (const auto& [a, b] : mesh.edges)
      if (a < n && b < n) media::draw_line(tile, at(a), at(b), kMeshColor);
  if (flags.points)
    for (int i = 0; i < n; ++i) media::fill_circle(tile, at(i), 1.6f, kPointColor, /*antialias=*/false);
  const float x1 = f.box[0] * sx, y1 = f.box[1] * sy, x2 = f.box[2] * sx, y2 = f.box[3] * sy;
  if (flags.boxes) {
    media::draw_rect(tile, static_cast<int>(x1), static_cast<int>(y1), static_cast<int>(x2 - x1),
                     static_cast<int>(y2 - y1), selected ? kSelectedBoxColor : kBoxColor, selected ? 3 : 2);
    char label[64];
    std::snprintf(label, sizeof label, "ID %d  %.2f", f.id, static_cast<double>(f.score));
    const int ty = static_cast<int>(y1) - 20;
    media::fill_rect(tile, static_cast<int>(x1), ty, media::text_width(label, 2) + 4, 18, {0, 0, 0});
    media::draw_text(tile, static_cast<int>(x1) + 2, ty + 1, label, selected ? kSelectedBoxColor : kBoxColor, 2);
  }
  if (flags.axes && (f.flags & FP_SHM_FACE_HAS_POSE) && n > 1) {
    // Rotation columns of the facial transform; camera space has y up, the image y down.
    const media::PointF origin = at(1);  // nose tip
    const float len = 0.5f * (x2 - x1);
    const media::Rgb colors[3] = {{255, 60, 60}, {60, 200, 255}, {80, 80, 255}};
    for (int axis = 0; axis < 3; ++axis) {
      const float dx = f.transform[0 * 4 + axis], dy = -f.transform[1 * 4 + axis];
      media::draw_line(tile, origin, {origin.x + dx * len, origin.y + dy * len}, colors[axis], 3, true);
    }
  }
}

// The panel goes to the side of the tile away from the face it describes, so it never covers it.
void draw_blendshapes(media::ImageView tile, const fp_shm_face& f, bool on_left) {
  const int rows = FP_SHM_NUM_BLENDSHAPES, row_h = 9;  // 52 rows fit under the status line
  const int label_w = 120, bar_w = 100;
  const int w = label_w + bar_w + 12, h = rows * row_h + 8;
  const int x0 = on_left ? 4 : tile.width - w - 4, y0 = std::max(24, (tile.height - h) / 2);
  media::fill_rect(tile, x0, y0, w, h, {10, 10, 10});
  for (int i = 0; i < rows; ++i) {
    const int y = y0 + 4 + i * row_h;
    std::string name(face::kBlendshapeNames[static_cast<size_t>(i)]);
    if (name.size() > 19) name.resize(19);
    media::draw_text(tile, x0 + 4, y + 1, name, {190, 190, 190}, 1);
    const float v = std::clamp(f.blendshapes[i], 0.f, 1.f);
    media::fill_rect(tile, x0 + 4 + label_w, y + 1, bar_w, row_h - 2, {50, 50, 50});
    media::fill_rect(tile, x0 + 4 + label_w, y + 1, static_cast<int>(v * bar_w), row_h - 2, {240, 150, 40});
  }
}

}  // namespace

void render_tile(media::ImageView tile, const ipc::Frame& frame, const TileStatus& s, const OverlayFlags& flags,
                 const MeshEdges& mesh) {
  const ipc::PreviewView preview = s.has_frame ? frame.preview() : ipc::PreviewView{};
  if (!preview.empty()) {
    blit_preview(preview, tile);
  } else {
    media::fill_rect(tile, 0, 0, tile.width, tile.height, {24, 24, 28});
  }
  const auto faces = s.has_frame ? frame.faces() : std::span<const fp_shm_face>{};
  if (s.has_frame && frame.info().source_width > 0 && frame.info().source_height > 0) {
    const float sx = static_cast<float>(tile.width) / static_cast<float>(frame.info().source_width);
    const float sy = static_cast<float>(tile.height) / static_cast<float>(frame.info().source_height);
    for (size_t i = 0; i < faces.size(); ++i)
      draw_face(tile, faces[i], sx, sy, static_cast<int>(i) == s.selected_face, flags, mesh);
  }
  if (flags.blendshapes && s.selected_face >= 0 && static_cast<size_t>(s.selected_face) < faces.size() &&
      (faces[static_cast<size_t>(s.selected_face)].flags & FP_SHM_FACE_HAS_BLENDSHAPES)) {
    const fp_shm_face& f = faces[static_cast<size_t>(s.selected_face)];
    const float centre_x = 0.5f * (f.box[0] + f.box[2]) * static_cast<float>(tile.width) /
                           static_cast<float>(std::max<uint32_t>(1, frame.info().source_width));
    draw_blendshapes(tile, f, centre_x > 0.5f * static_cast<float>(tile.width));
  }

  char line[160];
  std::snprintf(line, sizeof line, "%s  %.1f FPS  LAT %.1f MS  %zu FACES", s.camera.c_str(), s.fps, s.latency_ms,
                faces.size());
  media::fill_rect(tile, 0, 0, tile.width, 22, {0, 0, 0});
  media::draw_text(tile, 6, 3, line, s.selected_camera ? media::Rgb{255, 255, 255} : media::Rgb{170, 170, 170}, 2);
  if (s.selected_camera) media::draw_rect(tile, 0, 0, tile.width, tile.height, {90, 90, 90}, 1);
  if (!s.attached) {
    draw_badge(tile, s.message.empty() ? "WAITING FOR WRITER" : s.message, {60, 60, 60}, 2);
  } else if (s.stale) {
    char text[64];
    std::snprintf(text, sizeof text, "OFFLINE %.0fS", s.heartbeat_age_s);
    draw_badge(tile, text, {200, 30, 30}, 4);
  }
}

}  // namespace facepipe::viewer
