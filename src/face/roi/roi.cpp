#include "face/roi/roi.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace facepipe::face {

float normalize_radians(float angle) {
  constexpr double kPi = std::numbers::pi;
  return static_cast<float>(angle - 2 * kPi * std::floor((angle - (-kPi)) / (2 * kPi)));
}

float rotation_from_points(Point2 start, Point2 end, float target_angle) {
  // Image y grows downwards: atan2(-(dy), dx) is the on-screen angle of the vector.
  return normalize_radians(target_angle - std::atan2(-(end.y - start.y), end.x - start.x));
}

RotatedRect transform_rect(const RotatedRect& rect, const RectTransform& t) {
  RotatedRect r = rect;
  float width = rect.width, height = rect.height;
  const float rotation = rect.rotation;
  if (rotation == 0.0f) {
    r.cx += width * t.shift_x;
    r.cy += height * t.shift_y;
  } else {
    const float c = std::cos(rotation), s = std::sin(rotation);
    r.cx += width * t.shift_x * c - height * t.shift_y * s;
    r.cy += width * t.shift_x * s + height * t.shift_y * c;
  }
  if (t.square_long) {
    width = height = std::max(width, height);
  } else if (t.square_short) {
    width = height = std::min(width, height);
  }
  r.width = width * t.scale_x;
  r.height = height * t.scale_y;
  return r;
}

RotatedRect roi_from_detection(const Detection& d, const DetectionRoiOptions& o) {
  RotatedRect r;
  r.cx = d.box.x1 + d.box.width() / 2;
  r.cy = d.box.y1 + d.box.height() / 2;
  r.width = d.box.width();
  r.height = d.box.height();
  const int n = d.num_keypoints;
  if (o.start_keypoint >= 0 && o.end_keypoint >= 0 && o.start_keypoint < n && o.end_keypoint < n) {
    r.rotation = rotation_from_points(d.keypoints[static_cast<size_t>(o.start_keypoint)],
                                      d.keypoints[static_cast<size_t>(o.end_keypoint)], o.target_angle);
  }
  return transform_rect(r, o.transform);
}

RotatedRect roi_from_retinaface_detection(const Detection& d, const RectTransform& transform) {
  RotatedRect r;
  const float side = 0.5f * (1.05f * d.box.width() + 0.8f * d.box.height());
  r.width = r.height = side;
  r.cx = d.box.x1 + d.box.width() / 2;
  r.cy = d.box.y1 + d.box.height() / 2;
  if (d.num_keypoints >= 5) {
    const Point2 eyes{(d.keypoints[0].x + d.keypoints[1].x) / 2, (d.keypoints[0].y + d.keypoints[1].y) / 2};
    const Point2 mouth{(d.keypoints[3].x + d.keypoints[4].x) / 2, (d.keypoints[3].y + d.keypoints[4].y) / 2};
    r.cx = eyes.x + 0.6f * (mouth.x - eyes.x);
    r.cy = eyes.y + 0.6f * (mouth.y - eyes.y);
    r.rotation = rotation_from_points(d.keypoints[0], d.keypoints[1], 0.0f);
  }
  return transform_rect(r, transform);
}

RotatedRect roi_from_landmarks(std::span<const Landmark> lms, const LandmarksRoiOptions& o) {
  if (lms.empty()) return RotatedRect{};
  // LandmarksToDetectionCalculator: the bounding box of every landmark.
  float x1 = std::numeric_limits<float>::max(), y1 = x1;
  float x2 = std::numeric_limits<float>::lowest(), y2 = x2;
  for (const Landmark& l : lms) {
    x1 = std::min(x1, l.x);
    y1 = std::min(y1, l.y);
    x2 = std::max(x2, l.x);
    y2 = std::max(y2, l.y);
  }
  RotatedRect r;
  r.cx = x1 + (x2 - x1) / 2;
  r.cy = y1 + (y2 - y1) / 2;
  r.width = x2 - x1;
  r.height = y2 - y1;
  const int n = static_cast<int>(lms.size());
  if (o.start_landmark >= 0 && o.end_landmark >= 0 && o.start_landmark < n && o.end_landmark < n) {
    const Landmark& a = lms[static_cast<size_t>(o.start_landmark)];
    const Landmark& b = lms[static_cast<size_t>(o.end_landmark)];
    r.rotation = rotation_from_points(Point2{a.x, a.y}, Point2{b.x, b.y}, o.target_angle);
  }
  return transform_rect(r, o.transform);
}

Roi to_roi(const RotatedRect& rect) {
  return Roi{rect.cx, rect.cy, std::max(rect.width, rect.height), rect.rotation};
}

RotatedRect to_rotated_rect(const Roi& roi) { return RotatedRect{roi.cx, roi.cy, roi.size, roi.size, roi.rotation}; }

Status crop_landmark_input(const kernels::ImageView& image, const RotatedRect& roi, float* out, int size,
                           ThreadPool* pool, kernels::Sampling sampling) {
  kernels::TensorFormat format = kernels::tensor_format_unit_range(size, size, kernels::BorderMode::kReplicate);
  format.sampling = sampling;
  return kernels::warp_to_tensor(image, roi, format, out, pool);
}

// MediaPipe scales z by the length, in normalized image coordinates, of the ROI's x axis
// (LandmarkProjectionCalculator::CalculateZScale): for a rotated ROI in a non-square image that is
// not the ROI width. Expressed on the scale of x (pixels): width * |(cos r, aspect * sin r)|.
static float z_scale_factor(float rotation, float image_aspect) {
  const float c = std::cos(rotation), s = std::sin(rotation) * image_aspect;
  return std::sqrt(c * c + s * s);
}

void project_landmarks(const float* raw, int count, const RotatedRect& roi, Landmark* out, int input_size,
                       float image_aspect) {
  const float inv = 1.0f / static_cast<float>(input_size);
  const float c = std::cos(roi.rotation), s = std::sin(roi.rotation);
  const float z_scale = roi.width * z_scale_factor(roi.rotation, image_aspect);
  for (int i = 0; i < count; ++i) {
    const float x = raw[3 * i] * inv - 0.5f;
    const float y = raw[3 * i + 1] * inv - 0.5f;
    const float z = raw[3 * i + 2] * inv;
    out[i].x = (c * x - s * y) * roi.width + roi.cx;
    out[i].y = (s * x + c * y) * roi.height + roi.cy;
    out[i].z = z * z_scale;
  }
}

void unproject_landmarks(const Landmark* lms, int count, const RotatedRect& roi, float* raw, int input_size,
                         float image_aspect) {
  const float c = std::cos(roi.rotation), s = std::sin(roi.rotation);
  const float z_scale = roi.width * z_scale_factor(roi.rotation, image_aspect);
  const float n = static_cast<float>(input_size);
  for (int i = 0; i < count; ++i) {
    const float px = (lms[i].x - roi.cx) / roi.width;
    const float py = (lms[i].y - roi.cy) / roi.height;
    // Inverse of the rotation applied by project_landmarks.
    const float x = c * px + s * py;
    const float y = -s * px + c * py;
    raw[3 * i] = (x + 0.5f) * n;
    raw[3 * i + 1] = (y + 0.5f) * n;
    raw[3 * i + 2] = lms[i].z / z_scale * n;
  }
}

float face_presence_score(float logit) { return 1.0f / (1.0f + std::exp(-logit)); }

}  // namespace facepipe::face
