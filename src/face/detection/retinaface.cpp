#include "face/detection/retinaface.h"

#include <algorithm>
#include <cmath>

namespace facepipe::face {
namespace {

int ceil_div(int a, int b) { return (a + b - 1) / b; }

}  // namespace

RetinaFace::RetinaFace(RetinaFaceConfig config) : config_(config) {
  for (int s : config_.steps)
    if (s <= 0) throw Error("RetinaFace: steps must be positive");
  if (config_.top_k <= 0 || config_.keep_top_k <= 0) throw Error("RetinaFace: top_k and keep_top_k must be positive");
  if (config_.detection_size < 0) throw Error("RetinaFace: detection size must be >= 0");
  // Enough for a crowded 1080p frame; grows (once) beyond that.
  candidates_.reserve(4096);
  order_.reserve(4096);
  suppressed_.reserve(4096);
}

int RetinaFace::num_priors(int tensor_width, int tensor_height) const {
  int n = 0;
  for (size_t k = 0; k < config_.steps.size(); ++k)
    n += ceil_div(tensor_height, config_.steps[k]) * ceil_div(tensor_width, config_.steps[k]) *
         static_cast<int>(config_.min_sizes[k].size());
  return n;
}

RetinaFaceGeometry RetinaFace::plan(int image_width, int image_height, int fixed_tensor_width,
                                    int fixed_tensor_height) const {
  RetinaFaceGeometry g;
  g.image_width = image_width;
  g.image_height = image_height;
  if (image_width <= 0 || image_height <= 0) return g;
  if (fixed_tensor_width > 0 && fixed_tensor_height > 0) {
    const double s = std::min(static_cast<double>(fixed_tensor_width) / image_width,
                              static_cast<double>(fixed_tensor_height) / image_height);
    g.tensor_width = fixed_tensor_width;
    g.tensor_height = fixed_tensor_height;
    g.content_width = std::clamp(static_cast<int>(std::lround(image_width * s)), 1, fixed_tensor_width);
    g.content_height = std::clamp(static_cast<int>(std::lround(image_height * s)), 1, fixed_tensor_height);
  } else if (config_.detection_size > 0) {
    const double s = static_cast<double>(config_.detection_size) / std::max(image_width, image_height);
    g.content_width = std::max(1, static_cast<int>(std::lround(image_width * s)));
    g.content_height = std::max(1, static_cast<int>(std::lround(image_height * s)));
    g.tensor_width = g.content_width;
    g.tensor_height = g.content_height;
  } else {
    g.tensor_width = g.content_width = image_width;
    g.tensor_height = g.content_height = image_height;
  }
  g.scale_x = static_cast<float>(image_width) / static_cast<float>(g.content_width);
  g.scale_y = static_cast<float>(image_height) / static_cast<float>(g.content_height);
  return g;
}

kernels::PlanarTensorFormat RetinaFace::tensor_format(const RetinaFaceGeometry& g) const {
  kernels::PlanarTensorFormat format;
  format.width = g.tensor_width;
  format.height = g.tensor_height;
  format.content_width = g.content_width;
  format.content_height = g.content_height;
  format.order = kernels::ChannelOrder::kBGR;
  format.mean = config_.mean_bgr;
  format.scale = {1.0f, 1.0f, 1.0f};
  format.pad_value = 0.0f;
  format.filter = config_.resize_filter;
  return format;
}

Status RetinaFace::preprocess(const kernels::ImageView& image, const RetinaFaceGeometry& g, float* input,
                              ThreadPool* pool) {
  FACEPIPE_RETURN_IF_ERROR(kernels::validate(image));
  if (g.image_width != image.width || g.image_height != image.height)
    return Status::error(StatusCode::kInvalidArgument, "RetinaFace: geometry was planned for another image size");
  FACEPIPE_RETURN_IF_ERROR(kernels::resize_to_planar_tensor(image, tensor_format(g), input, pool));
  set_geometry(g);
  return Status::ok();
}

Status RetinaFace::postprocess(const float* loc, const float* conf, const float* landmarks, int num_priors_given,
                               std::vector<Detection>& out) {
  out.clear();
  if (loc == nullptr || conf == nullptr || landmarks == nullptr)
    return Status::error(StatusCode::kInvalidArgument, "RetinaFace: null output tensor");
  if (!has_geometry_) return Status::error(StatusCode::kInvalidArgument, "RetinaFace: geometry not set");
  const RetinaFaceGeometry& g = geometry_;
  if (num_priors_given != num_priors(g.tensor_width, g.tensor_height))
    return Status::error(StatusCode::kInvalidArgument, "RetinaFace: output size does not match the input geometry");

  // Priors in tensor-normalized units, generated in the network's order (stride, row, column, size)
  // and decoded only for scores above the threshold.
  candidates_.clear();
  const float tw = static_cast<float>(g.tensor_width), th = static_cast<float>(g.tensor_height);
  const float v0 = config_.variances[0], v1 = config_.variances[1];
  int index = 0;
  for (size_t level = 0; level < config_.steps.size(); ++level) {
    const int step = config_.steps[level];
    const int rows = ceil_div(g.tensor_height, step), cols = ceil_div(g.tensor_width, step);
    for (int i = 0; i < rows; ++i) {
      for (int j = 0; j < cols; ++j) {
        for (float min_size : config_.min_sizes[level]) {
          const int a = index++;
          const float score = conf[2 * a + 1];
          if (!(score > config_.confidence_threshold)) continue;
          const float pcx = (static_cast<float>(j) + 0.5f) * static_cast<float>(step) / tw;
          const float pcy = (static_cast<float>(i) + 0.5f) * static_cast<float>(step) / th;
          const float pw = min_size / tw, ph = min_size / th;
          const float* l = loc + 4 * static_cast<int64_t>(a);
          const float cx = pcx + l[0] * v0 * pw;
          const float cy = pcy + l[1] * v0 * ph;
          const float w = pw * std::exp(l[2] * v1);
          const float h = ph * std::exp(l[3] * v1);
          Candidate c;
          // Tensor-normalized → tensor pixels → image pixels.
          const float sx = tw * g.scale_x, sy = th * g.scale_y;
          c.x1 = (cx - w / 2) * sx;
          c.y1 = (cy - h / 2) * sy;
          c.x2 = (cx + w / 2) * sx;
          c.y2 = (cy + h / 2) * sy;
          c.score = score;
          const float* lm = landmarks + 10 * static_cast<int64_t>(a);
          for (int k = 0; k < 5; ++k) {
            c.landmarks[2 * k] = (pcx + lm[2 * k] * v0 * pw) * sx;
            c.landmarks[2 * k + 1] = (pcy + lm[2 * k + 1] * v0 * ph) * sy;
          }
          candidates_.push_back(c);
        }
      }
    }
  }

  // Highest scores first, top_k of them, then greedy NMS with the reference's "+1" pixel areas.
  order_.clear();
  for (int i = 0; i < static_cast<int>(candidates_.size()); ++i) order_.push_back(i);
  std::sort(order_.begin(), order_.end(), [this](int a, int b) {
    const float sa = candidates_[static_cast<size_t>(a)].score, sb = candidates_[static_cast<size_t>(b)].score;
    return sa != sb ? sa > sb : a < b;
  });
  if (static_cast<int>(order_.size()) > config_.top_k) order_.resize(static_cast<size_t>(config_.top_k));
  suppressed_.assign(order_.size(), 0);
  for (size_t i = 0; i < order_.size(); ++i) {
    if (suppressed_[i]) continue;
    const Candidate& c = candidates_[static_cast<size_t>(order_[i])];
    if (static_cast<int>(out.size()) < config_.keep_top_k) {
      Detection d;
      d.box = BoundingBox{c.x1, c.y1, c.x2, c.y2};
      d.score = c.score;
      d.num_keypoints = 5;
      for (int k = 0; k < 5; ++k) d.keypoints[static_cast<size_t>(k)] = Point2{c.landmarks[2 * k], c.landmarks[2 * k + 1]};
      out.push_back(d);
    } else {
      break;
    }
    const float area_c = (c.x2 - c.x1 + 1) * (c.y2 - c.y1 + 1);
    for (size_t j = i + 1; j < order_.size(); ++j) {
      if (suppressed_[j]) continue;
      const Candidate& o = candidates_[static_cast<size_t>(order_[j])];
      const float w = std::max(0.0f, std::min(c.x2, o.x2) - std::max(c.x1, o.x1) + 1);
      const float h = std::max(0.0f, std::min(c.y2, o.y2) - std::max(c.y1, o.y1) + 1);
      const float inter = w * h;
      const float area_o = (o.x2 - o.x1 + 1) * (o.y2 - o.y1 + 1);
      if (inter / (area_c + area_o - inter) > config_.nms_threshold) suppressed_[j] = 1;
    }
  }
  return Status::ok();
}

Status RetinaFace::preprocess(const kernels::ImageView& image, ModelRunner& runner, ThreadPool* pool) {
  FACEPIPE_RETURN_IF_ERROR(kernels::validate(image));
  if (runner.num_inputs() < 1) return Status::error(StatusCode::kInvalidArgument, "RetinaFace: model has no input");
  const TensorShape current = runner.input_shape(0);
  if (current.rank != 4) return Status::error(StatusCode::kInvalidArgument, "RetinaFace: input must be NCHW");
  // Ask for the planned size (a dynamic-shape model takes it); a model with a static input refuses
  // and gets the image fitted into its fixed size instead.
  RetinaFaceGeometry g = plan(image.width, image.height);
  const TensorShape want{1, 3, g.tensor_height, g.tensor_width};
  if (!(current == want)) {
    const Status reshaped = runner.set_input_shape(0, want);
    if (!reshaped.is_ok()) {
      if (reshaped.code() != StatusCode::kUnsupported || current[2] <= 0 || current[3] <= 0) return reshaped;
      g = plan(image.width, image.height, static_cast<int>(current[3]), static_cast<int>(current[2]));
    }
  }
  float* input = runner.input(0);
  if (input == nullptr) return Status::error(StatusCode::kInternal, "RetinaFace: runner gave no input buffer");
  return preprocess(image, g, input, pool);
}

Status RetinaFace::postprocess(const ModelRunner& runner, std::vector<Detection>& out) {
  out.clear();
  if (runner.num_outputs() < 3) return Status::error(StatusCode::kInvalidArgument, "RetinaFace: model needs 3 outputs");
  if (!has_geometry_) return Status::error(StatusCode::kInvalidArgument, "RetinaFace: geometry not set");
  const int64_t a = num_priors(geometry_.tensor_width, geometry_.tensor_height);
  if (runner.output_shape(0).elements() < a * 4 || runner.output_shape(1).elements() < a * 2 ||
      runner.output_shape(2).elements() < a * 10)
    return Status::error(StatusCode::kInvalidArgument, "RetinaFace: output shapes do not match the input geometry");
  return postprocess(runner.output(0), runner.output(1), runner.output(2), static_cast<int>(a), out);
}

}  // namespace facepipe::face
