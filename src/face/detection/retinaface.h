// RetinaFace (MobileNet-0.25, the public PyTorch RetinaFace export): priors, SSD decoding with
// variances, confidence threshold, NMS, mapping back to image pixels. Finds the small faces that
// BlazeFace's 128-pixel letterbox misses.
//
// Input [1, 3, H, W] float, BGR minus (104, 117, 123), no scaling. Outputs [1, A, 4] box
// regressions, [1, A, 2] softmaxed (background, face) scores, [1, A, 10] five landmark
// regressions; A = sum over strides 8, 16, 32 of ceil(H/s) * ceil(W/s) * 2.
// Detections: box in image pixels, 5 keypoints (eye on the image's left, other eye, nose, mouth
// corner on the image's left, other mouth corner), sorted by score.
#pragma once

#include <array>
#include <vector>

#include "face/detection/face_detector.h"
#include "kernels/resize.h"

namespace facepipe::face {

struct RetinaFaceConfig {
  float confidence_threshold = 0.5f;  // keep scores > this
  float nms_threshold = 0.4f;         // IoU above which the weaker box is dropped
  int top_k = 5000;                   // candidates kept before NMS (by score)
  int keep_top_k = 750;               // detections kept after NMS
  // Long side of the network input; 0 = the image's own size (dynamic-shape model). A model with a
  // fixed input (e.g. 640x640) gets the image shrunk to fit, at the top-left corner.
  int detection_size = 0;
  kernels::ResizeFilter resize_filter = kernels::ResizeFilter::kBilinear;
  // Pytorch_Retinaface cfg_mnet (data/config.py) and its decode (utils/box_utils.py).
  std::array<int, 3> steps{8, 16, 32};
  std::array<std::array<float, 2>, 3> min_sizes{{{16, 32}, {64, 128}, {256, 512}}};
  std::array<float, 2> variances{0.1f, 0.2f};
  std::array<float, 3> mean_bgr{104.0f, 117.0f, 123.0f};
};

// How an image becomes the network input: resized to content_* at the top-left of a tensor_* tensor.
struct RetinaFaceGeometry {
  int image_width = 0, image_height = 0;
  int tensor_width = 0, tensor_height = 0;
  int content_width = 0, content_height = 0;
  // Image pixels per tensor pixel (image_width / content_width, image_height / content_height).
  float scale_x = 1, scale_y = 1;
};

class RetinaFace : public FaceDetector {
 public:
  explicit RetinaFace(RetinaFaceConfig config = {});

  const RetinaFaceConfig& config() const { return config_; }

  // Number of priors (A) for a tensor size.
  int num_priors(int tensor_width, int tensor_height) const;
  // The input geometry for an image: a fixed tensor size (both > 0) or a dynamic one (0, 0).
  RetinaFaceGeometry plan(int image_width, int image_height, int fixed_tensor_width = 0,
                          int fixed_tensor_height = 0) const;

  // How an image of this geometry becomes the network input (planar BGR minus the means; the CPU
  // and the GPU preprocessing both use it).
  kernels::PlanarTensorFormat tensor_format(const RetinaFaceGeometry& geometry) const;
  // Fills `input` (3 * tensor_height * tensor_width floats) and records the geometry.
  Status preprocess(const kernels::ImageView& image, const RetinaFaceGeometry& geometry, float* input,
                    ThreadPool* pool = nullptr);
  // The geometry the raw outputs were computed with (set by preprocess, or directly).
  void set_geometry(const RetinaFaceGeometry& geometry) { geometry_ = geometry; has_geometry_ = true; }
  const RetinaFaceGeometry& geometry() const { return geometry_; }

  // loc: A * 4, conf: A * 2, landmarks: A * 10 (batch item 0). `out` is cleared first.
  Status postprocess(const float* loc, const float* conf, const float* landmarks, int num_priors,
                     std::vector<Detection>& out);

  // FaceDetector: input 0; outputs 0 (boxes), 1 (scores), 2 (landmarks).
  Status preprocess(const kernels::ImageView& image, ModelRunner& runner, ThreadPool* pool) override;
  Status postprocess(const ModelRunner& runner, std::vector<Detection>& out) override;

 private:
  struct Candidate {
    float x1, y1, x2, y2, score;
    float landmarks[10];
  };

  RetinaFaceConfig config_;
  RetinaFaceGeometry geometry_;
  bool has_geometry_ = false;
  std::vector<Candidate> candidates_;  // grows only when a frame has more candidates than any before
  std::vector<int> order_;
  std::vector<unsigned char> suppressed_;
};

}  // namespace facepipe::face
