// The face pipeline on the CPU: detector → ROI → landmark network → blendshapes → head pose, for
// still images (MediaPipe's IMAGE mode: every face from the detector) and for video frames
// (VIDEO mode: faces followed through the ROI of their previous landmarks, the detector only when a
// face is missing, stable ids, optional smoothing).
//
// Construction loads and plans the models (throws facepipe::Error with a clear message); the
// per-frame calls return a Status and allocate nothing once the image size is stable (RetinaFace
// re-plans when the image size changes).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/thread_pool.h"
#include "face/detection/face_detector.h"
#include "face/geometry/face_geometry.h"
#include "face/pipeline/engine_model_runner.h"
#include "face/tracking/face_tracker.h"
#include "face/types.h"
#include "kernels/image_to_tensor.h"
#include "kernels/image_view.h"

namespace facepipe::face {

enum class DetectorKind { kBlazeFace, kBlazeFaceFullRange, kRetinaFace };
const char* detector_name(DetectorKind kind);
// "blazeface", "blazeface-full", "retinaface"; throws facepipe::Error on anything else.
DetectorKind parse_detector(const std::string& name);

struct FacePipelineConfig {
  DetectorKind detector = DetectorKind::kBlazeFace;
  int max_faces = 10;                    // faces per frame (video: at most kMaxTrackedFaces)
  float min_detection_confidence = 0.5f;
  float min_presence = 0.5f;             // landmark network's face presence threshold
  int detection_size = 640;              // RetinaFace: long side of the network input; 0 = native size
  std::string models_dir;                // --models; empty: the model locator's default search
  std::string landmark_model;            // FILE[:member]; empty: the v2 network of face_landmarker.task
  bool blendshapes = true;
  bool pose = true;
  int threads = 0;                       // 0: all cores
  // Video mode.
  int detection_interval = 10;           // frames between detector runs while faces are missing
  bool smoothing = true;                 // one-euro filter on landmarks (and blendshapes if below)
  bool smooth_blendshapes = false;
  OneEuroParams landmark_filter = kMediaPipeLandmarkSmoothing;
};

// Where the last frame's time went (milliseconds, wall clock).
struct StageTimes {
  double detect_ms = 0;       // preprocessing, network, decoding
  double landmarks_ms = 0;    // crops, network, projection (all faces)
  double blendshapes_ms = 0;  // all faces
  double pose_ms = 0;         // all faces
  double total_ms = 0;
  bool detector_ran = false;
};

class FacePipeline {
 public:
  explicit FacePipeline(const FacePipelineConfig& config);
  ~FacePipeline();

  // Still image (RGB or BGR view): every face the detector finds, up to max_faces, strongest first.
  Status process_image(const kernels::ImageView& image);
  // One video frame with tracking; timestamps in seconds, increasing.
  Status process_frame(const kernels::ImageView& image, double timestamp_s);
  // Forget the tracked faces (a new video).
  void reset_tracking();

  // The detector's output for the last image (or video frame on which it ran), strongest first.
  std::span<const Detection> detections() const { return detections_; }
  // The faces of the last processed image or frame.
  std::span<const FaceResult> faces() const { return {faces_.data(), static_cast<size_t>(num_faces_)}; }

  const StageTimes& stage_times() const { return times_; }
  const FacePipelineConfig& config() const { return config_; }
  int landmark_count() const { return num_landmarks_; }  // 478 (v2) or 468 (v1)
  bool has_blendshapes() const { return blendshapes_ != nullptr; }
  ThreadPool& thread_pool() { return pool_; }

 private:
  // Runs the landmark network (and blendshapes, pose) on `roi`; returns false when no face is there.
  Status run_landmarks(const kernels::ImageView& image, const kernels::RotatedRect& roi, FaceResult& face,
                       bool& present);
  Status detect(const kernels::ImageView& image);
  kernels::RotatedRect detection_roi(const Detection& d) const;
  void finish_face(const kernels::ImageView& image, FaceResult& face);

  FacePipelineConfig config_;
  // RetinaFace's large layers scale over cores; the small MediaPipe networks (sub-0.1 ms layers) run
  // faster on one thread than split across two (measured: docs/benchmarks.md), so they get their own.
  ThreadPool pool_;
  ThreadPool small_pool_{1};
  std::unique_ptr<FaceDetector> detector_;
  std::unique_ptr<EngineModelRunner> detector_runner_;
  std::unique_ptr<EngineModelRunner> landmarks_;
  std::unique_ptr<EngineModelRunner> blendshapes_;
  std::unique_ptr<FaceGeometryEstimator> geometry_;
  std::unique_ptr<FaceTracker> tracker_;
  int landmark_input_size_ = 256;
  int num_landmarks_ = kNumLandmarks;

  std::vector<Detection> detections_;
  std::vector<Roi> detection_rois_;
  std::vector<FaceResult> scratch_;          // per planned ROI (video)
  std::vector<LandmarkResult> results_;      // per planned ROI (video)
  std::vector<FaceResult> faces_;            // output
  int num_faces_ = 0;
  StageTimes times_;
};

}  // namespace facepipe::face
