// The GPU post-processing writes face::Detection arrays as DetectionRecords
// (face/cuda/detection_record.h, whose static_asserts pin the layout at compile time); this checks
// the same in CPU-only builds and that a record reads back field for field as a Detection.
#include "face/cuda/detection_record.h"

#include <gtest/gtest.h>

#include <cstring>
#include <type_traits>

namespace facepipe::face {
namespace {

static_assert(std::is_trivially_copyable_v<Detection> && std::is_standard_layout_v<Detection>);
static_assert(std::is_trivially_copyable_v<cuda::DetectionRecord>);

TEST(FacePostLayout, DetectionRecordReadsBackAsDetection) {
  cuda::DetectionRecord r{};
  r.x1 = 1.5f;
  r.y1 = 2.5f;
  r.x2 = 30.25f;
  r.y2 = 40.75f;
  r.score = 0.875f;
  for (int k = 0; k < 2 * kMaxDetectionKeypoints; ++k) r.keypoints[k] = 100.0f + static_cast<float>(k);
  r.num_keypoints = 5;
  Detection d;
  std::memcpy(static_cast<void*>(&d), &r, sizeof d);
  EXPECT_EQ(d.box.x1, 1.5f);
  EXPECT_EQ(d.box.y1, 2.5f);
  EXPECT_EQ(d.box.x2, 30.25f);
  EXPECT_EQ(d.box.y2, 40.75f);
  EXPECT_EQ(d.score, 0.875f);
  for (int k = 0; k < kMaxDetectionKeypoints; ++k) {
    EXPECT_EQ(d.keypoints[static_cast<size_t>(k)].x, 100.0f + 2 * k);
    EXPECT_EQ(d.keypoints[static_cast<size_t>(k)].y, 101.0f + 2 * k);
  }
  EXPECT_EQ(d.num_keypoints, 5);
}

}  // namespace
}  // namespace facepipe::face
