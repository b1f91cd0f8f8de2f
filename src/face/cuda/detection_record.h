// The byte layout of face::Detection as plain arrays, for device code (face::Detection holds a
// std::array, whose operator[] is host-only). The GPU writes DetectionRecords into a buffer of
// face::Detection that the host reads as it is; the asserts below keep the two layouts in step.
// Plain C++ (no CUDA): tests/face/face_post_layout_test.cpp checks it in CPU-only builds too.
#pragma once

#include <cstddef>

#include "face/types.h"

namespace facepipe::face::cuda {

struct DetectionRecord {
  float x1, y1, x2, y2;                         // face::Detection::box
  float score;
  float keypoints[2 * kMaxDetectionKeypoints];  // (x, y) pairs; unused pairs are 0
  int num_keypoints;
};

static_assert(sizeof(Point2) == 2 * sizeof(float) && offsetof(Point2, x) == 0 && offsetof(Point2, y) == 4);
static_assert(sizeof(BoundingBox) == 4 * sizeof(float));
static_assert(offsetof(BoundingBox, x1) == 0 && offsetof(BoundingBox, y1) == 4 && offsetof(BoundingBox, x2) == 8 &&
              offsetof(BoundingBox, y2) == 12);
static_assert(sizeof(Detection::keypoints) == sizeof(DetectionRecord::keypoints));
static_assert(sizeof(DetectionRecord) == sizeof(Detection));
static_assert(alignof(DetectionRecord) == alignof(Detection));
static_assert(offsetof(DetectionRecord, x1) == offsetof(Detection, box) + offsetof(BoundingBox, x1));
static_assert(offsetof(DetectionRecord, y1) == offsetof(Detection, box) + offsetof(BoundingBox, y1));
static_assert(offsetof(DetectionRecord, x2) == offsetof(Detection, box) + offsetof(BoundingBox, x2));
static_assert(offsetof(DetectionRecord, y2) == offsetof(Detection, box) + offsetof(BoundingBox, y2));
static_assert(offsetof(DetectionRecord, score) == offsetof(Detection, score));
static_assert(offsetof(DetectionRecord, keypoints) == offsetof(Detection, keypoints));
static_assert(offsetof(DetectionRecord, num_keypoints) == offsetof(Detection, num_keypoints));

// face::Landmark and face::Anchor are read and written on the device directly (plain floats).
static_assert(sizeof(Landmark) == 3 * sizeof(float) && offsetof(Landmark, x) == 0 && offsetof(Landmark, y) == 4 &&
              offsetof(Landmark, z) == 8);

}  // namespace facepipe::face::cuda
