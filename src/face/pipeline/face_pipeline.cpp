#include "face/pipeline/face_pipeline.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

#include "face/blendshapes/blendshape_input.h"
#include "face/detection/blazeface.h"
#include "face/detection/retinaface.h"
#include "face/pipeline/face_models.h"
#include "face/roi/roi.h"

namespace facepipe::face {

namespace {

// Adds the scope's wall time to a counter.
class StageTimer {
 public:
  explicit StageTimer(double& total_ms) : total_ms_(total_ms), start_(std::chrono::steady_clock::now()) {}
  ~StageTimer() { total_ms_ += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count(); }
  StageTimer(const StageTimer&) = delete;
  StageTimer& operator=(const StageTimer&) = delete;

 private:
  double& total_ms_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

const char* detector_name(DetectorKind kind) {
  switch (kind) {
    case DetectorKind::kBlazeFace: return "blazeface";
    case DetectorKind::kBlazeFaceFullRange: return "blazeface-full";
    case DetectorKind::kRetinaFace: return "retinaface";
  }
  return "?";
}

DetectorKind parse_detector(const std::string& name) {
  if (name == "blazeface") return DetectorKind::kBlazeFace;
  if (name == "blazeface-full") return DetectorKind::kBlazeFaceFullRange;
  if (name == "retinaface") return DetectorKind::kRetinaFace;
  throw Error("unknown detector '" + name + "' (choose blazeface, blazeface-full or retinaface)");
}

FacePipeline::FacePipeline(const FacePipelineConfig& config)
    : config_(config), pool_(config.threads > 0 ? config.threads : default_thread_count()) {
  FaceModels models = load_face_models(config_);
  if (config_.detector == DetectorKind::kRetinaFace) {
    detector_runner_ = std::make_unique<EngineModelRunner>(models.detector, &pool_);
    detector_ = std::make_unique<RetinaFace>(models.retinaface);
  } else {
    detector_runner_ = std::make_unique<EngineModelRunner>(models.detector, &small_pool_);
    detector_ = std::make_unique<BlazeFace>(models.blazeface);
  }
  landmarks_ = std::make_unique<EngineModelRunner>(models.landmarks, &small_pool_);
  landmark_input_size_ = models.landmark_input_size;
  num_landmarks_ = models.num_landmarks;
  if (models.blendshapes) blendshapes_ = std::make_unique<EngineModelRunner>(models.blendshapes, &small_pool_);
  geometry_ = std::move(models.geometry);
  tracker_ = std::make_unique<FaceTracker>(make_tracker_config(config_));

  const auto capacity = static_cast<size_t>(std::max(config_.max_faces, kMaxTrackedFaces));
  detections_.reserve(std::max<size_t>(capacity, 256));
  detection_rois_.reserve(std::max<size_t>(capacity, 256));
  scratch_.resize(static_cast<size_t>(kMaxTrackedFaces));
  results_.resize(static_cast<size_t>(kMaxTrackedFaces));
  faces_.resize(capacity);
}

FacePipeline::~FacePipeline() = default;

void FacePipeline::reset_tracking() { tracker_->reset(); }

kernels::RotatedRect FacePipeline::detection_roi(const Detection& d) const {
  return config_.detector == DetectorKind::kRetinaFace ? roi_from_retinaface_detection(d) : roi_from_detection(d);
}

Status FacePipeline::detect(const kernels::ImageView& image) {
  const StageTimer timer(times_.detect_ms);
  times_.detector_ran = true;
  detections_.clear();
  return detector_->detect(image, *detector_runner_, detections_, &pool_);
}

Status FacePipeline::run_landmarks(const kernels::ImageView& image, const kernels::RotatedRect& roi, FaceResult& face,
                                   bool& present) {
  present = false;
  std::optional<StageTimer> timer(std::in_place, times_.landmarks_ms);
  FACEPIPE_RETURN_IF_ERROR(crop_landmark_input(image, roi, landmarks_->input(0), landmark_input_size_, &small_pool_));
  FACEPIPE_RETURN_IF_ERROR(landmarks_->run());
  face.presence = face_presence_score(landmarks_->output(1)[0]);
  present = face.presence >= config_.min_presence;
  // Only the RetinaFace path reports faces the landmark network doubts; elsewhere they are dropped,
  // so their points, blendshapes and pose are not worth computing.
  if (!present && config_.detector != DetectorKind::kRetinaFace) return Status::ok();
  face.num_landmarks = num_landmarks_;
  project_landmarks(landmarks_->output(0), num_landmarks_, roi, face.landmarks.data(), landmark_input_size_,
                    static_cast<float>(image.width) / static_cast<float>(image.height));
  face.roi = to_roi(roi);
  face.has_blendshapes = false;
  timer.emplace(times_.blendshapes_ms);
  if (blendshapes_) {
    const std::span<const Landmark> points(face.landmarks.data(), static_cast<size_t>(num_landmarks_));
    FACEPIPE_RETURN_IF_ERROR(build_blendshape_input(
        points, std::span<float>(blendshapes_->input(0), static_cast<size_t>(kBlendshapeInputSize))));
    FACEPIPE_RETURN_IF_ERROR(blendshapes_->run());
    std::copy_n(blendshapes_->output(0), kNumBlendshapes, face.blendshapes.begin());
    face.has_blendshapes = true;
  }
  return Status::ok();
}

// Box and head pose from the final (possibly smoothed) landmarks.
void FacePipeline::finish_face(const kernels::ImageView& image, FaceResult& face) {
  const StageTimer timer(times_.pose_ms);
  face::finish_face(geometry_.get(), image.width, image.height, face);
}

Status FacePipeline::process_image(const kernels::ImageView& image) {
  times_ = StageTimes{};
  const StageTimer total(times_.total_ms);
  num_faces_ = 0;
  FACEPIPE_RETURN_IF_ERROR(kernels::validate(image));
  FACEPIPE_RETURN_IF_ERROR(detect(image));
  for (const Detection& d : detections_) {
    if (num_faces_ >= config_.max_faces) break;
    FaceResult& face = faces_[static_cast<size_t>(num_faces_)];
    bool present = false;
    FACEPIPE_RETURN_IF_ERROR(run_landmarks(image, detection_roi(d), face, present));
    // RetinaFace finds faces the landmark network is unsure about (tiny, occluded, profile): its
    // detection is the authority there, and the presence score is reported, not used as a gate.
    if (!present && config_.detector != DetectorKind::kRetinaFace) continue;
    face.id = num_faces_;
    face.score = d.score;
    finish_face(image, face);
    ++num_faces_;
  }
  return Status::ok();
}

Status FacePipeline::process_frame(const kernels::ImageView& image, double timestamp_s) {
  times_ = StageTimes{};
  const StageTimer total(times_.total_ms);
  num_faces_ = 0;
  FACEPIPE_RETURN_IF_ERROR(kernels::validate(image));
  const FramePlan* plan = &tracker_->plan_frame(timestamp_s);
  if (plan->need_detection) {
    FACEPIPE_RETURN_IF_ERROR(detect(image));
    detection_rois_.clear();
    for (const Detection& d : detections_) detection_rois_.push_back(to_roi(detection_roi(d)));
    plan = &tracker_->add_detections(detection_rois_);
  }
  const auto rois = plan->rois();
  for (size_t i = 0; i < rois.size(); ++i) {
    FaceResult& face = scratch_[i];
    bool present = false;
    FACEPIPE_RETURN_IF_ERROR(run_landmarks(image, to_rotated_rect(rois[i].roi), face, present));
    LandmarkResult& r = results_[i];
    r.presence = face.presence;
    if (present) {
      const std::span<const Landmark> points(face.landmarks.data(), static_cast<size_t>(face.num_landmarks));
      r.landmarks = points;
      r.next_roi = to_roi(roi_from_landmarks(points));
      r.blendshapes = face.has_blendshapes ? std::span<const float>(face.blendshapes) : std::span<const float>();
    } else {
      r.landmarks = {};
      r.blendshapes = {};
      r.next_roi = rois[i].roi;
    }
  }
  FACEPIPE_RETURN_IF_ERROR(tracker_->update(std::span<const LandmarkResult>(results_.data(), rois.size())));
  for (const TrackedFace& t : tracker_->faces()) {
    if (num_faces_ >= config_.max_faces) break;
    FaceResult& face = faces_[static_cast<size_t>(num_faces_++)];
    face_from_track(t, face);
    finish_face(image, face);
  }
  return Status::ok();
}

}  // namespace facepipe::face
