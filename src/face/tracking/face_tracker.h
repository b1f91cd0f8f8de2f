// Face tracking across the frames of a video or live stream: stable ids, the decision when to run
// the face detector, and per-face smoothing. Modelled on MediaPipe's Face Landmarker in VIDEO mode
// (face_landmarker_graph.cc): a face found on one frame is followed on the next through the ROI
// derived from its landmarks; the detector runs only when fewer faces than max_faces are tracked;
// detector ROIs that overlap a tracked face are dropped (AssociationNormRectCalculator, threshold
// min_tracking_confidence = 0.5). On top of that: ids, a detector cadence, re-identification of a
// face lost for a few frames, duplicate-track removal. See docs/face_geometry.md.
//
// Per frame, the pipeline calls:
//   const FramePlan& plan = tracker.plan_frame(t);             // ROIs of tracked faces
//   if (plan.need_detection) {                                  // detector, then one ROI per detection
//     tracker.add_detections(detection_rois);                   // appends ROIs of new faces to the plan
//   }
//   run the landmark network on every plan.rois()[i]  ->  results[i]
//   tracker.update(results);                                    // ids, smoothing; faces() is the output
//
// Construction allocates (fixed capacity); the per-frame calls do not.
#pragma once

#include <array>
#include <span>
#include <vector>

#include "common/status.h"
#include "face/tracking/one_euro_filter.h"
#include "face/types.h"

namespace facepipe::face {

constexpr int kMaxTrackedFaces = 32;

struct FaceTrackerConfig {
  int max_faces = 1;  // 1..kMaxTrackedFaces
  // A track survives while the landmark network's face presence is >= this (MediaPipe:
  // min_face_presence_confidence, 0.5).
  float min_presence = 0.5f;
  // While fewer than max_faces faces are tracked, the detector runs every detection_interval frames
  // (MediaPipe runs it on every such frame: 1); with no face tracked at all, every
  // idle_detection_interval frames. It always runs on the first frame and on the frame after a face
  // was lost.
  int detection_interval = 10;
  int idle_detection_interval = 1;
  // Two ROIs (axis-aligned squares, rotation ignored) with IoU above this are the same face: a
  // detection is dropped, and of two tracks the newer is dropped.
  float duplicate_iou = 0.5f;
  // When the detector runs and finds a tracked face, search that face's landmarks in the detection's
  // ROI instead of the one derived from the previous landmarks (MediaPipe's association order).
  bool prefer_detection_roi = true;
  // A lost face is remembered for max_lost_frames frames; a new detection within reid_iou (IoU) or
  // reid_center_distance (centre distance / ROI size) of its last ROI gets its id back.
  int max_lost_frames = 15;
  float reid_iou = 0.3f;
  float reid_center_distance = 0.5f;
  FaceSmootherConfig smoothing;
};

struct PlannedRoi {
  Roi roi;
  int track_id = -1;  // -1: a face from this frame's detections (its id is given by update())
};

struct FramePlan {
  bool need_detection = false;
  int num_rois = 0;
  std::array<PlannedRoi, kMaxTrackedFaces> entries{};
  std::span<const PlannedRoi> rois() const { return {entries.data(), static_cast<size_t>(num_rois)}; }
};

// The landmark network's result for one planned ROI.
struct LandmarkResult {
  float presence = 0;                   // face presence probability (sigmoid of the logit)
  Roi next_roi;                         // ROI for the next frame derived from these landmarks
  std::span<const Landmark> landmarks;  // 478 (or 468) points, image pixels
  std::span<const float> blendshapes;   // 52 scores, or empty
};

struct TrackedFace {
  int id = -1;                  // stable, increasing from 0 in order of first appearance
  Roi roi;                      // the ROI the landmarks will be searched in on the next frame
  Roi input_roi;                // the ROI this frame's landmarks were found in
  float presence = 0;
  int frames_tracked = 0;       // consecutive frames, 1 on the first
  int num_landmarks = 0;
  std::array<Landmark, kNumLandmarks> landmarks{};  // smoothed
  bool has_blendshapes = false;
  std::array<float, kNumBlendshapes> blendshapes{};  // smoothed if enabled
};

// IoU of the axis-aligned squares of two ROIs (rotation ignored).
float roi_iou(const Roi& a, const Roi& b);

class FaceTracker {
 public:
  explicit FaceTracker(const FaceTrackerConfig& config);

  // Starts a frame: the ROIs of the tracked faces (by id) and whether the detector must run.
  const FramePlan& plan_frame(double timestamp_s);

  // The detector's faces as landmark ROIs (the caller converts each Detection with the ROI module),
  // strongest first. Appends the ROIs of new faces to the plan, up to max_faces ROIs in all, skipping
  // those that overlap a planned ROI (IoU > duplicate_iou). Call at most once per frame, after
  // plan_frame(); an empty span says the detector ran and found nothing.
  const FramePlan& add_detections(std::span<const Roi> detection_rois);

  // One result per planned ROI, in plan order. Faces whose presence is too low are dropped (and
  // remembered as lost); new faces get an id; landmarks and blendshapes are smoothed. Fails
  // (kInvalidArgument, state unchanged) on a result count that does not match the plan or malformed
  // results.
  Status update(std::span<const LandmarkResult> results);

  // The tracked faces after update(), by increasing id.
  std::span<const TrackedFace> faces() const { return {faces_.data(), static_cast<size_t>(num_faces_)}; }
  const FramePlan& plan() const { return plan_; }
  int next_id() const { return next_id_; }

  void reset();

 private:
  struct Slot {
    bool active = false;
    int id = -1;
    Roi roi;           // for the next frame
    Roi previous_roi;  // the one this frame's landmarks were found in
    int frames_tracked = 0;
    FaceSmoother smoother;
    explicit Slot(const FaceSmootherConfig& c) : smoother(c) {}
  };
  struct LostFace {
    int id = -1;
    Roi roi;
    int frames_lost = 0;
  };
  struct PlanBinding {
    int slot = -1;       // slot the result goes to
    int revive_id = -1;  // for a detection: the lost face whose id it takes, -1: new id
  };

  void mark_lost(int slot, const Roi& last_roi);
  int find_lost(const Roi& roi, const std::array<bool, kMaxTrackedFaces>& claimed) const;
  void publish_faces();

  FaceTrackerConfig config_;
  std::vector<Slot> slots_;  // max_faces
  std::array<LostFace, kMaxTrackedFaces> lost_{};
  int num_lost_ = 0;
  FramePlan plan_;
  std::array<PlanBinding, kMaxTrackedFaces> bindings_{};
  bool planned_ = false;
  bool first_frame_ = true;
  bool face_lost_ = false;
  int frames_without_detection_ = 0;
  double timestamp_ = 0;
  int next_id_ = 0;
  std::vector<TrackedFace> faces_;  // max_faces
  int num_faces_ = 0;
};

}  // namespace facepipe::face
