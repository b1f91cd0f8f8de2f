// Head pose from face landmarks, computed as MediaPipe's face geometry pipeline computes the
// "facial transformation matrix" (mediapipe/tasks/cc/vision/face_geometry/libs/geometry_pipeline.cc):
// the screen landmarks are lifted into a metric 3D space seen by a virtual perspective camera, and a
// weighted orthogonal Procrustes fit of the canonical face mesh gives the pose. See
// docs/face_geometry.md for the algorithm, the constants and the angle conventions.
//
// Construction allocates; estimate() does not. estimate() uses scratch buffers of the object: one
// estimator per thread (they are cheap: about 30 KB).
#pragma once

#include <array>
#include <span>
#include <vector>

#include "common/status.h"
#include "face/geometry/geometry_metadata.h"
#include "face/geometry/procrustes.h"
#include "face/types.h"

namespace facepipe::face {

enum class OriginPointLocation : int { kBottomLeftCorner = 1, kTopLeftCorner = 2 };

// The virtual camera. Defaults: the Face Landmarker's environment (FaceGeometryFromLandmarksGraph:
// vertical FOV 63 degrees, near 1 cm, far 100 m, origin at the top-left corner of the image).
struct GeometryEnvironment {
  OriginPointLocation origin = OriginPointLocation::kTopLeftCorner;
  float vertical_fov_degrees = 63.0f;
  float near = 1.0f;      // cm
  float far = 10000.0f;   // cm; unused by the pose, kept for a renderer's projection matrix
};

// Pose of the face in the camera's metric space: right-handed, centimetres, x to the image's right,
// y up, z towards the viewer (the camera looks down -z, so faces have negative z).
struct HeadPose {
  // Row-major 4x4, M[r][c] = matrix[r * 4 + c]: maps canonical face mesh coordinates into camera
  // space, [R | t] over [0 0 0 1] with t in cm (R has unit scale, up to fitting error).
  // MediaPipe's MatrixData is column-major: MediaPipe data[c * 4 + r] == matrix[r * 4 + c].
  std::array<float, 16> matrix{};
  // Angles in degrees from R = Ry(-yaw) * Rx(-pitch) * Rz(roll) (intrinsic y-x-z):
  //   yaw   > 0: the face turns towards the image's left (the subject's right),
  //   pitch > 0: the face looks up,
  //   roll  > 0: the face is rotated counter-clockwise as the image is displayed.
  // All three are 0 for a face looking straight down the camera's axis, upright.
  float yaw_degrees = 0, pitch_degrees = 0, roll_degrees = 0;
};

// Yaw/pitch/roll (degrees, HeadPose's convention) of the rotation part of a row-major 4x4.
void pose_angles_from_matrix(const std::array<float, 16>& row_major, float& yaw, float& pitch, float& roll);

class FaceGeometryEstimator {
 public:
  // Throws facepipe::Error if the metadata or environment is unusable.
  explicit FaceGeometryEstimator(const GeometryPipelineMetadata& metadata, const GeometryEnvironment& env = {});

  // Number of landmarks the canonical mesh has (468): inputs must have at least this many; extra
  // points (the 10 iris points of a 478-point mesh) are ignored, as MediaPipe does.
  int num_mesh_landmarks() const { return num_vertices_; }

  // `landmarks` in image pixels with z on the scale of x (our Landmark convention).
  // `metric_landmarks` (optional, 3 * num_mesh_landmarks() floats): the face mesh in the canonical
  // face's metric frame (MediaPipe's FaceGeometry mesh vertices).
  // Errors: too few landmarks, bad image size, a face that is too compact (all points within 1e-3 of
  // the image size of their mean, as MediaPipe filters), or a degenerate fit.
  Status estimate(std::span<const Landmark> landmarks, int image_width, int image_height, HeadPose& pose,
                  std::span<float> metric_landmarks = {});

  // Same from MediaPipe's NormalizedLandmark convention: (x, y, z) triplets with x, y normalized to
  // the image width and height and z on the scale of x.
  Status estimate_normalized(std::span<const float> xyz, int image_width, int image_height, HeadPose& pose,
                             std::span<float> metric_landmarks = {});

 private:
  Status estimate_from_screen(int image_width, int image_height, HeadPose& pose, std::span<float> metric_landmarks);
  Status solve_pose(const std::vector<Point3d>& landmarks, Matrix4d& transform);
  Status estimate_scale(const std::vector<Point3d>& landmarks, double& scale);
  void unproject(double depth_offset, double scale, std::vector<Point3d>& out) const;
  void rewrite_z_from_canonical(const Matrix4d& transform, std::vector<Point3d>& landmarks) const;

  GeometryInputSource input_source_;
  GeometryEnvironment env_;
  int num_vertices_ = 0;
  std::vector<Point3d> canonical_;          // all mesh vertices
  std::vector<uint32_t> basis_ids_;         // landmarks with a positive weight
  std::vector<Point3d> canonical_basis_;    // canonical_ at basis_ids_
  std::vector<double> basis_weights_;

  // Per-call scratch, sized at construction.
  std::vector<Point3d> screen_;             // normalized input, then projected at the near plane
  std::vector<Point3d> work_;               // intermediate / metric landmarks
  std::vector<Point3d> basis_points_;       // work_ at basis_ids_
  double frustum_left_ = 0, frustum_bottom_ = 0, frustum_width_ = 0, frustum_height_ = 0;
};

}  // namespace facepipe::face
