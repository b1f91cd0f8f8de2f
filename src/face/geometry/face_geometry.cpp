#include "face/geometry/face_geometry.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

namespace facepipe::face {
namespace {

// MediaPipe drops faces whose landmarks all lie within this distance (normalized units) of their
// mean: the fit is numerically unstable there (geometry_pipeline.cc, IsScreenLandmarkListTooCompact).
constexpr double kTooCompactThreshold = 1e-3;

constexpr double kRadToDeg = 180.0 / std::numbers::pi;

}  // namespace

void pose_angles_from_matrix(const std::array<float, 16>& m, float& yaw, float& pitch, float& roll) {
  const double s = std::sqrt(double(m[0]) * m[0] + double(m[4]) * m[4] + double(m[8]) * m[8]);
  const double inv = s > 0 ? 1.0 / s : 1.0;
  const double r02 = m[2] * inv, r22 = m[10] * inv, r12 = m[6] * inv, r10 = m[4] * inv, r11 = m[5] * inv;
  yaw = static_cast<float>(std::atan2(-r02, r22) * kRadToDeg);
  pitch = static_cast<float>(std::asin(std::clamp(r12, -1.0, 1.0)) * kRadToDeg);
  roll = static_cast<float>(std::atan2(r10, r11) * kRadToDeg);
}

FaceGeometryEstimator::FaceGeometryEstimator(const GeometryPipelineMetadata& metadata, const GeometryEnvironment& env)
    : input_source_(metadata.input_source == GeometryInputSource::kDefault ? GeometryInputSource::kFaceLandmarkPipeline
                                                                            : metadata.input_source),
      env_(env) {
  if (!(env.vertical_fov_degrees > 0 && env.vertical_fov_degrees < 180))
    throw Error("face geometry: vertical FOV must be in (0, 180) degrees, got " +
                std::to_string(env.vertical_fov_degrees));
  if (!(env.near > 0 && env.near < env.far))
    throw Error("face geometry: the camera needs 0 < near < far");
  if (env.origin != OriginPointLocation::kTopLeftCorner && env.origin != OriginPointLocation::kBottomLeftCorner)
    throw Error("face geometry: unknown origin point location");
  if (metadata.vertices.empty() || metadata.procrustes_basis.empty())
    throw Error("face geometry: metadata without a canonical mesh or a Procrustes basis");

  num_vertices_ = static_cast<int>(metadata.vertices.size());
  canonical_.resize(num_vertices_);
  for (int i = 0; i < num_vertices_; ++i)
    canonical_[i] = {metadata.vertices[i].x, metadata.vertices[i].y, metadata.vertices[i].z};

  // As MediaPipe: a dense weight per landmark (a later entry for the same id wins), then only the
  // landmarks with a positive weight take part (zero weights contribute nothing to the fit).
  std::vector<double> dense(num_vertices_, 0.0);
  for (const WeightedLandmark& wl : metadata.procrustes_basis) {
    if (wl.landmark_id >= static_cast<uint32_t>(num_vertices_))
      throw Error("face geometry: basis landmark " + std::to_string(wl.landmark_id) + " outside the mesh");
    dense[wl.landmark_id] = wl.weight;
  }
  for (int i = 0; i < num_vertices_; ++i) {
    if (dense[i] > 0) {
      basis_ids_.push_back(static_cast<uint32_t>(i));
      canonical_basis_.push_back(canonical_[i]);
      basis_weights_.push_back(dense[i]);
    }
  }
  if (basis_ids_.empty()) throw Error("face geometry: the Procrustes basis has no positive weight");

  screen_.resize(num_vertices_);
  work_.resize(num_vertices_);
  basis_points_.resize(basis_ids_.size());
}

Status FaceGeometryEstimator::estimate(std::span<const Landmark> landmarks, int image_width, int image_height,
                                       HeadPose& pose, std::span<float> metric_landmarks) {
  if (static_cast<int>(landmarks.size()) < num_vertices_)
    return Status::error(StatusCode::kInvalidArgument, "face geometry: fewer landmarks than the canonical mesh");
  if (image_width <= 0 || image_height <= 0)
    return Status::error(StatusCode::kInvalidArgument, "face geometry: image size must be positive");
  const double inv_w = 1.0 / image_width, inv_h = 1.0 / image_height;
  for (int i = 0; i < num_vertices_; ++i)
    screen_[i] = {landmarks[i].x * inv_w, landmarks[i].y * inv_h, landmarks[i].z * inv_w};
  return estimate_from_screen(image_width, image_height, pose, metric_landmarks);
}

Status FaceGeometryEstimator::estimate_normalized(std::span<const float> xyz, int image_width, int image_height,
                                                  HeadPose& pose, std::span<float> metric_landmarks) {
  if (static_cast<int>(xyz.size()) < 3 * num_vertices_)
    return Status::error(StatusCode::kInvalidArgument, "face geometry: fewer landmarks than the canonical mesh");
  for (int i = 0; i < num_vertices_; ++i) screen_[i] = {xyz[3 * i], xyz[3 * i + 1], xyz[3 * i + 2]};
  return estimate_from_screen(image_width, image_height, pose, metric_landmarks);
}

Status FaceGeometryEstimator::solve_pose(const std::vector<Point3d>& landmarks, Matrix4d& transform) {
  for (size_t k = 0; k < basis_ids_.size(); ++k) basis_points_[k] = landmarks[basis_ids_[k]];
  return solve_weighted_orthogonal_procrustes(canonical_basis_, basis_points_, basis_weights_, transform);
}

Status FaceGeometryEstimator::estimate_scale(const std::vector<Point3d>& landmarks, double& scale) {
  Matrix4d transform;
  FACEPIPE_RETURN_IF_ERROR(solve_pose(landmarks, transform));
  scale = std::sqrt(transform[0] * transform[0] + transform[4] * transform[4] + transform[8] * transform[8]);
  return Status::ok();
}

// Moves the relative depth so that the mean lies on the near plane, divides it by the
// canonical-to-runtime scale, unprojects x and y through the pinhole at that depth and flips z from
// the screen's left-handed to the metric right-handed frame.
void FaceGeometryEstimator::unproject(double depth_offset, double scale, std::vector<Point3d>& out) const {
  const double near = env_.near;
  for (int i = 0; i < num_vertices_; ++i) {
    const Point3d& s = screen_[i];
    const double z = (s.z - depth_offset + near) / scale;
    out[i] = {s.x * z / near, s.y * z / near, -z};
  }
}

void FaceGeometryEstimator::rewrite_z_from_canonical(const Matrix4d& t, std::vector<Point3d>& landmarks) const {
  for (int i = 0; i < num_vertices_; ++i) {
    const Point3d& c = canonical_[i];
    landmarks[i].z = t[8] * c.x + t[9] * c.y + t[10] * c.z + t[11];
  }
}

Status FaceGeometryEstimator::estimate_from_screen(int image_width, int image_height, HeadPose& pose,
                                                   std::span<float> metric_landmarks) {
  if (image_width <= 0 || image_height <= 0)
    return Status::error(StatusCode::kInvalidArgument, "face geometry: image size must be positive");
  if (!metric_landmarks.empty() && static_cast<int>(metric_landmarks.size()) < 3 * num_vertices_)
    return Status::error(StatusCode::kInvalidArgument, "face geometry: metric landmark buffer too small");

  // Too-compact filter on the normalized input (running mean, as MediaPipe).
  {
    double mean_x = 0, mean_y = 0;
    for (int i = 0; i < num_vertices_; ++i) {
      mean_x += (screen_[i].x - mean_x) / (i + 1);
      mean_y += (screen_[i].y - mean_y) / (i + 1);
    }
    double max_sq = 0;
    for (int i = 0; i < num_vertices_; ++i) {
      const double dx = screen_[i].x - mean_x, dy = screen_[i].y - mean_y;
      max_sq = std::max(max_sq, dx * dx + dy * dy);
    }
    if (!(std::sqrt(max_sq) > kTooCompactThreshold))
      return Status::error(StatusCode::kInvalidArgument, "face geometry: landmarks too compact (or not finite)");
  }

  // Perspective frustum at the near plane; its width follows the image's aspect ratio.
  const double kDegToRad = std::numbers::pi / 180.0;
  const double height_at_near = 2.0 * env_.near * std::tan(0.5 * kDegToRad * env_.vertical_fov_degrees);
  const double width_at_near = image_width * height_at_near / image_height;
  const double left = -0.5 * width_at_near, bottom = -0.5 * height_at_near;

  // (1) Project the normalized x, y onto the near plane; z keeps the scale of x.
  const bool flip_y = env_.origin == OriginPointLocation::kTopLeftCorner;
  double depth_offset = 0;
  for (int i = 0; i < num_vertices_; ++i) {
    Point3d& s = screen_[i];
    const double y = flip_y ? 1.0 - s.y : s.y;
    s = {s.x * width_at_near + left, y * height_at_near + bottom, s.z * width_at_near};
    depth_offset += s.z;
  }
  depth_offset /= num_vertices_;

  // (2) First scale estimate on the projected points (z made right-handed) — unprojecting is not
  // safe yet because z is only relative.
  for (int i = 0; i < num_vertices_; ++i) work_[i] = {screen_[i].x, screen_[i].y, -screen_[i].z};
  double first_scale = 0;
  FACEPIPE_RETURN_IF_ERROR(estimate_scale(work_, first_scale));

  // (3)-(4) Unproject with that scale and estimate the remaining scale.
  unproject(depth_offset, first_scale, work_);
  Matrix4d transform;
  if (input_source_ == GeometryInputSource::kFaceDetectionPipeline) {
    FACEPIPE_RETURN_IF_ERROR(solve_pose(work_, transform));
    rewrite_z_from_canonical(transform, work_);
  }
  double second_scale = 0;
  FACEPIPE_RETURN_IF_ERROR(estimate_scale(work_, second_scale));

  // (5) Unproject with the total scale: the metric landmarks; (6) fit the canonical mesh to them.
  unproject(depth_offset, first_scale * second_scale, work_);
  FACEPIPE_RETURN_IF_ERROR(solve_pose(work_, transform));
  if (input_source_ == GeometryInputSource::kFaceDetectionPipeline) {
    rewrite_z_from_canonical(transform, work_);
    FACEPIPE_RETURN_IF_ERROR(solve_pose(work_, transform));
  }

  for (int k = 0; k < 16; ++k) pose.matrix[k] = static_cast<float>(transform[k]);
  pose_angles_from_matrix(pose.matrix, pose.yaw_degrees, pose.pitch_degrees, pose.roll_degrees);

  if (!metric_landmarks.empty()) {
    // Inverse of the similarity [sR | t]: p = R^T (q - t) / s.
    const double s2 = transform[0] * transform[0] + transform[4] * transform[4] + transform[8] * transform[8];
    for (int i = 0; i < num_vertices_; ++i) {
      const double d[3] = {work_[i].x - transform[3], work_[i].y - transform[7], work_[i].z - transform[11]};
      for (int r = 0; r < 3; ++r)
        metric_landmarks[3 * i + r] =
            static_cast<float>((transform[r] * d[0] + transform[4 + r] * d[1] + transform[8 + r] * d[2]) / s2);
    }
  }
  return Status::ok();
}

}  // namespace facepipe::face
