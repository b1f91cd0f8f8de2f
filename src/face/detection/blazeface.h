// BlazeFace (MediaPipe's face detector): SSD anchors, box/keypoint decoding, weighted NMS and
// letterbox removal, with MediaPipe's parameters (docs/face_detection.md lists them and their source).
//
//   short range (face_detector.tflite in face_landmarker.task): 128x128 input, 896 anchors
//   full range (face_detection_full_range.tflite):               192x192 input, 2304 anchors
//
// Input: the whole image letterboxed (aspect kept, centred, zero border) into the square tensor,
// RGB in [-1, 1]. Outputs: regressors [1, N, 16] (box centre x, y, w, h, then 6 keypoints x, y, in
// input pixels relative to the anchor) and classificators [1, N, 1] (logits).
// Detections come out in image pixels, sorted as MediaPipe sorts them (by the score of the
// strongest box of each cluster, descending), keypoints: right eye, left eye (index 0 is the eye on
// the image's left), nose tip, mouth centre, right ear tragion, left ear tragion.
#pragma once

#include <vector>

#include "face/detection/face_detector.h"
#include "kernels/image_to_tensor.h"

namespace facepipe::face {

// MediaPipe's SsdAnchorsCalculatorOptions (the non-multiscale generator).
struct SsdAnchorOptions {
  int input_width = 128, input_height = 128;
  float min_scale = 0.1484375f, max_scale = 0.75f;
  float anchor_offset_x = 0.5f, anchor_offset_y = 0.5f;
  std::vector<int> strides;
  std::vector<float> aspect_ratios{1.0f};
  bool fixed_anchor_size = true;
  float interpolated_scale_aspect_ratio = 1.0f;
  bool reduce_boxes_in_lowest_layer = false;
};

// Normalized to the input size (x_center, y_center in [0, 1]).
struct Anchor {
  float x_center = 0, y_center = 0, w = 0, h = 0;
};

// Throws facepipe::Error on inconsistent options (start-up code).
std::vector<Anchor> generate_ssd_anchors(const SsdAnchorOptions& options);

struct BlazeFaceConfig {
  SsdAnchorOptions anchors;
  int num_boxes = 896;
  int num_keypoints = 6;             // num_coords = 4 + 2 * num_keypoints
  float x_scale = 128, y_scale = 128, w_scale = 128, h_scale = 128;
  float score_clipping_thresh = 100;  // logits clipped to +-this before the sigmoid
  float min_score_thresh = 0.5f;      // tasks' min_detection_confidence
  float min_suppression_threshold = 0.3f;  // IoU above which boxes are merged (weighted NMS)
  int max_detections = 0;             // num_faces: keep the first N after NMS; 0 = all

  static BlazeFaceConfig short_range();
  static BlazeFaceConfig full_range();
  int num_coords() const { return 4 + 2 * num_keypoints; }
};

class BlazeFace : public FaceDetector {
 public:
  explicit BlazeFace(BlazeFaceConfig config = BlazeFaceConfig::short_range());

  const BlazeFaceConfig& config() const { return config_; }
  const std::vector<Anchor>& anchors() const { return anchors_; }
  int input_width() const { return config_.anchors.input_width; }
  int input_height() const { return config_.anchors.input_height; }

  // Letterboxes `image` into `input` (input_height * input_width * 3 floats) and records the
  // covered region for postprocess.
  Status preprocess(const kernels::ImageView& image, float* input, ThreadPool* pool = nullptr);

  // The image region that the input tensor covers (set by preprocess; set it directly when the
  // tensor was made elsewhere). Must be set before postprocess.
  void set_input_region(const kernels::RotatedRect& region) { region_ = region; has_region_ = true; }
  const kernels::RotatedRect& input_region() const { return region_; }

  // Decodes the two raw outputs (num_boxes * num_coords and num_boxes floats), runs weighted NMS and
  // maps the result into image pixels. `out` is cleared first.
  Status postprocess(const float* regressors, const float* classificators, std::vector<Detection>& out);

  // FaceDetector: input 0, outputs 0 (regressors) and 1 (classificators).
  Status preprocess(const kernels::ImageView& image, ModelRunner& runner, ThreadPool* pool) override;
  Status postprocess(const ModelRunner& runner, std::vector<Detection>& out) override;

 private:
  // A decoded box in input-normalized coordinates.
  struct Candidate {
    float xmin, ymin, xmax, ymax;
    float score;
    float keypoints[2 * kMaxDetectionKeypoints];
  };

  void weighted_nms();

  BlazeFaceConfig config_;
  std::vector<Anchor> anchors_;
  kernels::RotatedRect region_;
  bool has_region_ = false;
  // Scratch, sized at construction.
  std::vector<Candidate> candidates_;
  std::vector<int> remaining_, rest_, cluster_;
  std::vector<Candidate> merged_;
};

}  // namespace facepipe::face
