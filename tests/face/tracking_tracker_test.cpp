// FaceTracker on synthetic sequences: a simulated world of faces, a simulated detector (one ROI per
// visible face) and a simulated landmark network (finds the visible face inside a ROI).
#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <vector>

#include "face/tracking/face_tracker.h"

namespace facepipe::face {
namespace {

struct SimFace {
  float cx = 0, cy = 0, size = 100;
  bool visible = true;
};

constexpr float kRoiScale = 1.5f;

Roi roi_of(const SimFace& f) { return {f.cx, f.cy, f.size * kRoiScale, 0.f}; }

class Simulator {
 public:
  explicit Simulator(const FaceTrackerConfig& config) : tracker(config) {}

  // Runs one frame; returns whether the detector ran. `extra_detections` are appended to the
  // detector's output (to inject duplicates).
  bool step(const std::vector<SimFace>& world, const std::vector<Roi>& extra_detections = {}) {
    const double t = frame++ / 30.0;
    const FramePlan& plan = tracker.plan_frame(t);
    const bool detected = plan.need_detection;
    if (detected) {
      std::vector<Roi> dets;
      for (const SimFace& f : world)
        if (f.visible) dets.push_back(roi_of(f));
      dets.insert(dets.end(), extra_detections.begin(), extra_detections.end());
      tracker.add_detections(dets);
    }
    const auto rois = tracker.plan().rois();
    landmarks.assign(rois.size(), {});
    std::vector<LandmarkResult> results(rois.size());
    for (size_t i = 0; i < rois.size(); ++i) {
      // The landmark network locks onto the visible face nearest the ROI centre if that face's
      // centre lies inside the ROI.
      const Roi& r = rois[i].roi;
      const SimFace* best = nullptr;
      float best_d = 0;
      for (const SimFace& f : world) {
        if (!f.visible || std::fabs(f.cx - r.cx) > r.size / 2 || std::fabs(f.cy - r.cy) > r.size / 2) continue;
        const float d = std::hypot(f.cx - r.cx, f.cy - r.cy);
        if (!best || d < best_d) best = &f, best_d = d;
      }
      landmarks[i].resize(kNumLandmarks);
      if (best) {
        for (int k = 0; k < kNumLandmarks; ++k)
          landmarks[i][k] = {best->cx + 0.4f * best->size * std::cos(k * 0.1f),
                             best->cy + 0.4f * best->size * std::sin(k * 0.1f), 0.f};
        results[i] = {0.95f, roi_of(*best), landmarks[i], {}};
      } else {
        results[i] = {0.05f, r, landmarks[i], {}};
      }
    }
    EXPECT_TRUE(tracker.update(results).is_ok());
    return detected;
  }

  // The id of the tracked face whose ROI is centred on `f`, if any.
  std::optional<int> id_of(const SimFace& f) const {
    for (const TrackedFace& t : tracker.faces())
      if (std::hypot(t.roi.cx - f.cx, t.roi.cy - f.cy) < 1e-3f) return t.id;
    return std::nullopt;
  }

