#include "face/detection/blazeface.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace facepipe::face {
namespace {

float anchor_scale(float min_scale, float max_scale, int stride_index, int num_strides) {
  if (num_strides == 1) return (min_scale + max_scale) * 0.5f;
  return min_scale + (max_scale - min_scale) * 1.0f * static_cast<float>(stride_index) /
                         (static_cast<float>(num_strides) - 1.0f);
}

}  // namespace

std::vector<Anchor> generate_ssd_anchors(const SsdAnchorOptions& o) {
  if (o.strides.empty()) throw Error("SSD anchors: no strides given");
  if (o.input_width <= 0 || o.input_height <= 0) throw Error("SSD anchors: input size must be positive");
  for (int s : o.strides)
    if (s <= 0) throw Error("SSD anchors: strides must be positive");
  const int num_layers = static_cast<int>(o.strides.size());

  std::vector<Anchor> anchors;
  int layer = 0;
  while (layer < num_layers) {
    // Consecutive layers with the same stride share one feature map: their anchors interleave per cell.
    std::vector<float> widths, heights;
    int last = layer;
    while (last < num_layers && o.strides[static_cast<size_t>(last)] == o.strides[static_cast<size_t>(layer)]) {
      const float scale = anchor_scale(o.min_scale, o.max_scale, last, num_layers);
      std::vector<std::pair<float, float>> ratio_scale;  // (aspect ratio, scale)
      if (last == 0 && o.reduce_boxes_in_lowest_layer) {
        ratio_scale = {{1.0f, 0.1f}, {2.0f, scale}, {0.5f, scale}};
      } else {
        for (float ar : o.aspect_ratios) ratio_scale.emplace_back(ar, scale);
        if (o.interpolated_scale_aspect_ratio > 0.0f) {
          const float next = last == num_layers - 1 ? 1.0f : anchor_scale(o.min_scale, o.max_scale, last + 1, num_layers);
          ratio_scale.emplace_back(o.interpolated_scale_aspect_ratio, std::sqrt(scale * next));
        }
      }
      for (auto [ar, sc] : ratio_scale) {
        const float r = std::sqrt(ar);
        heights.push_back(sc / r);
        widths.push_back(sc * r);
      }
      ++last;
    }
    const int stride = o.strides[static_cast<size_t>(layer)];
    const int fm_h = static_cast<int>(std::ceil(1.0f * static_cast<float>(o.input_height) / static_cast<float>(stride)));
    const int fm_w = static_cast<int>(std::ceil(1.0f * static_cast<float>(o.input_width) / static_cast<float>(stride)));
    for (int y = 0; y < fm_h; ++y) {
      for (int x = 0; x < fm_w; ++x) {
        for (size_t k = 0; k < widths.size(); ++k) {
          Anchor a;
          a.x_center = (static_cast<float>(x) + o.anchor_offset_x) * 1.0f / static_cast<float>(fm_w);
          a.y_center = (static_cast<float>(y) + o.anchor_offset_y) * 1.0f / static_cast<float>(fm_h);
          a.w = o.fixed_anchor_size ? 1.0f : widths[k];
          a.h = o.fixed_anchor_size ? 1.0f : heights[k];
          anchors.push_back(a);
        }
      }
    }
    layer = last;
  }
  return anchors;
}

BlazeFaceConfig BlazeFaceConfig::short_range() {
  // face_detector_graph.cc (tasks) and face_detection_short_range.pbtxt.
  BlazeFaceConfig c;
  c.anchors.input_width = c.anchors.input_height = 128;
  c.anchors.min_scale = 0.1484375f;
  c.anchors.max_scale = 0.75f;
  c.anchors.anchor_offset_x = c.anchors.anchor_offset_y = 0.5f;
  c.anchors.strides = {8, 16, 16, 16};
  c.anchors.aspect_ratios = {1.0f};
  c.anchors.fixed_anchor_size = true;
  c.anchors.interpolated_scale_aspect_ratio = 1.0f;
  c.num_boxes = 896;
  c.num_keypoints = 6;
  c.x_scale = c.y_scale = c.w_scale = c.h_scale = 128.0f;
  c.score_clipping_thresh = 100.0f;
  c.min_score_thresh = 0.5f;
  c.min_suppression_threshold = 0.3f;
  return c;
}

BlazeFaceConfig BlazeFaceConfig::full_range() {
  // face_detection_full_range.pbtxt (+ face_detection.pbtxt for the shared options).
  BlazeFaceConfig c = short_range();
  c.anchors.input_width = c.anchors.input_height = 192;
  c.anchors.strides = {4};
  c.anchors.interpolated_scale_aspect_ratio = 0.0f;
  c.num_boxes = 2304;
  c.x_scale = c.y_scale = c.w_scale = c.h_scale = 192.0f;
  c.min_score_thresh = 0.6f;
  return c;
}

