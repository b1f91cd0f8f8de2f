// The CPU image kernels against the reference input tensors that were fed to the real networks
// (shared/reference/mediapipe/raw/*/…/input_0.bin, retinaface_raw/crowd_1x3x312x512.f32).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "face/detection/blazeface.h"
#include "face/detection_test_util.h"
#include "face/detection/retinaface.h"
#include "face/roi/roi.h"
#include "support/test_support.h"

namespace facepipe::face {
namespace {

namespace fs = std::filesystem;

fs::path mp_dir() { return test::reference_dir() / "mediapipe"; }

kernels::RotatedRect rect_from_meta(const nlohmann::json& meta) {
  const auto& r = meta.at("how").at("rect");
  const float x0 = r.at("x0").get<float>(), y0 = r.at("y0").get<float>();
  const float w = r.at("w").get<float>(), h = r.at("h").get<float>();
  return kernels::RotatedRect{x0 + w / 2, y0 + h / 2, w, h, 0.0f};
}

struct Stats {
  double mean_abs = 0, max_abs = 0;
};
Stats diff_stats(const std::vector<float>& a, const std::vector<float>& b) {
  Stats s;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = std::fabs(static_cast<double>(a[i]) - b[i]);
    s.mean_abs += d;
    s.max_abs = std::max(s.max_abs, d);
  }
  s.mean_abs /= static_cast<double>(a.size());
  return s;
}

TEST(DetectionPreprocess, LandmarkCropMatchesReferenceTensor) {
  for (const char* stem : {"glasses_frontal", "group_8faces_selfie"}) {
    const fs::path dir = mp_dir() / "raw" / stem / "landmarks_face0_crop";
    FACEPIPE_REQUIRE_FILE(dir / "input_0.bin");
    const auto meta = test::read_json(dir / "meta.json");
    const auto image = test::read_png(mp_dir() / "decoded" / (std::string(stem) + ".png"));
    const kernels::RotatedRect rect = rect_from_meta(meta);
    std::vector<float> ours(kLandmarkInputSize * kLandmarkInputSize * 3);
    ASSERT_TRUE(crop_landmark_input(image.view(), rect, ours.data()).is_ok());
    const std::vector<float> ref = test::read_f32_file(dir / "input_0.bin");
    ASSERT_EQ(ours.size(), ref.size());
    const Stats s = diff_stats(ours, ref);
    std::printf("[ crop %s ] mean |d| %.3g, max |d| %.3g\n", stem, s.mean_abs, s.max_abs);
    EXPECT_LE(s.mean_abs, 1e-5) << stem;
    EXPECT_LE(s.max_abs, 1e-5) << stem;
  }
}

TEST(DetectionPreprocess, BlazeFaceLetterboxMatchesReferenceTensor) {
  BlazeFace detector;
  for (const char* stem : {"crowd_20faces", "glasses_frontal", "group_8faces_selfie", "no_face_rocket_landscape"}) {
    const fs::path dir = mp_dir() / "raw" / stem / "detector_letterbox";
    FACEPIPE_REQUIRE_FILE(dir / "input_0.bin");
    const auto meta = test::read_json(dir / "meta.json");
    const auto image = test::read_png(mp_dir() / "decoded" / (std::string(stem) + ".png"));
    std::vector<float> ours(128 * 128 * 3);
    ASSERT_TRUE(detector.preprocess(image.view(), ours.data()).is_ok());
    const kernels::RotatedRect want = rect_from_meta(meta);
    const kernels::RotatedRect got = detector.input_region();
    EXPECT_NEAR(got.cx - got.width / 2, want.cx - want.width / 2, 1e-3) << stem;
    EXPECT_NEAR(got.cy - got.height / 2, want.cy - want.height / 2, 1e-3) << stem;
    EXPECT_NEAR(got.width, want.width, 1e-3) << stem;
    EXPECT_NEAR(got.height, want.height, 1e-3) << stem;
    const std::vector<float> ref = test::read_f32_file(dir / "input_0.bin");
    ASSERT_EQ(ours.size(), ref.size());
    const Stats s = diff_stats(ours, ref);
    std::printf("[ letterbox %s ] mean |d| %.3g, max |d| %.3g\n", stem, s.mean_abs, s.max_abs);
    EXPECT_LE(s.mean_abs, 1e-5) << stem;
    EXPECT_LE(s.max_abs, 1e-5) << stem;
  }
}

TEST(DetectionPreprocess, RetinaFaceResizeIsCloseToTheReferenceInput) {
  // The reference input was made with PIL's bilinear resize (antialiased) of the JPEG; ours reads
  // Chromium's decode of the same JPEG. Not bit-exact by construction: compare loosely.
  const fs::path ref_path = test::reference_dir() / "retinaface_raw" / "crowd_1x3x312x512.f32";
  FACEPIPE_REQUIRE_FILE(ref_path);
  const auto image = test::read_png(mp_dir() / "decoded" / "crowd_20faces.png");
  RetinaFaceConfig config;
  config.detection_size = 512;
  for (kernels::ResizeFilter filter : {kernels::ResizeFilter::kAntialiasBilinear, kernels::ResizeFilter::kBilinear}) {
    config.resize_filter = filter;
    RetinaFace detector(config);
    const RetinaFaceGeometry g = detector.plan(image.width, image.height);
    ASSERT_EQ(g.tensor_width, 512);
    ASSERT_EQ(g.tensor_height, 312);
    EXPECT_FLOAT_EQ(g.scale_x, 2.0f);
    EXPECT_FLOAT_EQ(g.scale_y, 2.0f);
    std::vector<float> ours(3 * 312 * 512);
    ASSERT_TRUE(detector.preprocess(image.view(), g, ours.data()).is_ok());
    const std::vector<float> ref = test::read_f32_file(ref_path);
    ASSERT_EQ(ours.size(), ref.size());
    const Stats s = diff_stats(ours, ref);
    const bool aa = filter == kernels::ResizeFilter::kAntialiasBilinear;
    std::printf("[ retinaface resize %s ] mean |d| %.3g, max |d| %.3g (0..255 units)\n", aa ? "antialias" : "bilinear",
                s.mean_abs, s.max_abs);
    EXPECT_LT(s.mean_abs, aa ? 0.5 : 3.0);
    if (aa) {
      EXPECT_LE(s.max_abs, 1.01);  // PIL rounds its intermediate pass to 8 bits
    }
  }
}

}  // namespace
}  // namespace facepipe::face
