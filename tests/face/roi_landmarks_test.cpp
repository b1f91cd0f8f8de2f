#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <numbers>

#include "face/detection_test_util.h"
#include "face/roi/roi.h"
#include "support/test_support.h"

namespace facepipe::face {
namespace {

namespace fs = std::filesystem;
constexpr float kPi = std::numbers::pi_v<float>;

fs::path mp_dir() { return test::reference_dir() / "mediapipe"; }

// MediaPipe's faceLandmarks[face] in image pixels (z times the image width).
std::vector<Landmark> mediapipe_landmarks(const nlohmann::json& j, size_t face) {
  const float W = j.at("width").get<float>(), H = j.at("height").get<float>();
  std::vector<Landmark> v;
  for (const auto& p : j.at("faceLandmarks").at(face))
    v.push_back(Landmark{p[0].get<float>() * W, p[1].get<float>() * H, p[2].get<float>() * W});
  return v;
}

Detection mediapipe_detection(const nlohmann::json& j, size_t i) {
  const float W = j.at("width").get<float>(), H = j.at("height").get<float>();
  const auto& d = j.at("detections").at(i);
  const auto& b = d.at("boundingBox");
  Detection det;
  det.box = BoundingBox{b.at("originX").get<float>(), b.at("originY").get<float>(),
                        b.at("originX").get<float>() + b.at("width").get<float>(),
                        b.at("originY").get<float>() + b.at("height").get<float>()};
  det.score = d.at("score").get<float>();
  det.num_keypoints = 6;
  for (size_t k = 0; k < 6; ++k)
    det.keypoints[k] = Point2{d.at("keypoints")[k][0].get<float>() * W, d.at("keypoints")[k][1].get<float>() * H};
  return det;
}

TEST(RoiLandmarks, ProjectedNetworkOutputLandsOnMediaPipeLandmarks) {
  for (const char* stem : {"glasses_frontal", "group_8faces_selfie"}) {
    const fs::path dir = mp_dir() / "raw" / stem / "landmarks_face0_crop";
    FACEPIPE_REQUIRE_FILE(dir / "output_0.bin");
    const auto meta = test::read_json(dir / "meta.json");
    const auto ref = test::read_json(mp_dir() / (std::string(stem) + ".json"));
    const auto& r = meta.at("how").at("rect");
    const float x0 = r.at("x0").get<float>(), y0 = r.at("y0").get<float>(), w = r.at("w").get<float>(),
                h = r.at("h").get<float>();
    const RotatedRect rect{x0 + w / 2, y0 + h / 2, w, h, 0.0f};

    const auto raw = test::read_f32_file(dir / "output_0.bin");
    ASSERT_EQ(raw.size(), static_cast<size_t>(kNumLandmarks * 3));
    std::vector<Landmark> ours(kNumLandmarks);
    project_landmarks(raw.data(), kNumLandmarks, rect, ours.data());

    const auto& check = meta.at("extra").at("check");
    const auto want = mediapipe_landmarks(ref, check.at("closestMediapipeFace").get<size_t>());
    ASSERT_EQ(want.size(), static_cast<size_t>(kNumLandmarks));
    double dist = 0, max_dist = 0, dz = 0;
    for (int i = 0; i < kNumLandmarks; ++i) {
      const double d = std::hypot(ours[static_cast<size_t>(i)].x - want[static_cast<size_t>(i)].x,
                                  ours[static_cast<size_t>(i)].y - want[static_cast<size_t>(i)].y);
      dist += d;
      max_dist = std::max(max_dist, d);
      dz += std::fabs(ours[static_cast<size_t>(i)].z - want[static_cast<size_t>(i)].z);
    }
    dist /= kNumLandmarks;
    dz /= kNumLandmarks;
    const double expected = check.at("meanDistancePx").get<double>();
    const float presence = face_presence_score(test::read_f32_file(dir / "output_1.bin").at(0));
    std::printf("[ %s ] mean distance %.3f px (meta %.3f), max %.2f px, mean |dz| %.2f px, presence %.6f\n", stem, dist,
                expected, max_dist, dz, presence);
    // Same computation as the reference's own check, so it must agree closely; MediaPipe's own ROI
    // was rotated and sized differently, hence the 1-2 px.
    EXPECT_NEAR(dist, expected, 0.02) << stem;
    EXPECT_LT(dist, 2.5) << stem;
    EXPECT_LT(dz / check.at("faceSizePx").get<double>(), 0.02) << stem;
    EXPECT_GT(presence, 0.99f);
  }
}

TEST(RoiLandmarks, DetectionRoiIsTheReferenceCropRect) {
  // mpref made landmarks_face0_crop from MediaPipe's detection 0: centre of the box, side 1.5x.
  const auto ref = test::read_json(mp_dir() / "glasses_frontal.json");
  const Detection det = mediapipe_detection(ref, 0);
  const RotatedRect roi = roi_from_detection(det);
  EXPECT_FLOAT_EQ(roi.cx, 143.25f + 742.5f / 2);
  EXPECT_FLOAT_EQ(roi.cy, 175.25f + 742.5f / 2);
  EXPECT_FLOAT_EQ(roi.width, 742.5f);
  EXPECT_FLOAT_EQ(roi.height, 742.5f);
  // Eye line slightly rising to the image's right: a small negative (counter-clockwise) rotation.
  const Point2 a = det.keypoints[0], b = det.keypoints[1];
  EXPECT_NEAR(roi.rotation, -std::atan2(a.y - b.y, b.x - a.x), 1e-6);
  EXPECT_LT(roi.rotation, 0.0f);
  EXPECT_GT(roi.rotation, -0.1f);
}

TEST(RoiLandmarks, RotationSignOnTheRolledFace) {
  // roll30.jpg: the head is rolled so that the eye on the image's right is lower: the ROI must turn
  // clockwise (positive). Detection keypoints and landmark eye corners must agree.
  const fs::path path = mp_dir() / "roll30.json";
  FACEPIPE_REQUIRE_FILE(path);
  const auto ref = test::read_json(path);
  const RotatedRect from_detection = roi_from_detection(mediapipe_detection(ref, 0));
  const auto lms = mediapipe_landmarks(ref, 0);
  const RotatedRect from_landmarks = roi_from_landmarks(lms);
  std::printf("[ roll30 ] rotation from detection %.3f rad, from landmarks %.3f rad\n", from_detection.rotation,
              from_landmarks.rotation);
  EXPECT_GT(from_detection.rotation, 0.3f);
  EXPECT_LT(from_detection.rotation, 0.7f);
  EXPECT_NEAR(from_landmarks.rotation, from_detection.rotation, 0.12f);
  EXPECT_FLOAT_EQ(from_landmarks.width, from_landmarks.height);  // square_long
}

TEST(RoiLandmarks, LandmarkRoiRoundTrip) {
  for (const char* stem : {"glasses_frontal", "roll30", "tilt_hand_occlusion", "yaw_profile"}) {
    const fs::path path = mp_dir() / (std::string(stem) + ".json");
    FACEPIPE_REQUIRE_FILE(path);
    const auto lms = mediapipe_landmarks(test::read_json(path), 0);
    const RotatedRect roi = roi_from_landmarks(lms);
    float x1 = 1e9f, x2 = -1e9f, y1 = 1e9f, y2 = -1e9f;
    for (const Landmark& l : lms) {
      x1 = std::min(x1, l.x), x2 = std::max(x2, l.x), y1 = std::min(y1, l.y), y2 = std::max(y2, l.y);
    }
    EXPECT_FLOAT_EQ(roi.width, 1.5f * std::max(x2 - x1, y2 - y1)) << stem;
    EXPECT_FLOAT_EQ(roi.cx, x1 + (x2 - x1) / 2) << stem;
    // Image → crop → image.
    std::vector<float> crop(lms.size() * 3);
    unproject_landmarks(lms.data(), static_cast<int>(lms.size()), roi, crop.data());
    float lo = 1e9f, hi = -1e9f;
    for (size_t i = 0; i < lms.size(); ++i) {
      lo = std::min({lo, crop[3 * i], crop[3 * i + 1]});
      hi = std::max({hi, crop[3 * i], crop[3 * i + 1]});
    }
    EXPECT_GT(lo, 0.0f) << stem;  // the 1.5x square ROI holds the whole face
    EXPECT_LT(hi, 256.0f) << stem;
    std::vector<Landmark> back(lms.size());
    project_landmarks(crop.data(), static_cast<int>(lms.size()), roi, back.data());
    double worst = 0;
    for (size_t i = 0; i < lms.size(); ++i) {
      worst = std::max<double>(worst, std::hypot(back[i].x - lms[i].x, back[i].y - lms[i].y));
      worst = std::max<double>(worst, std::fabs(back[i].z - lms[i].z));
    }
    EXPECT_LT(worst, 1e-3) << stem;
  }
}

TEST(RoiLandmarks, CropAndProjectionShareOneGeometry) {
  // On a linear ramp, bilinear sampling is exact: the crop's pixel (ox, oy) must hold the image
  // value at project((ox + 0.5, oy + 0.5)), for any rotation.
  const int W = 300, H = 200;
  std::vector<uint8_t> pixels(W * H * 3);
  auto value = [](double x, double y) { return 0.3 * (x - 0.5) + 0.5 * (y - 0.5) + 10.0; };
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x)
      for (int c = 0; c < 3; ++c) pixels[(y * W + x) * 3 + c] = static_cast<uint8_t>(std::lround(value(x + 0.5, y + 0.5)));
  // The stored pixels are rounded to integers: allow that rounding error (0.5).
  const kernels::ImageView img = kernels::ImageView::packed(pixels.data(), W, H);
  for (float rotation : {0.0f, 0.4f, -1.3f, 2.5f}) {
    const RotatedRect roi{150.0f, 100.0f, 120.0f, 120.0f, rotation};
    const int n = 32;
    std::vector<float> crop(n * n * 3);
    ASSERT_TRUE(crop_landmark_input(img, roi, crop.data(), n).is_ok());
    double worst = 0;
    for (int oy = 0; oy < n; ++oy) {
      for (int ox = 0; ox < n; ++ox) {
        const float raw[3] = {ox + 0.5f, oy + 0.5f, 0.0f};
        Landmark p;
        project_landmarks(raw, 1, roi, &p, n);
        worst = std::max(worst, std::fabs(crop[(oy * n + ox) * 3] * 255.0 - value(p.x, p.y)));
      }
    }
    EXPECT_LT(worst, 0.51) << "rotation " << rotation;  // pixel values were rounded to integers
  }
}

TEST(RoiLandmarks, RectTransformAndAngles) {
  EXPECT_NEAR(normalize_radians(3 * kPi / 2), -kPi / 2, 1e-6);
  EXPECT_NEAR(normalize_radians(-3 * kPi / 2), kPi / 2, 1e-6);
  EXPECT_NEAR(normalize_radians(0.25f), 0.25f, 1e-7);
  // Vector pointing down-right on screen (y down) needs a clockwise (positive) turn to be level.
  EXPECT_NEAR(rotation_from_points({0, 0}, {1, 1}), kPi / 4, 1e-6);
  EXPECT_NEAR(rotation_from_points({0, 0}, {1, -1}), -kPi / 4, 1e-6);
  EXPECT_NEAR(rotation_from_points({0, 0}, {-1, 0}), -kPi, 1e-6);  // upside down

  RectTransform t;
  t.scale_x = 2.0f;
  t.scale_y = 1.0f;
  t.shift_y = 0.5f;
  t.square_long = true;
  RotatedRect r{10, 20, 4, 8, kPi / 2};
  RotatedRect o = transform_rect(r, t);
  // Shift of half the height along the rect's own y axis, which points to the image's left here.
  EXPECT_NEAR(o.cx, 10 - 4, 1e-5);
  EXPECT_NEAR(o.cy, 20, 1e-5);
  EXPECT_FLOAT_EQ(o.width, 16);
  EXPECT_FLOAT_EQ(o.height, 8);

  const Roi sq = to_roi(RotatedRect{1, 2, 5, 7, 0.3f});
  EXPECT_FLOAT_EQ(sq.size, 7);
  EXPECT_FLOAT_EQ(to_rotated_rect(sq).height, 7);
}

}  // namespace
}  // namespace facepipe::face