BlazeFace::BlazeFace(BlazeFaceConfig config) : config_(std::move(config)) {
  if (config_.num_keypoints < 0 || config_.num_keypoints > kMaxDetectionKeypoints)
    throw Error("BlazeFace: num_keypoints must be in [0, " + std::to_string(kMaxDetectionKeypoints) + "]");
  anchors_ = generate_ssd_anchors(config_.anchors);
  if (static_cast<int>(anchors_.size()) != config_.num_boxes)
    throw Error("BlazeFace: anchor options give " + std::to_string(anchors_.size()) + " anchors, the model has " +
                std::to_string(config_.num_boxes));
  const size_t n = static_cast<size_t>(config_.num_boxes);
  candidates_.reserve(n);
  remaining_.reserve(n);
  rest_.reserve(n);
  cluster_.reserve(n);
  merged_.reserve(n);
}

Status BlazeFace::preprocess(const kernels::ImageView& image, float* input, ThreadPool* pool) {
  FACEPIPE_RETURN_IF_ERROR(kernels::validate(image));
  const kernels::RotatedRect region = kernels::letterbox_rect(image.width, image.height, input_width(), input_height());
  const kernels::TensorFormat format =
      kernels::tensor_format_signed_range(input_width(), input_height(), kernels::BorderMode::kZero);
  FACEPIPE_RETURN_IF_ERROR(kernels::warp_to_tensor(image, region, format, input, pool));
  set_input_region(region);
  return Status::ok();
}

namespace {

// MediaPipe's OverlapSimilarity(INTERSECTION_OVER_UNION) on Rectangle_f.
template <typename Box>
float iou(const Box& a, const Box& b) {
  const bool empty_a = a.xmin > a.xmax || a.ymin > a.ymax;
  const bool empty_b = b.xmin > b.xmax || b.ymin > b.ymax;
  if (empty_a || empty_b || b.xmax < a.xmin || a.xmax < b.xmin || b.ymax < a.ymin || a.ymax < b.ymin) return 0.0f;
  const float ix = std::min(a.xmax, b.xmax) - std::max(a.xmin, b.xmin);
  const float iy = std::min(a.ymax, b.ymax) - std::max(a.ymin, b.ymin);
  const float inter = ix * iy;
  const float norm = (a.xmax - a.xmin) * (a.ymax - a.ymin) + (b.xmax - b.xmin) * (b.ymax - b.ymin) - inter;
  return norm > 0.0f ? inter / norm : 0.0f;
}

}  // namespace

void BlazeFace::weighted_nms() {
  // NonMaxSuppressionCalculator, algorithm WEIGHTED: take the best remaining box, merge every
  // remaining box overlapping it by more than the threshold (itself included) into a
  // score-weighted average of corners and keypoints; the merged box keeps the best box's score.
  merged_.clear();
  remaining_.clear();
  for (int i = 0; i < static_cast<int>(candidates_.size()); ++i) remaining_.push_back(i);
  std::sort(remaining_.begin(), remaining_.end(),
            [this](int a, int b) { return candidates_[static_cast<size_t>(a)].score > candidates_[static_cast<size_t>(b)].score; });
  const int nk = config_.num_keypoints;
  while (!remaining_.empty()) {
    const Candidate& best = candidates_[static_cast<size_t>(remaining_.front())];
    rest_.clear();
    cluster_.clear();
    for (int idx : remaining_) {
      if (iou(candidates_[static_cast<size_t>(idx)], best) > config_.min_suppression_threshold) {
        cluster_.push_back(idx);
      } else {
        rest_.push_back(idx);
      }
    }
    Candidate m = best;
    if (!cluster_.empty()) {
      float total = 0, xmin = 0, ymin = 0, xmax = 0, ymax = 0;
      float kp[2 * kMaxDetectionKeypoints] = {};
      for (int idx : cluster_) {
        const Candidate& c = candidates_[static_cast<size_t>(idx)];
        total += c.score;
        xmin += c.xmin * c.score;
        ymin += c.ymin * c.score;
        xmax += c.xmax * c.score;
        ymax += c.ymax * c.score;
        for (int k = 0; k < 2 * nk; ++k) kp[k] += c.keypoints[k] * c.score;
      }
      m.xmin = xmin / total;
      m.ymin = ymin / total;
      m.xmax = xmax / total;
      m.ymax = ymax / total;
      for (int k = 0; k < 2 * nk; ++k) m.keypoints[k] = kp[k] / total;
    }
    merged_.push_back(m);
    if (rest_.size() == remaining_.size()) break;  // nothing merged (degenerate box): stop like MediaPipe
    remaining_.swap(rest_);
  }
}

