#include "apps/facepipe/overlay.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "media/draw.h"

namespace facepipe::cli {

void draw_face_overlay(media::ImageView image, std::span<const face::FaceResult> faces) {
  const media::Rgb landmark_color{0, 255, 0}, box_color{255, 200, 0}, text_color{255, 255, 255};
  for (const face::FaceResult& f : faces) {
    const float size = std::max(f.box.width(), f.box.height());
    const float radius = std::clamp(size / 250.f, 0.8f, 3.f);
    for (int i = 0; i < f.num_landmarks; ++i) {
      const face::Landmark& l = f.landmarks[static_cast<size_t>(i)];
      media::fill_circle(image, {l.x, l.y}, radius, landmark_color);
    }
    const int thickness = std::max(1, static_cast<int>(size / 150));
    media::draw_rect(image, static_cast<int>(f.box.x1), static_cast<int>(f.box.y1), static_cast<int>(f.box.width()),
                     static_cast<int>(f.box.height()), box_color, thickness);
    const int scale = std::max(1, static_cast<int>(size / 120));
    media::draw_text(image, static_cast<int>(f.box.x1), static_cast<int>(f.box.y1) - 9 * scale, "id " + std::to_string(f.id),
                     text_color, scale);
    if (f.has_pose) {
      // The rotation's columns are the face's x (red), y (green) and z (blue) axes in camera space,
      // where y points up and the camera looks along -z: flip y for the image.
      const face::Landmark& nose = f.landmarks[1];
      const float length = size * 0.4f;
      const media::Rgb colors[3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}};
      for (int axis = 0; axis < 3; ++axis) {
        const float dx = f.transform[static_cast<size_t>(0 * 4 + axis)];
        const float dy = -f.transform[static_cast<size_t>(1 * 4 + axis)];
        media::draw_line(image, {nose.x, nose.y}, {nose.x + dx * length, nose.y + dy * length}, colors[axis],
                         static_cast<float>(thickness), true);
      }
    }
  }
}

}  // namespace facepipe::cli
