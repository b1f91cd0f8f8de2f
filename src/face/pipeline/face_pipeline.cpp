#include "face/pipeline/face_pipeline.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

#include "engine/import/model_loader.h"
#include "engine/model_locator.h"
#include "face/blendshapes/blendshape_input.h"
#include "face/detection/blazeface.h"
#include "face/detection/retinaface.h"
#include "face/geometry/geometry_metadata.h"
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

constexpr const char* kLandmarkerBundle = "face_landmarker.task";
constexpr int kBlendshapeInputPoints = 146;

std::shared_ptr<const engine::Graph> load(const engine::ModelLocator& locator, const std::string& spec) {
  return std::make_shared<const engine::Graph>(engine::load_graph(locator.resolve_spec(spec)));
}

BoundingBox landmark_box(std::span<const Landmark> points) {
  BoundingBox b{INFINITY, INFINITY, -INFINITY, -INFINITY};
  for (const Landmark& p : points) {
    b.x1 = std::min(b.x1, p.x);
    b.y1 = std::min(b.y1, p.y);
    b.x2 = std::max(b.x2, p.x);
    b.y2 = std::max(b.y2, p.y);
  }
  return b;
}

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
  if (config_.max_faces < 1) throw Error("max_faces must be at least 1");
  const engine::ModelLocator locator(config_.models_dir);
  const std::string bundle = locator.find(kLandmarkerBundle).string();

  // Detector.
  switch (config_.detector) {
    case DetectorKind::kBlazeFace:
    case DetectorKind::kBlazeFaceFullRange: {
      const bool full = config_.detector == DetectorKind::kBlazeFaceFullRange;
      BlazeFaceConfig c = full ? BlazeFaceConfig::full_range() : BlazeFaceConfig::short_range();
      c.min_score_thresh = config_.min_detection_confidence;
      c.max_detections = config_.max_faces;
      detector_runner_ = std::make_unique<EngineModelRunner>(
          load(locator, full ? std::string("face_detection_full_range.tflite") : bundle + ":face_detector.tflite"),
          &small_pool_);
      detector_ = std::make_unique<BlazeFace>(c);
      break;
    }
    case DetectorKind::kRetinaFace: {
      RetinaFaceConfig c;
      c.confidence_threshold = config_.min_detection_confidence;
      c.detection_size = config_.detection_size;
      detector_runner_ = std::make_unique<EngineModelRunner>(load(locator, "retinaface_mnet025_dyn.onnx"), &pool_);
      detector_ = std::make_unique<RetinaFace>(c);
      break;
    }
  }

  // Landmark network: v2 (478 points) or v1 (468), recognized from its output.
  landmarks_ = std::make_unique<EngineModelRunner>(
      load(locator, config_.landmark_model.empty() ? bundle + ":face_landmarks_detector.tflite" : config_.landmark_model),
      &small_pool_);
  const TensorShape in = landmarks_->input_shape(0);
  const int64_t coords = landmarks_->num_outputs() >= 2 ? landmarks_->output_shape(0).elements() : 0;
  if (in.rank != 4 || in[1] != in[2] || in[3] != 3 || (coords != 3 * kNumLandmarks && coords != 3 * kNumLandmarksV1)) {
    throw Error(landmarks_->graph().source +
                ": not a face landmark network (expected input [1,S,S,3] and 478 or 468 landmarks as output 0)");
  }
  landmark_input_size_ = static_cast<int>(in[1]);
  num_landmarks_ = static_cast<int>(coords / 3);

  // Blendshapes need the iris points of the v2 network.
  if (config_.blendshapes && num_landmarks_ == kNumLandmarks)
    blendshapes_ = std::make_unique<EngineModelRunner>(load(locator, bundle + ":face_blendshapes.tflite"), &small_pool_);
  if (blendshapes_ && (blendshapes_->input_shape(0).elements() != 2 * kBlendshapeInputPoints ||
                       blendshapes_->output_shape(0).elements() != kNumBlendshapes)) {
    throw Error(blendshapes_->graph().source + ": unexpected blendshape network shapes");
  }

  if (config_.pose) {
    const auto bytes = engine::read_model_bytes({bundle, "geometry_pipeline_metadata_landmarks.binarypb"});
    geometry_ = std::make_unique<FaceGeometryEstimator>(parse_geometry_metadata(bytes, bundle));
  }

  FaceTrackerConfig tc;
  tc.max_faces = std::min(config_.max_faces, kMaxTrackedFaces);
  tc.min_presence = config_.min_presence;
  tc.detection_interval = std::max(1, config_.detection_interval);
  tc.smoothing.smooth_landmarks = config_.smoothing;
  tc.smoothing.landmarks = config_.landmark_filter;
  tc.smoothing.smooth_blendshapes = config_.smoothing && config_.smooth_blendshapes;
  tracker_ = std::make_unique<FaceTracker>(tc);

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
        points, std::span<float>(blendshapes_->input(0), static_cast<size_t>(2 * kBlendshapeInputPoints))));
    FACEPIPE_RETURN_IF_ERROR(blendshapes_->run());
    std::copy_n(blendshapes_->output(0), kNumBlendshapes, face.blendshapes.begin());
    face.has_blendshapes = true;
  }
  return Status::ok();
}

// Box and head pose from the final (possibly smoothed) landmarks.
void FacePipeline::finish_face(const kernels::ImageView& image, FaceResult& face) {
  const std::span<const Landmark> points(face.landmarks.data(), static_cast<size_t>(face.num_landmarks));
  face.box = landmark_box(points);
  face.has_pose = false;
  const StageTimer timer(times_.pose_ms);
  if (geometry_) {
    HeadPose pose;
    if (geometry_->estimate(points, image.width, image.height, pose).is_ok()) {
      face.transform = pose.matrix;
      face.yaw = pose.yaw_degrees;
      face.pitch = pose.pitch_degrees;
      face.roll = pose.roll_degrees;
      face.has_pose = true;
    }
  }
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
    face.id = t.id;
    face.score = t.presence;
    face.presence = t.presence;
    face.num_landmarks = t.num_landmarks;
    face.landmarks = t.landmarks;
    face.has_blendshapes = t.has_blendshapes;
    face.blendshapes = t.blendshapes;
    face.roi = t.input_roi;
    finish_face(image, face);
  }
  return Status::ok();
}

}  // namespace facepipe::face