Status BlazeFace::postprocess(const float* regressors, const float* classificators, std::vector<Detection>& out) {
  out.clear();
  if (regressors == nullptr || classificators == nullptr)
    return Status::error(StatusCode::kInvalidArgument, "BlazeFace: null output tensor");
  if (!has_region_) return Status::error(StatusCode::kInvalidArgument, "BlazeFace: input region not set");

  // TensorsToDetectionsCalculator: sigmoid(clip(logit)), threshold, decode (XYWH order).
  candidates_.clear();
  const int nc = config_.num_coords();
  const int nk = config_.num_keypoints;
  const float clip = config_.score_clipping_thresh;
  for (int i = 0; i < config_.num_boxes; ++i) {
    float logit = classificators[i];
    logit = logit < -clip ? -clip : logit;
    logit = logit > clip ? clip : logit;
    const float score = 1.0f / (1.0f + std::exp(-logit));
    if (!(score >= config_.min_score_thresh)) continue;
    const Anchor& a = anchors_[static_cast<size_t>(i)];
    const float* r = regressors + static_cast<int64_t>(i) * nc;
    const float xc = r[0] / config_.x_scale * a.w + a.x_center;
    const float yc = r[1] / config_.y_scale * a.h + a.y_center;
    const float w = r[2] / config_.w_scale * a.w;
    const float h = r[3] / config_.h_scale * a.h;
    Candidate c;
    c.ymin = yc - h / 2.f;
    c.xmin = xc - w / 2.f;
    c.ymax = yc + h / 2.f;
    c.xmax = xc + w / 2.f;
    const float bw = c.xmax - c.xmin, bh = c.ymax - c.ymin;
    if (bw < 0 || bh < 0 || std::isnan(bw) || std::isnan(bh)) continue;  // MediaPipe drops these
    c.score = score;
    for (int k = 0; k < nk; ++k) {
      c.keypoints[2 * k] = r[4 + 2 * k] / config_.x_scale * a.w + a.x_center;
      c.keypoints[2 * k + 1] = r[4 + 2 * k + 1] / config_.y_scale * a.h + a.y_center;
    }
    candidates_.push_back(c);
  }
  if (candidates_.empty()) return Status::ok();

  weighted_nms();

  // DetectionProjectionCalculator: input-normalized → image pixels through the letterbox region
  // (box corners projected, then their bounding box, so a rotated region also works).
  const kernels::AffineTransform t = kernels::rect_to_image_transform(region_, 1, 1);
  size_t count = merged_.size();
  if (config_.max_detections > 0) count = std::min(count, static_cast<size_t>(config_.max_detections));
  for (size_t i = 0; i < count; ++i) {
    const Candidate& c = merged_[i];
    Detection d;
    double xs[4], ys[4];
    t.apply(c.xmin, c.ymin, xs[0], ys[0]);
    t.apply(c.xmax, c.ymin, xs[1], ys[1]);
    t.apply(c.xmax, c.ymax, xs[2], ys[2]);
    t.apply(c.xmin, c.ymax, xs[3], ys[3]);
    d.box.x1 = static_cast<float>(*std::min_element(xs, xs + 4));
    d.box.x2 = static_cast<float>(*std::max_element(xs, xs + 4));
    d.box.y1 = static_cast<float>(*std::min_element(ys, ys + 4));
    d.box.y2 = static_cast<float>(*std::max_element(ys, ys + 4));
    d.score = c.score;
    d.num_keypoints = nk;
    for (int k = 0; k < nk; ++k) {
      double x, y;
      t.apply(c.keypoints[2 * k], c.keypoints[2 * k + 1], x, y);
      d.keypoints[static_cast<size_t>(k)] = Point2{static_cast<float>(x), static_cast<float>(y)};
    }
    out.push_back(d);
  }
  return Status::ok();
}

Status BlazeFace::preprocess(const kernels::ImageView& image, ModelRunner& runner, ThreadPool* pool) {
  if (runner.num_inputs() < 1) return Status::error(StatusCode::kInvalidArgument, "BlazeFace: model has no input");
  const TensorShape want{1, input_height(), input_width(), 3};
  if (!(runner.input_shape(0) == want)) FACEPIPE_RETURN_IF_ERROR(runner.set_input_shape(0, want));
  float* input = runner.input(0);
  if (input == nullptr) return Status::error(StatusCode::kInternal, "BlazeFace: runner gave no input buffer");
  return preprocess(image, input, pool);
}

Status BlazeFace::postprocess(const ModelRunner& runner, std::vector<Detection>& out) {
  out.clear();
  if (runner.num_outputs() < 2) return Status::error(StatusCode::kInvalidArgument, "BlazeFace: model needs 2 outputs");
  const int64_t boxes = config_.num_boxes;
  if (runner.output_shape(0).elements() != boxes * config_.num_coords() || runner.output_shape(1).elements() != boxes)
    return Status::error(StatusCode::kInvalidArgument, "BlazeFace: output shapes do not match the anchor count");
  return postprocess(runner.output(0), runner.output(1), out);
}

}  // namespace facepipe::face