  FaceTracker tracker;
  int frame = 0;
  std::vector<std::vector<Landmark>> landmarks;
};

FaceTrackerConfig config_with(int max_faces) {
  FaceTrackerConfig c;
  c.max_faces = max_faces;
  return c;
}

TEST(FaceTracker, SlowlyMovingFaceKeepsItsId) {
  Simulator sim(config_with(1));
  SimFace face{100, 200, 120};
  for (int i = 0; i < 120; ++i) {
    face.cx += 3.f;
    face.cy += std::sin(i * 0.1f) * 2.f;
    sim.step({face});
    ASSERT_EQ(sim.tracker.faces().size(), 1u) << "frame " << i;
    EXPECT_EQ(sim.id_of(face), 0) << "frame " << i;
  }
  EXPECT_EQ(sim.tracker.next_id(), 1);
  EXPECT_EQ(sim.tracker.faces()[0].frames_tracked, 120);
}

TEST(FaceTracker, DetectorCadence) {
  // One face, max_faces 1: the detector runs on the first frame only.
  {
    Simulator sim(config_with(1));
    int runs = 0;
    for (int i = 0; i < 50; ++i) runs += sim.step({{200, 200, 100}});
    EXPECT_EQ(runs, 1);
  }
  // One face, max_faces 3: every detection_interval (10) frames, starting with frame 0.
  {
    Simulator sim(config_with(3));
    for (int i = 0; i < 45; ++i) EXPECT_EQ(sim.step({{200, 200, 100}}), i % 10 == 0) << "frame " << i;
  }
  // MediaPipe's behaviour: interval 1 = every frame while below max_faces.
  {
    FaceTrackerConfig c = config_with(2);
    c.detection_interval = 1;
    Simulator sim(c);
    for (int i = 0; i < 10; ++i) EXPECT_TRUE(sim.step({{200, 200, 100}}));
  }
  // No face: every frame (idle interval 1); with idle interval 5, every fifth frame.
  {
    Simulator sim(config_with(1));
    for (int i = 0; i < 10; ++i) EXPECT_TRUE(sim.step({}));
    FaceTrackerConfig c = config_with(1);
    c.idle_detection_interval = 5;
    Simulator idle(c);
    for (int i = 0; i < 12; ++i) EXPECT_EQ(idle.step({}), i % 5 == 0) << "frame " << i;
  }
  // A face is lost: the detector runs on the next frame, even with max_faces faces tracked before.
  {
    Simulator sim(config_with(1));
    SimFace face{200, 200, 100};
    sim.step({face});
    EXPECT_FALSE(sim.step({face}));
    face.visible = false;
    EXPECT_FALSE(sim.step({face}));  // lost on this frame (the landmark network finds nothing)
    EXPECT_TRUE(sim.tracker.faces().empty());
    EXPECT_TRUE(sim.step({face}));   // so the detector runs on the next
  }
}

TEST(FaceTracker, FaceReappearingFarAwayGetsANewId) {
  Simulator sim(config_with(1));
  SimFace face{150, 200, 100};
  for (int i = 0; i < 10; ++i) sim.step({face});
  ASSERT_EQ(sim.id_of(face), 0);
  face.visible = false;
  for (int i = 0; i < 5; ++i) sim.step({face});  // K = 5 frames away
  EXPECT_TRUE(sim.tracker.faces().empty());
  face = {600, 400, 100};
  sim.step({face});
  EXPECT_EQ(sim.id_of(face), 1);
}

TEST(FaceTracker, FaceReappearingNearbyKeepsItsIdUntilForgotten) {
  FaceTrackerConfig c = config_with(1);
  c.max_lost_frames = 8;
  Simulator sim(c);
  SimFace face{150, 200, 100};
  for (int i = 0; i < 10; ++i) sim.step({face});
  face.visible = false;
  for (int i = 0; i < 5; ++i) sim.step({face});
  face = {170, 205, 100, true};  // moved a little while hidden
  sim.step({face});
  EXPECT_EQ(sim.id_of(face), 0);

  // Hidden longer than max_lost_frames: forgotten, a new id.
  face.visible = false;
  for (int i = 0; i < 12; ++i) sim.step({face});
  face.visible = true;
  sim.step({face});
  EXPECT_EQ(sim.id_of(face), 1);
}

TEST(FaceTracker, TwoCrossingFacesKeepDistinctIds) {
  Simulator sim(config_with(2));
  // Face A walks right, face B walks left, B a little lower (their ROIs overlap up to IoU ~0.4 at
  // the crossing, below the duplicate threshold).
  SimFace a{100, 200, 100}, b{500, 260, 100};
  sim.step({a, b});
  const auto id_a = sim.id_of(a), id_b = sim.id_of(b);
  ASSERT_TRUE(id_a && id_b);
  EXPECT_NE(*id_a, *id_b);
  float max_iou = 0;
  for (int i = 0; i < 80; ++i) {
    a.cx += 5;
    b.cx -= 5;
    sim.step({a, b});
    max_iou = std::max(max_iou, roi_iou(roi_of(a), roi_of(b)));
    ASSERT_EQ(sim.tracker.faces().size(), 2u) << "frame " << i;
    EXPECT_EQ(sim.id_of(a), id_a) << "frame " << i;
    EXPECT_EQ(sim.id_of(b), id_b) << "frame " << i;
  }
  EXPECT_GT(max_iou, 0.3f);  // they did overlap
  EXPECT_EQ(sim.tracker.next_id(), 2);
}

TEST(FaceTracker, HiddenFaceComesBackWithItsIdAfterFullOverlap) {
  // B passes behind A and stands still there for a moment: the two tracks merge (B is dropped as
  // a duplicate and remembered), then B steps out near where it was lost and gets its id back.
  Simulator sim(config_with(2));
  SimFace a{300, 200, 100}, b{420, 200, 100};
  sim.step({a, b});
  const int id_a = *sim.id_of(a), id_b = *sim.id_of(b);
  for (int i = 0; i < 12; ++i) {
    b.cx -= 10;  // 420 -> 300
    b.visible = b.cx > 330;  // hidden behind A from x = 330 on
    sim.step({a, b});
  }
  EXPECT_EQ(sim.tracker.faces().size(), 1u);
  EXPECT_EQ(sim.id_of(a), id_a);
  // B steps out a little to the right of where it disappeared; the detector finds it on its next
  // run (within detection_interval frames) and it takes its old id back.
  b = {385, 200, 100, true};
  for (int i = 0; i < 10; ++i) sim.step({a, b});
  EXPECT_EQ(sim.id_of(a), id_a);
  EXPECT_EQ(sim.id_of(b), id_b);
  EXPECT_EQ(sim.tracker.next_id(), 2);
}

TEST(FaceTracker, DuplicateDetectionsAreSuppressed) {
  Simulator sim(config_with(4));
  SimFace face{300, 300, 100};
  // Two detector ROIs for one face on the first frame: one track.
  sim.step({face}, {{306, 297, 150, 0}});
  EXPECT_EQ(sim.tracker.faces().size(), 1u);
  // A later detector run sees the tracked face again: no new ROI is planned for it.
  for (int i = 1; i < 10; ++i) sim.step({face});
  const FramePlan& plan = sim.tracker.plan_frame(10 / 30.0);
  ASSERT_TRUE(plan.need_detection);
  EXPECT_EQ(plan.num_rois, 1);
  const Roi dup[] = {roi_of(face), {310, 290, 140, 0}};
  EXPECT_EQ(sim.tracker.add_detections(dup).num_rois, 1);
  const Roi elsewhere[] = {{600, 300, 150, 0}};
  EXPECT_EQ(sim.tracker.add_detections(elsewhere).num_rois, 2);
}

TEST(FaceTracker, DetectionsBeyondMaxFacesAreIgnored) {
  Simulator sim(config_with(2));
  sim.step({{100, 100, 80}, {300, 100, 80}, {500, 100, 80}});
  EXPECT_EQ(sim.tracker.faces().size(), 2u);
  EXPECT_EQ(sim.tracker.next_id(), 2);
}

TEST(FaceTracker, RejectsMismatchedResults) {
  FaceTracker tracker(config_with(1));
  tracker.plan_frame(0.0);
  const Roi det[] = {{100, 100, 150, 0}};
  tracker.add_detections(det);
  EXPECT_FALSE(tracker.update({}).is_ok());  // one ROI planned, no result
  std::vector<Landmark> lm(10);
  const LandmarkResult bad[] = {{0.9f, det[0], lm, {}}};
  EXPECT_FALSE(tracker.update(bad).is_ok());  // 10 landmarks
  std::vector<Landmark> ok(kNumLandmarks);
  for (int i = 0; i < kNumLandmarks; ++i) ok[i] = {100.f + i % 7, 100.f + i % 5, 0.f};
  const LandmarkResult good[] = {{0.9f, det[0], ok, {}}};
  EXPECT_TRUE(tracker.update(good).is_ok());
  EXPECT_EQ(tracker.faces().size(), 1u);
  EXPECT_THROW(FaceTracker(config_with(0)), Error);
  EXPECT_THROW(FaceTracker(config_with(kMaxTrackedFaces + 1)), Error);
}

TEST(FaceTracker, RoiIou) {
  EXPECT_FLOAT_EQ(roi_iou({0, 0, 2, 0}, {0, 0, 2, 1.0f}), 1.f);
  EXPECT_FLOAT_EQ(roi_iou({0, 0, 2, 0}, {1, 0, 2, 0}), 2.f / 6.f);
  EXPECT_FLOAT_EQ(roi_iou({0, 0, 2, 0}, {5, 0, 2, 0}), 0.f);
}

}  // namespace
}  // namespace facepipe::face
