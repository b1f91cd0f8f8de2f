#include "face/tracking/face_tracker.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace facepipe::face {

float roi_iou(const Roi& a, const Roi& b) {
  const float ha = 0.5f * a.size, hb = 0.5f * b.size;
  const float w = std::min(a.cx + ha, b.cx + hb) - std::max(a.cx - ha, b.cx - hb);
  const float h = std::min(a.cy + ha, b.cy + hb) - std::max(a.cy - ha, b.cy - hb);
  if (w <= 0 || h <= 0) return 0;
  const float inter = w * h;
  const float uni = a.size * a.size + b.size * b.size - inter;
  return uni > 0 ? inter / uni : 0;
}

FaceTracker::FaceTracker(const FaceTrackerConfig& config) : config_(config) {
  if (config.max_faces < 1 || config.max_faces > kMaxTrackedFaces)
    throw Error("face tracker: max_faces must be in 1.." + std::to_string(kMaxTrackedFaces) + ", got " +
                std::to_string(config.max_faces));
  if (config.detection_interval < 1 || config.idle_detection_interval < 1)
    throw Error("face tracker: detection intervals must be >= 1 frame");
  if (config.max_lost_frames < 0) throw Error("face tracker: max_lost_frames must be >= 0");
  slots_.reserve(config.max_faces);
  for (int i = 0; i < config.max_faces; ++i) slots_.emplace_back(config.smoothing);
  faces_.resize(config.max_faces);
}

void FaceTracker::reset() {
  for (Slot& s : slots_) {
    s.active = false;
    s.smoother.reset();
  }
  num_lost_ = 0;
  plan_ = FramePlan{};
  planned_ = false;
  first_frame_ = true;
  face_lost_ = false;
  frames_without_detection_ = 0;
  next_id_ = 0;
  num_faces_ = 0;
}

const FramePlan& FaceTracker::plan_frame(double timestamp_s) {
  timestamp_ = timestamp_s;
  plan_.num_rois = 0;
  int active = 0;
  // Tracked faces in id order (slots are few: selection by repeated minimum).
  std::array<bool, kMaxTrackedFaces> taken{};
  for (;;) {
    int best = -1;
    for (int i = 0; i < static_cast<int>(slots_.size()); ++i)
      if (slots_[i].active && !taken[i] && (best < 0 || slots_[i].id < slots_[best].id)) best = i;
    if (best < 0) break;
    taken[best] = true;
    plan_.entries[plan_.num_rois] = {slots_[best].roi, slots_[best].id};
    bindings_[plan_.num_rois] = {best, -1};
    ++plan_.num_rois;
    ++active;
  }
  const int interval = active == 0 ? config_.idle_detection_interval : config_.detection_interval;
  plan_.need_detection = first_frame_ || face_lost_ ||
                         (active < config_.max_faces && frames_without_detection_ + 1 >= interval);
  planned_ = true;
  return plan_;
}

int FaceTracker::find_lost(const Roi& roi, const std::array<bool, kMaxTrackedFaces>& claimed) const {
  int best = -1;
  float best_score = 0;
  for (int i = 0; i < num_lost_; ++i) {
    if (claimed[i]) continue;
    const Roi& last = lost_[i].roi;
    const float iou = roi_iou(roi, last);
    const float dist = std::hypot(roi.cx - last.cx, roi.cy - last.cy) / std::max(last.size, 1e-6f);
    if (iou < config_.reid_iou && dist > config_.reid_center_distance) continue;
    // Prefer overlap, then closeness; the most recently lost face wins ties.
    const float score = iou + 1.0f / (1.0f + dist);
    if (best < 0 || score > best_score) {
      best = i;
      best_score = score;
    }
  }
  return best;
}

