// What the CPU and the GPU face pipelines share: loading and checking the models a
// FacePipelineConfig names, the tracker settings it implies, and the last per-face step (box and
// head pose from the final landmarks). Loading is start-up code and throws facepipe::Error.
#pragma once

#include <memory>

#include "engine/ir/graph.h"
#include "face/detection/blazeface.h"
#include "face/detection/retinaface.h"
#include "face/geometry/face_geometry.h"
#include "face/tracking/face_tracker.h"
#include "face/types.h"

namespace facepipe::face {

struct FacePipelineConfig;

struct FaceModels {
  std::shared_ptr<const engine::Graph> detector;
  std::shared_ptr<const engine::Graph> landmarks;
  std::shared_ptr<const engine::Graph> blendshapes;  // null: not wanted, or a v1 landmark network
  std::unique_ptr<FaceGeometryEstimator> geometry;   // null: pose not wanted
  BlazeFaceConfig blazeface;                         // for the BlazeFace detectors
  RetinaFaceConfig retinaface;                       // for RetinaFace
  int landmark_input_size = 256;
  int num_landmarks = kNumLandmarks;                 // 478 (v2) or 468 (v1)
};

// Loads every model the configuration asks for and checks the landmark and blendshape networks'
// declared shapes.
FaceModels load_face_models(const FacePipelineConfig& config);

FaceTrackerConfig make_tracker_config(const FacePipelineConfig& config);

// Bounding box of the landmarks (x, y).
BoundingBox landmark_box(std::span<const Landmark> points);

// Box and (with `geometry`) head pose from the face's final landmarks.
void finish_face(FaceGeometryEstimator* geometry, int image_width, int image_height, FaceResult& face);

// A tracked face as the pipeline reports it (id, presence, landmarks, blendshapes, ROI); box and
// pose are left to finish_face.
void face_from_track(const TrackedFace& track, FaceResult& face);

}  // namespace facepipe::face
