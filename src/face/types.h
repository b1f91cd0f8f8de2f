// Value types shared by the face pipeline's stages (detection, ROI, landmarks, blendshapes, pose,
// tracking) and its outputs. All coordinates are in pixels of the analysed image unless noted.
#pragma once

#include <array>
#include <cstdint>

namespace facepipe::face {

constexpr int kNumLandmarks = 478;     // Face Mesh v2 (468 mesh points + 10 iris points)
constexpr int kNumLandmarksV1 = 468;   // Face Mesh v1
constexpr int kNumBlendshapes = 52;    // "_neutral" + 51 ARKit-style names
constexpr int kMaxDetectionKeypoints = 6;

struct Point2 {
  float x = 0, y = 0;
};

struct Landmark {
  float x = 0, y = 0;  // image pixels
  float z = 0;         // depth on the scale of x (MediaPipe's normalized z times the image width)
};

struct BoundingBox {
  float x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  float width() const { return x2 - x1; }
  float height() const { return y2 - y1; }
};

// A face found by a detector. Keypoints: BlazeFace gives 6 (right eye, left eye — as seen in the
// image: index 0 is the eye on the image's left —, nose tip, mouth centre, right ear tragion, left ear
// tragion); RetinaFace gives 5 (two eyes, nose, two mouth corners). Index 0 and 1 are always the eyes.
struct Detection {
  BoundingBox box;
  float score = 0;
  std::array<Point2, kMaxDetectionKeypoints> keypoints{};
  int num_keypoints = 0;
};

// A square, rotated region of the image: the landmark network's input crop.
struct Roi {
  float cx = 0, cy = 0;      // centre, pixels
  float size = 0;            // side length, pixels
  // Radians, MediaPipe's NormalizedRect.rotation: the ROI's x axis points along (cos r, sin r) in
  // image pixels (y down), so a positive value turns the ROI clockwise as seen on screen. A face
  // whose eye on the image's right is lower gets r > 0: r = atan2(y1 - y0, x1 - x0) from eye 0 (image
  // left) to eye 1, in pixels (verified on roll30.jpg: +0.49 rad). See src/face/roi/roi.h.
  float rotation = 0;
};

}  // namespace facepipe::face
