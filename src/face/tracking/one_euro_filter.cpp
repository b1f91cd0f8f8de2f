#include "face/tracking/one_euro_filter.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

#include "common/status.h"

namespace facepipe::face {
namespace {

double smoothing_alpha(double cutoff_hz, double frequency_hz) {
  const double te = 1.0 / frequency_hz;
  const double tau = 1.0 / (2.0 * std::numbers::pi * cutoff_hz);
  return 1.0 / (1.0 + tau / te);
}

}  // namespace

OneEuroFilterBank::OneEuroFilterBank(int num_channels, const OneEuroParams& params)
    : params_(params), state_(static_cast<size_t>(std::max(num_channels, 0))), frequency_(params.frequency) {
  if (num_channels < 0) throw Error("one-euro filter: negative channel count");
  if (!(params.min_cutoff > 0) || !(params.derivative_cutoff > 0) || !(params.frequency > 0) || !(params.beta >= 0))
    throw Error("one-euro filter: min_cutoff, derivative_cutoff and frequency must be > 0 and beta >= 0 (got " +
                std::to_string(params.min_cutoff) + ", " + std::to_string(params.derivative_cutoff) + ", " +
                std::to_string(params.frequency) + ", beta " + std::to_string(params.beta) + ")");
}

void OneEuroFilterBank::initialize(double timestamp_s, std::span<const float> values) {
  for (size_t i = 0; i < state_.size(); ++i) state_[i] = {values[i], values[i], 0.0};
  last_time_ = timestamp_s;
  frequency_ = params_.frequency;
  initialized_ = true;
}

FilterUpdate OneEuroFilterBank::apply(double timestamp_s, double value_scale, std::span<float> values) {
  const size_t n = std::min(values.size(), state_.size());
  if (!initialized_) {
    initialize(timestamp_s, values);
    return FilterUpdate::kInitialized;
  }
  if (timestamp_s == last_time_) return FilterUpdate::kPassedThrough;
  if (!(timestamp_s > last_time_)) {  // backwards (or NaN): a new sequence
    initialize(timestamp_s, values);
    return FilterUpdate::kRestarted;
  }
  frequency_ = 1.0 / (timestamp_s - last_time_);
  last_time_ = timestamp_s;

  const double speed_alpha = smoothing_alpha(params_.derivative_cutoff, frequency_);
  const double min_cutoff = params_.min_cutoff, beta = params_.beta, freq = frequency_;
  for (size_t i = 0; i < n; ++i) {
    Channel& c = state_[i];
    const double x = values[i];
    const double raw_speed = (x - c.last_raw) * value_scale * freq;
    c.speed += speed_alpha * (raw_speed - c.speed);
    const double cutoff = min_cutoff + beta * std::fabs(c.speed);
    c.filtered += smoothing_alpha(cutoff, freq) * (x - c.filtered);
    c.last_raw = x;
    values[i] = static_cast<float>(c.filtered);
  }
  return FilterUpdate::kFiltered;
}

FaceSmoother::FaceSmoother(const FaceSmootherConfig& config, int num_landmarks)
    : config_(config),
      num_landmarks_(num_landmarks),
      landmark_filter_(3 * num_landmarks, config.landmarks),
      blendshape_filter_(kNumBlendshapes, config.blendshapes),
      scratch_(static_cast<size_t>(3 * num_landmarks)) {}

void FaceSmoother::reset() {
  landmark_filter_.reset();
  blendshape_filter_.reset();
}

FilterUpdate FaceSmoother::apply(double timestamp_s, std::span<Landmark> landmarks, std::span<float> blendshapes) {
  FilterUpdate result = FilterUpdate::kPassedThrough;
  if (config_.smooth_landmarks && static_cast<int>(landmarks.size()) == num_landmarks_ && num_landmarks_ > 0) {
    float x_min = landmarks[0].x, x_max = x_min, y_min = landmarks[0].y, y_max = y_min;
    for (const Landmark& p : landmarks) {
      x_min = std::min(x_min, p.x);
      x_max = std::max(x_max, p.x);
      y_min = std::min(y_min, p.y);
      y_max = std::max(y_max, p.y);
    }
    const float object_scale = 0.5f * ((x_max - x_min) + (y_max - y_min));
    if (object_scale >= config_.min_object_scale) {
      for (int i = 0; i < num_landmarks_; ++i) {
        scratch_[3 * i] = landmarks[i].x;
        scratch_[3 * i + 1] = landmarks[i].y;
        scratch_[3 * i + 2] = landmarks[i].z;
      }
      result = landmark_filter_.apply(timestamp_s, 1.0 / object_scale, scratch_);
      for (int i = 0; i < num_landmarks_; ++i) landmarks[i] = {scratch_[3 * i], scratch_[3 * i + 1], scratch_[3 * i + 2]};
    }
  }
  if (config_.smooth_blendshapes && static_cast<int>(blendshapes.size()) == kNumBlendshapes)
    blendshape_filter_.apply(timestamp_s, 1.0, blendshapes);
  return result;
}

}  // namespace facepipe::face