const FramePlan& FaceTracker::add_detections(std::span<const Roi> detection_rois) {
  if (!planned_) return plan_;
  std::array<bool, kMaxTrackedFaces> slot_used{};
  for (int i = 0; i < plan_.num_rois; ++i) slot_used[bindings_[i].slot] = true;
  std::array<bool, kMaxTrackedFaces> lost_claimed{};
  for (int i = 0; i < plan_.num_rois; ++i)
    if (bindings_[i].revive_id >= 0)
      for (int k = 0; k < num_lost_; ++k)
        if (lost_[k].id == bindings_[i].revive_id) lost_claimed[k] = true;

  for (const Roi& roi : detection_rois) {
    if (plan_.num_rois >= config_.max_faces) break;
    if (!(roi.size > 0) || !std::isfinite(roi.cx) || !std::isfinite(roi.cy)) continue;
    bool duplicate = false;
    for (int i = 0; i < plan_.num_rois && !duplicate; ++i)
      duplicate = roi_iou(roi, plan_.entries[i].roi) > config_.duplicate_iou;
    if (duplicate) continue;
    int slot = 0;
    while (slot_used[slot]) ++slot;  // a free slot exists: num_rois < max_faces == slots
    slot_used[slot] = true;
    const int lost = find_lost(roi, lost_claimed);
    if (lost >= 0) lost_claimed[lost] = true;
    plan_.entries[plan_.num_rois] = {roi, -1};
    bindings_[plan_.num_rois] = {slot, lost >= 0 ? lost_[lost].id : -1};
    ++plan_.num_rois;
  }
  return plan_;
}

void FaceTracker::mark_lost(int slot, const Roi& last_roi) {
  Slot& s = slots_[slot];
  s.active = false;
  s.smoother.reset();
  if (config_.max_lost_frames == 0) return;
  if (num_lost_ == kMaxTrackedFaces) {  // forget the oldest
    int oldest = 0;
    for (int i = 1; i < num_lost_; ++i)
      if (lost_[i].frames_lost > lost_[oldest].frames_lost) oldest = i;
    lost_[oldest] = lost_[--num_lost_];
  }
  lost_[num_lost_++] = {s.id, last_roi, 0};
}

