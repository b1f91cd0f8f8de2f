#include "face/detection/retinaface.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "face/detection_test_util.h"
#include "support/test_support.h"

namespace facepipe::face {
namespace {

namespace fs = std::filesystem;

float iou(const BoundingBox& a, const BoundingBox& b) {
  const float ix = std::max(0.0f, std::min(a.x2, b.x2) - std::max(a.x1, b.x1));
  const float iy = std::max(0.0f, std::min(a.y2, b.y2) - std::max(a.y1, b.y1));
  const float inter = ix * iy;
  return inter / (a.width() * a.height() + b.width() * b.height() - inter);
}

TEST(RetinaFace, PriorCountAndGeometry) {
  RetinaFace det;
  EXPECT_EQ(det.num_priors(512, 312), 6592);  // (39*64 + 20*32 + 10*16) * 2
  EXPECT_EQ(det.num_priors(240, 160), 1580);
  EXPECT_EQ(det.num_priors(640, 640), 16800);

  RetinaFaceGeometry g = det.plan(1024, 624);  // native
  EXPECT_EQ(g.tensor_width, 1024);
  EXPECT_EQ(g.tensor_height, 624);
  EXPECT_FLOAT_EQ(g.scale_x, 1.0f);

  RetinaFaceConfig c;
  c.detection_size = 640;
  RetinaFace sized(c);
  g = sized.plan(1920, 1080);
  EXPECT_EQ(g.tensor_width, 640);
  EXPECT_EQ(g.tensor_height, 360);
  EXPECT_FLOAT_EQ(g.scale_x, 3.0f);
  EXPECT_FLOAT_EQ(g.scale_y, 3.0f);

  g = det.plan(1000, 500, 640, 640);  // fixed model input: fit, top-left
  EXPECT_EQ(g.tensor_width, 640);
  EXPECT_EQ(g.tensor_height, 640);
  EXPECT_EQ(g.content_width, 640);
  EXPECT_EQ(g.content_height, 320);
  EXPECT_FLOAT_EQ(g.scale_x, 1000.0f / 640.0f);
  EXPECT_FLOAT_EQ(g.scale_y, 500.0f / 320.0f);
}

// Tensors for a 64x32 input: priors 8x4x2 (stride 8) + 4x2x2 (16) + 2x1x2 (32) = 84.
struct Synthetic {
  static constexpr int kW = 64, kH = 32;
  int n;
  std::vector<float> loc, conf, landm;
  explicit Synthetic(int priors) : n(priors), loc(priors * 4, 0.0f), conf(priors * 2, 0.0f), landm(priors * 10, 0.0f) {
    for (int i = 0; i < n; ++i) conf[2 * i] = 1.0f;  // background
  }
  void face(int i, float score, std::array<float, 4> l) {
    conf[2 * i] = 1 - score;
    conf[2 * i + 1] = score;
    for (int k = 0; k < 4; ++k) loc[4 * i + k] = l[static_cast<size_t>(k)];
    for (int k = 0; k < 10; ++k) landm[10 * i + k] = static_cast<float>(k % 2 ? -k : k);
  }
};

TEST(RetinaFace, DecodesPriorsExactly) {
  RetinaFace det;
  ASSERT_EQ(det.num_priors(Synthetic::kW, Synthetic::kH), 84);
  Synthetic s(84);
  // Prior 19: stride 8, row 1, column 1, second size (32): centre (12, 12) px, 32 x 32.
  s.face(19, 0.9f, {1.0f, -0.5f, 0.0f, std::log(2.0f) / 0.2f});
  // Prior 64: first prior of stride 16 (row 0, col 0, size 64): centre (8, 8), 64 x 64.
  s.face(64, 0.51f, {6.0f, 0, -5.0f, -5.0f});  // centre (8 + 6 * 0.1 * 64, 8), side 64 / e
  s.face(65, 0.5f, {0, 0, 0, 0});  // not above the threshold (strict >)
  RetinaFaceGeometry g = det.plan(128, 64, 0, 0);
  g.tensor_width = g.content_width = Synthetic::kW;
  g.tensor_height = g.content_height = Synthetic::kH;
  g.scale_x = g.scale_y = 2.0f;  // the image was 128x64
  det.set_geometry(g);
  std::vector<Detection> out;
  ASSERT_TRUE(det.postprocess(s.loc.data(), s.conf.data(), s.landm.data(), 84, out).is_ok());
  ASSERT_EQ(out.size(), 2u);
  // cx = 12 + 1 * 0.1 * 32 = 15.2; cy = 12 - 0.5 * 0.1 * 32 = 10.4; w = 32; h = 32 * 2 = 64.
  EXPECT_NEAR(out[0].box.x1, 2 * (15.2f - 16), 1e-4);
  EXPECT_NEAR(out[0].box.x2, 2 * (15.2f + 16), 1e-4);
  EXPECT_NEAR(out[0].box.y1, 2 * (10.4f - 32), 1e-4);
  EXPECT_NEAR(out[0].box.y2, 2 * (10.4f + 32), 1e-4);
  EXPECT_FLOAT_EQ(out[0].score, 0.9f);
  ASSERT_EQ(out[0].num_keypoints, 5);
  for (int k = 0; k < 5; ++k) {
    const float lx = static_cast<float>(2 * k), ly = static_cast<float>(-(2 * k + 1));
    EXPECT_NEAR(out[0].keypoints[static_cast<size_t>(k)].x, 2 * (12 + lx * 0.1f * 32), 1e-4);
    EXPECT_NEAR(out[0].keypoints[static_cast<size_t>(k)].y, 2 * (12 + ly * 0.1f * 32), 1e-4);
  }
  // The stride-16 box, moved clear of the first, survives NMS.
  const float side = 64.0f * std::exp(-1.0f);
  EXPECT_NEAR(out[1].box.x1, 2 * (46.4f - side / 2), 1e-3);
  EXPECT_NEAR(out[1].box.y2, 2 * (8.0f + side / 2), 1e-3);
  EXPECT_FLOAT_EQ(out[1].score, 0.51f);
}

TEST(RetinaFace, NmsUsesPlusOneAreasAndKeepsTheStrongest) {
  RetinaFace det;
  Synthetic s(84);
  // Priors 0 and 2 (stride 8, size 16, cells (0,0) and (0,1)): same size, 8 px apart.
  s.face(0, 0.8f, {0, 0, 0, 0});   // [-4, 12] (tensor px, scale 1)
  s.face(2, 0.95f, {0, 0, 0, 0});  // [4, 20]: inter (12-4+1)*(17) = 153, areas 289 → IoU 0.36 < 0.4: kept
  // Cell (0,2), centre 20 moved by -0.8: [11.2, 27.2]. With "+1" areas its IoU with #2 is
  // 166.6 / 411.4 = 0.405 > 0.4: dropped (plain areas would give 0.379 and keep it).
  s.face(4, 0.7f, {-0.5f, 0, 0, 0});
  RetinaFaceGeometry g;
  g.image_width = g.tensor_width = g.content_width = Synthetic::kW;
  g.image_height = g.tensor_height = g.content_height = Synthetic::kH;
  det.set_geometry(g);
  std::vector<Detection> out;
  ASSERT_TRUE(det.postprocess(s.loc.data(), s.conf.data(), s.landm.data(), 84, out).is_ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_FLOAT_EQ(out[0].score, 0.95f);
  EXPECT_FLOAT_EQ(out[1].score, 0.8f);

  // keep_top_k and the wrong output size.
  RetinaFaceConfig c;
  c.keep_top_k = 1;
  RetinaFace one(c);
  one.set_geometry(g);
  ASSERT_TRUE(one.postprocess(s.loc.data(), s.conf.data(), s.landm.data(), 84, out).is_ok());
  EXPECT_EQ(out.size(), 1u);
  EXPECT_FALSE(one.postprocess(s.loc.data(), s.conf.data(), s.landm.data(), 83, out).is_ok());
}

TEST(RetinaFace, CrowdRawOutputsMatchReferenceDetections) {
  const fs::path raw = test::reference_dir() / "retinaface_raw";
  const fs::path ref_path = test::reference_dir() / "retinaface" / "crowd_20faces.json";
  FACEPIPE_REQUIRE_FILE(raw / "crowd_1x3x312x512.output0_1x6592x4.f32");
  FACEPIPE_REQUIRE_FILE(ref_path);
  const auto loc = test::read_f32_file(raw / "crowd_1x3x312x512.output0_1x6592x4.f32");
  const auto conf = test::read_f32_file(raw / "crowd_1x3x312x512.output1_1x6592x2.f32");
  const auto landm = test::read_f32_file(raw / "crowd_1x3x312x512.output2_1x6592x10.f32");
  const auto ref = test::read_json(ref_path);

  RetinaFaceConfig config;
  config.detection_size = 512;
  RetinaFace det(config);
  const RetinaFaceGeometry g = det.plan(ref.at("width").get<int>(), ref.at("height").get<int>());
  ASSERT_EQ(det.num_priors(g.tensor_width, g.tensor_height), 6592);
  det.set_geometry(g);
  std::vector<Detection> out;
  out.reserve(64);
  ASSERT_TRUE(det.postprocess(loc.data(), conf.data(), landm.data(), 6592, out).is_ok());

  // The reference ran at the native 1024x624; ours at 512x312: boxes differ a little, scores more.
  int strong = 0, found = 0, large = 0, large_found = 0;
  double iou_sum = 0, worst_iou = 1, lm_sum = 0;
  int lm_n = 0;
  for (const auto& f : ref.at("faces")) {
    const float score = f.at("score").get<float>();
    if (score < 0.8f) continue;
    ++strong;
    const auto& b = f.at("bbox");
    const BoundingBox rb{b[0].get<float>(), b[1].get<float>(), b[2].get<float>(), b[3].get<float>()};
    float best = 0;
    const Detection* match = nullptr;
    for (const Detection& d : out) {
      const float v = iou(d.box, rb);
      if (v > best) best = v, match = &d;
    }
    const bool is_large = rb.width() >= 45.0f;  // >= 22 px in the half-size input
    large += is_large;
    if (best >= 0.7f) {
      ++found;
      large_found += is_large;
      iou_sum += best;
      worst_iou = std::min<double>(worst_iou, best);
      for (int k = 0; k < 5; ++k) {
        const auto& p = f.at("landmarks5")[static_cast<size_t>(k)];
        lm_sum += std::hypot(match->keypoints[static_cast<size_t>(k)].x - p[0].get<float>(),
                             match->keypoints[static_cast<size_t>(k)].y - p[1].get<float>());
        ++lm_n;
      }
    } else {
      std::printf("[ retinaface ] reference face (%.0f %.0f %.0f %.0f) s %.3f: best IoU %.2f\n", rb.x1, rb.y1, rb.x2,
                  rb.y2, score, best);
    }
  }
  std::printf("[ retinaface crowd 512x312 vs native reference ] ours %zu faces (score > 0.5), reference %d faces >= 0.8; "
              "matched %d with IoU >= 0.7 (mean IoU %.3f, worst %.3f), mean landmark distance %.2f px\n",
              out.size(), strong, found, found ? iou_sum / found : 0.0, worst_iou, lm_n ? lm_sum / lm_n : 0.0);
  std::printf("[ retinaface ] faces >= 45 px: %d of %d matched\n", large_found, large);
  EXPECT_GE(strong, 20);
  EXPECT_EQ(large_found, large);         // every face that is not tiny at half resolution
  EXPECT_GE(found, strong * 8 / 10);     // small faces may be lost to the half-resolution input
  EXPECT_GT(iou_sum / found, 0.8);
}

}  // namespace
}  // namespace facepipe::face
