#include "face/pipeline/face_models.h"

#include <algorithm>
#include <cmath>

#include "engine/cpu/cpu_plan.h"
#include "engine/import/model_loader.h"
#include "engine/model_locator.h"
#include "face/blendshapes/blendshape_input.h"
#include "face/geometry/geometry_metadata.h"
#include "face/pipeline/face_pipeline.h"

namespace facepipe::face {

namespace {

constexpr const char* kLandmarkerBundle = "face_landmarker.task";

std::shared_ptr<const engine::Graph> load(const engine::ModelLocator& locator, const std::string& spec) {
  return std::make_shared<const engine::Graph>(engine::load_graph(locator.resolve_spec(spec)));
}

const engine::Shape& input_shape(const engine::Graph& g, size_t i) { return g.tensor(g.inputs.at(i)).shape; }

// Output sizes at the declared input shapes. Importers need not declare output shapes, so the
// model is planned once (single-threaded, start-up only) to learn them.
std::vector<int64_t> output_elements(const std::shared_ptr<const engine::Graph>& g) {
  engine::cpu::PlanOptions options;
  options.num_threads = 1;
  const auto plan = engine::cpu::CpuPlan::create(g, {}, options);
  std::vector<int64_t> sizes;
  for (int i = 0; i < plan->num_outputs(); ++i) sizes.push_back(plan->output(i).num_elements());
  return sizes;
}

}  // namespace

FaceModels load_face_models(const FacePipelineConfig& config) {
  if (config.max_faces < 1) throw Error("max_faces must be at least 1");
  FaceModels m;
  const engine::ModelLocator locator(config.models_dir);
  const std::string bundle = locator.find(kLandmarkerBundle).string();

  switch (config.detector) {
    case DetectorKind::kBlazeFace:
    case DetectorKind::kBlazeFaceFullRange: {
      const bool full = config.detector == DetectorKind::kBlazeFaceFullRange;
      m.blazeface = full ? BlazeFaceConfig::full_range() : BlazeFaceConfig::short_range();
      m.blazeface.min_score_thresh = config.min_detection_confidence;
      m.blazeface.max_detections = config.max_faces;
      m.detector =
          load(locator, full ? std::string("face_detection_full_range.tflite") : bundle + ":face_detector.tflite");
      break;
    }
    case DetectorKind::kRetinaFace:
      m.retinaface.confidence_threshold = config.min_detection_confidence;
      m.retinaface.detection_size = config.detection_size;
      m.detector = load(locator, "retinaface_mnet025_dyn.onnx");
      break;
  }

  // Landmark network: v2 (478 points) or v1 (468), recognized from its output.
  m.landmarks = load(locator, config.landmark_model.empty() ? bundle + ":face_landmarks_detector.tflite"
                                                            : config.landmark_model);
  const engine::Graph& lm = *m.landmarks;
  const engine::Shape& in = input_shape(lm, 0);
  const std::vector<int64_t> lm_outputs = output_elements(m.landmarks);
  const int64_t coords = lm_outputs.size() >= 2 ? lm_outputs[0] : 0;
  if (in.rank() != 4 || in[1] != in[2] || in[3] != 3 || (coords != 3 * kNumLandmarks && coords != 3 * kNumLandmarksV1)) {
    throw Error(lm.source + ": not a face landmark network (expected input [1,S,S,3] and 478 or 468 landmarks as output 0)");
  }
  m.landmark_input_size = static_cast<int>(in[1]);
  m.num_landmarks = static_cast<int>(coords / 3);

  // Blendshapes need the iris points of the v2 network.
  if (config.blendshapes && m.num_landmarks == kNumLandmarks) {
    m.blendshapes = load(locator, bundle + ":face_blendshapes.tflite");
    const engine::Graph& bs = *m.blendshapes;
    if (bs.inputs.empty() || input_shape(bs, 0).num_elements() != kBlendshapeInputSize ||
        output_elements(m.blendshapes).at(0) != kNumBlendshapes)
      throw Error(bs.source + ": unexpected blendshape network shapes");
  }

  if (config.pose) {
    const auto bytes = engine::read_model_bytes({bundle, "geometry_pipeline_metadata_landmarks.binarypb"});
    m.geometry = std::make_unique<FaceGeometryEstimator>(parse_geometry_metadata(bytes, bundle));
  }
  return m;
}

FaceTrackerConfig make_tracker_config(const FacePipelineConfig& config) {
  FaceTrackerConfig tc;
  tc.max_faces = std::min(config.max_faces, kMaxTrackedFaces);
  tc.min_presence = config.min_presence;
  tc.detection_interval = std::max(1, config.detection_interval);
  tc.smoothing.smooth_landmarks = config.smoothing;
  tc.smoothing.landmarks = config.landmark_filter;
  tc.smoothing.smooth_blendshapes = config.smoothing && config.smooth_blendshapes;
  return tc;
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

void finish_face(FaceGeometryEstimator* geometry, int image_width, int image_height, FaceResult& face) {
  const std::span<const Landmark> points(face.landmarks.data(), static_cast<size_t>(face.num_landmarks));
  face.box = landmark_box(points);
  face.has_pose = false;
  if (!geometry) return;
  HeadPose pose;
  if (geometry->estimate(points, image_width, image_height, pose).is_ok()) {
    face.transform = pose.matrix;
    face.yaw = pose.yaw_degrees;
    face.pitch = pose.pitch_degrees;
    face.roll = pose.roll_degrees;
    face.has_pose = true;
  }
}

void face_from_track(const TrackedFace& t, FaceResult& face) {
  face.id = t.id;
  face.score = t.presence;
  face.presence = t.presence;
  face.num_landmarks = t.num_landmarks;
  face.landmarks = t.landmarks;
  face.has_blendshapes = t.has_blendshapes;
  face.blendshapes = t.blendshapes;
  face.roi = t.input_roi;
}

}  // namespace facepipe::face
