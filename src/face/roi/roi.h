// Regions of interest for the landmark network, exactly as MediaPipe's Face Landmarker builds them,
// and the mapping of the network's output back to the image.
//
//   detection  → ROI   (FaceDetectorGraph: DetectionsToRects with rotation from keypoints 0 → 1,
//                       then RectTransformation scale 1.5, not squared)
//   landmarks  → ROI   (FaceLandmarksDetectorGraph, for tracking the next frame: bounding box of
//                       all landmarks, rotation from landmark 33 → 263, scale 1.5, square_long)
//   crop               (ImageToTensor: rotated ROI → 256x256 RGB in [0, 1], replicate border)
//   landmarks out      (TensorsToLandmarks / LandmarkProjection: crop pixels → image pixels)
//
// All in image pixels. MediaPipe works in coordinates normalized by the image size; the formulas
// here are the same after multiplying by (width, height). Rotation: radians, positive = clockwise on
// screen (the ROI's x axis points along (cos r, sin r) with y down); see kernels/image_to_tensor.h.
#pragma once

#include <span>

#include "common/status.h"
#include "face/types.h"
#include "kernels/image_to_tensor.h"
#include "kernels/image_view.h"

namespace facepipe {
class ThreadPool;
}

namespace facepipe::face {

using kernels::RotatedRect;

// Wraps an angle into [-pi, pi) (MediaPipe's NormalizeRadians).
float normalize_radians(float angle);

// MediaPipe's DetectionsToRectsCalculator::ComputeRotation: the rotation that brings the vector
// start → end (pixels) to `target_angle` (radians; 0 = horizontal, pointing right).
float rotation_from_points(Point2 start, Point2 end, float target_angle = 0.0f);

// RectTransformationCalculator options.
struct RectTransform {
  float scale_x = 1.0f, scale_y = 1.0f;
  float shift_x = 0.0f, shift_y = 0.0f;  // fractions of width / height, along the rotated axes
  bool square_long = false;
  bool square_short = false;
};
RotatedRect transform_rect(const RotatedRect& rect, const RectTransform& transform);

struct DetectionRoiOptions {
  int start_keypoint = 0;  // "left eye" (image left)
  int end_keypoint = 1;
  float target_angle = 0.0f;
  RectTransform transform{1.5f, 1.5f, 0.0f, 0.0f, false, false};
};
// Detection box centre and size, eye-line rotation, expanded. Keypoints must include both indices
// (else the rotation is 0).
RotatedRect roi_from_detection(const Detection& detection, const DetectionRoiOptions& options = {});

// The same ROI for a RetinaFace detection. RetinaFace's box spans forehead to chin and sits higher
// than BlazeFace's, so the landmark network would see a different crop than it was trained on;
// instead, the BlazeFace-like box is estimated from the five points and the box: centre 60% of the
// way from the eyes' midpoint to the mouth's, side 1.05 x the box width averaged with 0.8 x its
// height (ratios measured between the two detectors on the same faces), rotation from the eyes,
// then MediaPipe's 1.5x expansion.
RotatedRect roi_from_retinaface_detection(const Detection& detection,
                                          const RectTransform& transform = {1.5f, 1.5f, 0.0f, 0.0f, false, false});

struct LandmarksRoiOptions {
  int start_landmark = 33;   // outer corner of the eye on the image's left
  int end_landmark = 263;    // outer corner of the other eye
  float target_angle = 0.0f;
  RectTransform transform{1.5f, 1.5f, 0.0f, 0.0f, true, false};
};
// Axis-aligned bounding box of all landmarks (x, y), rotation from the two eye corners, expanded
// and squared: the next frame's ROI while tracking.
RotatedRect roi_from_landmarks(std::span<const Landmark> landmarks, const LandmarksRoiOptions& options = {});

// The shared square Roi type: size = max(width, height) (MediaPipe's ROIs are square in pixels
// except, slightly, those made from a detection box).
Roi to_roi(const RotatedRect& rect);
RotatedRect to_rotated_rect(const Roi& roi);

// ---- Landmark network input and output ----------------------------------------------------------

constexpr int kLandmarkInputSize = 256;  // face_landmarks_detector.tflite: [1, 256, 256, 3]

// The network's input: `roi` resampled into size x size x 3 floats, RGB in [0, 1], replicate border.
// kOpenCv sampling reproduces MediaPipe's CPU path (see kernels/image_to_tensor.h).
Status crop_landmark_input(const kernels::ImageView& image, const RotatedRect& roi, float* out,
                           int size = kLandmarkInputSize, ThreadPool* pool = nullptr,
                           kernels::Sampling sampling = kernels::Sampling::kOpenCv);

// Network output (count x (x, y, z) in input-crop pixels, 0..input_size) → image pixels, as MediaPipe
// does it (TensorsToLandmarks divides by the input size, LandmarkProjection rotates about the ROI
// centre and scales by the ROI's width and height; z is scaled like x by the ROI's x axis measured
// in normalized image coordinates, which for a rotated ROI depends on the image's aspect ratio
// `image_aspect` = width / height). The result's z equals MediaPipe's normalized z times the image
// width.
void project_landmarks(const float* raw_xyz, int count, const RotatedRect& roi, Landmark* out,
                       int input_size = kLandmarkInputSize, float image_aspect = 1.0f);

// The inverse (image pixels → crop pixels), e.g. to express tracked landmarks in a new ROI.
void unproject_landmarks(const Landmark* image_landmarks, int count, const RotatedRect& roi, float* raw_xyz,
                         int input_size = kLandmarkInputSize, float image_aspect = 1.0f);

// Face presence probability from the network's Identity_1 logit (TensorsToFloats with SIGMOID).
float face_presence_score(float logit);

}  // namespace facepipe::face
