// One-euro filter (Casiez, Roussel, Vogel, "1€ Filter: A Simple Speed-based Low-pass Filter for
// Noisy Input in Interactive Systems", CHI 2012): an exponential smoother whose cutoff frequency
// rises with the (smoothed) speed of the signal, so that a still signal is smoothed hard and a moving
// one follows with little lag. The update follows MediaPipe's OneEuroFilter
// (mediapipe/util/filtering/one_euro_filter.cc): the rate comes from the timestamps, the derivative is
// multiplied by a value scale (1 / object size for landmarks), alpha = 1 / (1 + tau / Te) with
// tau = 1 / (2 pi cutoff).
//
// Construction allocates; apply() does not.
#pragma once

#include <span>
#include <vector>

#include "face/types.h"

namespace facepipe::face {

struct OneEuroParams {
  float min_cutoff = 1.0f;         // Hz: cutoff of a still signal (lower: smoother, more lag)
  float beta = 0.0f;               // cutoff increase per unit of speed (higher: less lag when moving)
  float derivative_cutoff = 1.0f;  // Hz: cutoff of the speed estimate
  float frequency = 30.0f;         // Hz: assumed rate until two timestamps give the real one
};

// MediaPipe Face Landmarker's landmark smoothing (face_landmarks_detector_graph.cc,
// ConfigureLandmarksSmoothingCalculator): min cutoff 0.05 Hz, beta 80, derivative cutoff 1 Hz, on
// pixel coordinates with the speed measured in object sizes per second. MediaPipe applies it only
// when num_faces == 1, in VIDEO / LIVE_STREAM mode.
inline constexpr OneEuroParams kMediaPipeLandmarkSmoothing{0.05f, 80.0f, 1.0f, 30.0f};

// What one apply() did.
enum class FilterUpdate {
  kInitialized,    // first sample (or first after reset): passed through, state initialised
  kFiltered,       // normal update
  kPassedThrough,  // timestamp equal to the last one: values unchanged, state untouched (as MediaPipe)
  kRestarted,      // timestamp went backwards (seek, clock reset): state re-initialised from these values
};

// Independent one-euro filters, one per channel, sharing one clock.
class OneEuroFilterBank {
 public:
  OneEuroFilterBank(int num_channels, const OneEuroParams& params);

  // Filters `values` (num_channels() of them) in place. `timestamp_s` in seconds; `value_scale`
  // multiplies the speed before it drives the cutoff (1 for unit-free values).
  FilterUpdate apply(double timestamp_s, double value_scale, std::span<float> values);

  void reset() { initialized_ = false; }
  bool initialized() const { return initialized_; }
  int num_channels() const { return static_cast<int>(state_.size()); }
  const OneEuroParams& params() const { return params_; }

 private:
  struct Channel {
    double filtered = 0;   // x-hat
    double last_raw = 0;   // previous raw value
    double speed = 0;      // filtered derivative
  };
  void initialize(double timestamp_s, std::span<const float> values);

  OneEuroParams params_;
  std::vector<Channel> state_;
  bool initialized_ = false;
  double last_time_ = 0;
  double frequency_ = 30;
};

struct FaceSmootherConfig {
  bool smooth_landmarks = true;
  OneEuroParams landmarks = kMediaPipeLandmarkSmoothing;
  // Below this object size (pixels) smoothing is skipped (MediaPipe's min_allowed_object_scale).
  float min_object_scale = 1e-6f;
  // MediaPipe does not smooth blendshapes; off by default for parity. When on, the scores (0..1)
  // are filtered unscaled; min cutoff 1 Hz and beta 5 keep blinks (about 10 units/s) nearly unlagged.
  bool smooth_blendshapes = false;
  OneEuroParams blendshapes{1.0f, 5.0f, 1.0f, 30.0f};
};

// Smooths one face: its landmarks (x, y, z per point, pixels; the speed is measured in object sizes
// per second, the object size being the mean of the landmarks' bounding-box width and height, as
// MediaPipe's LandmarksSmoothingCalculator does) and its blendshape scores.
class FaceSmoother {
 public:
  explicit FaceSmoother(const FaceSmootherConfig& config, int num_landmarks = kNumLandmarks);

  // In place. `landmarks` must have num_landmarks points; `blendshapes` is empty or 52 scores. Returns
  // what happened to the landmarks (kPassedThrough too when smoothing is off or the face is tiny).
  FilterUpdate apply(double timestamp_s, std::span<Landmark> landmarks, std::span<float> blendshapes);
  void reset();

 private:
  FaceSmootherConfig config_;
  int num_landmarks_;
  OneEuroFilterBank landmark_filter_;
  OneEuroFilterBank blendshape_filter_;
  std::vector<float> scratch_;  // landmarks as x, y, z floats
};

}  // namespace facepipe::face