Status FaceTracker::update(std::span<const LandmarkResult> results) {
  if (!planned_) return Status::error(StatusCode::kInvalidArgument, "face tracker: update() without plan_frame()");
  if (static_cast<int>(results.size()) != plan_.num_rois)
    return Status::error(StatusCode::kInvalidArgument, "face tracker: one landmark result per planned ROI expected");
  for (const LandmarkResult& r : results) {
    if (r.presence < config_.min_presence) continue;  // its landmarks are not used
    if (r.landmarks.size() != static_cast<size_t>(kNumLandmarks) &&
        r.landmarks.size() != static_cast<size_t>(kNumLandmarksV1))
      return Status::error(StatusCode::kInvalidArgument, "face tracker: a face needs 478 or 468 landmarks");
    if (!r.blendshapes.empty() && r.blendshapes.size() != static_cast<size_t>(kNumBlendshapes))
      return Status::error(StatusCode::kInvalidArgument, "face tracker: blendshapes must be 52 scores or none");
    if (!(r.next_roi.size > 0))
      return Status::error(StatusCode::kInvalidArgument, "face tracker: next ROI must have a positive size");
  }
  planned_ = false;
  first_frame_ = false;
  if (plan_.need_detection) {
    frames_without_detection_ = 0;
    face_lost_ = false;
  } else {
    ++frames_without_detection_;
  }

  // Age what was lost on earlier frames; forget what is too old.
  for (int i = 0; i < num_lost_;) {
    if (++lost_[i].frames_lost > config_.max_lost_frames)
      lost_[i] = lost_[--num_lost_];
    else
      ++i;
  }

  for (int i = 0; i < plan_.num_rois; ++i) {
    const LandmarkResult& r = results[i];
    const PlanBinding& b = bindings_[i];
    Slot& s = slots_[b.slot];
    const bool tracked = plan_.entries[i].track_id >= 0;
    if (r.presence < config_.min_presence) {
      if (tracked) {
        mark_lost(b.slot, s.roi);
        face_lost_ = true;
      }
      continue;
    }
    if (!tracked) {
      int id = -1;
      if (b.revive_id >= 0) {
        for (int k = 0; k < num_lost_; ++k)
          if (lost_[k].id == b.revive_id) {
            id = b.revive_id;
            lost_[k] = lost_[--num_lost_];
            break;
          }
      }
      s.active = true;
      s.id = id >= 0 ? id : next_id_++;
      s.frames_tracked = 0;
      s.smoother.reset();
    }
    s.previous_roi = tracked ? s.roi : r.next_roi;
    s.roi = r.next_roi;
    ++s.frames_tracked;
    TrackedFace& f = faces_[b.slot];  // staged per slot, published in id order below
    f.id = s.id;
    f.roi = s.roi;
    f.presence = r.presence;
    f.frames_tracked = s.frames_tracked;
    f.num_landmarks = static_cast<int>(r.landmarks.size());
    std::copy(r.landmarks.begin(), r.landmarks.end(), f.landmarks.begin());
    f.has_blendshapes = !r.blendshapes.empty();
    if (f.has_blendshapes) std::copy(r.blendshapes.begin(), r.blendshapes.end(), f.blendshapes.begin());
    s.smoother.apply(timestamp_, std::span(f.landmarks.data(), static_cast<size_t>(f.num_landmarks)),
                     f.has_blendshapes ? std::span(f.blendshapes) : std::span<float>());
  }

  // Two tracks that converged on one face: keep the older id. A face created on this very frame
  // that lands on a tracked one was a duplicate detection: it is simply dropped; an established
  // track is remembered as lost (it may be a face hidden behind the other, to be re-detected).
  for (int a = 0; a < static_cast<int>(slots_.size()); ++a) {
    for (int c = 0; c < static_cast<int>(slots_.size()); ++c) {
      if (a == c || !slots_[a].active || !slots_[c].active) continue;
      if (slots_[a].id < slots_[c].id && roi_iou(slots_[a].roi, slots_[c].roi) > config_.duplicate_iou) {
        if (slots_[c].frames_tracked == 1) {
          slots_[c].active = false;
          slots_[c].smoother.reset();
        } else {
          // Remembered where it was before it jumped onto the other face.
          mark_lost(c, slots_[c].previous_roi);
          face_lost_ = true;
        }
      }
    }
  }
  publish_faces();
  return Status::ok();
}

void FaceTracker::publish_faces() {
  // faces_ holds each active slot's face at the slot's index; compact into id order in place. Slots
  // are at most kMaxTrackedFaces, so an index sort is cheap.
  std::array<int, kMaxTrackedFaces> order{};
  int n = 0;
  for (int i = 0; i < static_cast<int>(slots_.size()); ++i)
    if (slots_[i].active) order[n++] = i;
  std::sort(order.begin(), order.begin() + n, [&](int x, int y) { return slots_[x].id < slots_[y].id; });
  // Permute by swapping: faces_[k] must become the face of slot order[k]. Track where each slot's
  // face currently is.
  std::array<int, kMaxTrackedFaces> where{};   // slot -> position in faces_
  std::array<int, kMaxTrackedFaces> holder{};  // position -> slot whose face is there (-1: none)
  for (int i = 0; i < static_cast<int>(slots_.size()); ++i) where[i] = holder[i] = i;
  for (int k = 0; k < n; ++k) {
    const int pos = where[order[k]];
    if (pos != k) {
      std::swap(faces_[k], faces_[pos]);
      const int displaced = holder[k];
      holder[pos] = displaced;
      where[displaced] = pos;
      holder[k] = order[k];
      where[order[k]] = k;
    }
  }
  num_faces_ = n;
}

}  // namespace facepipe::face
