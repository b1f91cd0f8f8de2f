#include "face/detection/blazeface.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>

#include "face/detection_test_util.h"
#include "support/test_support.h"

namespace facepipe::face {
namespace {

namespace fs = std::filesystem;

TEST(SsdAnchors, ShortRangeLayout) {
  const auto anchors = generate_ssd_anchors(BlazeFaceConfig::short_range().anchors);
  ASSERT_EQ(anchors.size(), 896u);
  // Stride 8: 16x16 cells, 2 anchors per cell; then stride 16 (3 layers merged): 8x8 cells, 6 per cell.
  EXPECT_FLOAT_EQ(anchors[0].x_center, 0.5f / 16);
  EXPECT_FLOAT_EQ(anchors[1].x_center, 0.5f / 16);
  EXPECT_FLOAT_EQ(anchors[2].x_center, 1.5f / 16);
  EXPECT_FLOAT_EQ(anchors[511].y_center, 15.5f / 16);
  EXPECT_FLOAT_EQ(anchors[512].x_center, 0.5f / 8);
  EXPECT_FLOAT_EQ(anchors[517].x_center, 0.5f / 8);
  EXPECT_FLOAT_EQ(anchors[518].x_center, 1.5f / 8);
  EXPECT_FLOAT_EQ(anchors[895].x_center, 7.5f / 8);
  for (const Anchor& a : anchors) {
    EXPECT_EQ(a.w, 1.0f);  // fixed_anchor_size
    EXPECT_EQ(a.h, 1.0f);
  }
}

TEST(SsdAnchors, FullRangeLayout) {
  const auto anchors = generate_ssd_anchors(BlazeFaceConfig::full_range().anchors);
  ASSERT_EQ(anchors.size(), 2304u);
  EXPECT_FLOAT_EQ(anchors[0].x_center, 0.5f / 48);
  EXPECT_FLOAT_EQ(anchors[1].x_center, 1.5f / 48);
  EXPECT_FLOAT_EQ(anchors[48].y_center, 1.5f / 48);
}

TEST(SsdAnchors, BadOptionsThrow) {
  SsdAnchorOptions o;
  EXPECT_THROW(generate_ssd_anchors(o), Error);  // no strides
  BlazeFaceConfig c = BlazeFaceConfig::short_range();
  c.num_boxes = 900;
  EXPECT_THROW(BlazeFace{c}, Error);
}

// ---- Exact logic on synthetic tensors -------------------------------------------------------------

struct SyntheticOutputs {
  std::vector<float> regressors = std::vector<float>(896 * 16, 0.0f);
  std::vector<float> scores = std::vector<float>(896, -50.0f);
  // A box centred on anchor `i`'s centre + (dx, dy), size w x h, keypoints at the centre + k.
  void set(int i, float logit, float dx, float dy, float w, float h) {
    float* r = &regressors[static_cast<size_t>(i) * 16];
    r[0] = dx;
    r[1] = dy;
    r[2] = w;
    r[3] = h;
    for (int k = 0; k < 6; ++k) {
      r[4 + 2 * k] = dx + static_cast<float>(k);
      r[5 + 2 * k] = dy - static_cast<float>(k);
    }
    scores[static_cast<size_t>(i)] = logit;
  }
};

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

TEST(BlazeFace, WeightedNmsAveragesOverlappingBoxes) {
  BlazeFace detector;
  // The input covers image pixels [0, 256) x [0, 256): tensor pixel p → image pixel 2p.
  detector.set_input_region(kernels::RotatedRect{128, 128, 256, 256, 0});
  SyntheticOutputs s;
  // Anchors 512 and 513 share the centre (8, 8) in tensor pixels (stride 16 cell 0).
  s.set(512, 3.0f, 0, 0, 20, 20);    // box [-2, 18] (tensor px)
  s.set(513, 1.0f, 2, 0, 20, 20);    // box [0, 20] x [-2, 18]: IoU 0.818 → merged
  s.set(0, 2.0f, 0, 0, 4, 4);        // anchor 0 centre (4, 4): tiny box inside: IoU < 0.3 → separate
  s.set(600, 0.1f, 0, 0, 20, 20);    // score 0.525 ≥ 0.5, elsewhere
  s.set(700, -0.1f, 0, 0, 20, 20);   // score 0.475 < 0.5: dropped
  std::vector<Detection> out;
  out.reserve(16);
  ASSERT_TRUE(detector.postprocess(s.regressors.data(), s.scores.data(), out).is_ok());
  ASSERT_EQ(out.size(), 3u);

  const float w1 = sigmoid(3.0f), w2 = sigmoid(1.0f);
  // Merged: corners averaged with the scores as weights; score = the best's.
  EXPECT_FLOAT_EQ(out[0].score, w1);
  const float x1 = (w1 * -2.0f + w2 * 0.0f) / (w1 + w2);
  const float x2 = (w1 * 18.0f + w2 * 20.0f) / (w1 + w2);
  EXPECT_NEAR(out[0].box.x1, 2 * x1, 1e-4);
  EXPECT_NEAR(out[0].box.x2, 2 * x2, 1e-4);
  EXPECT_NEAR(out[0].box.y1, 2 * -2.0f, 1e-4);
  EXPECT_NEAR(out[0].box.y2, 2 * 18.0f, 1e-4);
  ASSERT_EQ(out[0].num_keypoints, 6);
  for (int k = 0; k < 6; ++k) {
    const float kx = (w1 * (8.0f + k) + w2 * (8.0f + 2 + k)) / (w1 + w2);
    EXPECT_NEAR(out[0].keypoints[static_cast<size_t>(k)].x, 2 * kx, 1e-4);
    EXPECT_NEAR(out[0].keypoints[static_cast<size_t>(k)].y, 2 * (8.0f - k), 1e-4);
  }
  EXPECT_FLOAT_EQ(out[1].score, sigmoid(2.0f));
  EXPECT_NEAR(out[1].box.x1, 2 * 2.0f, 1e-4);
  EXPECT_NEAR(out[1].box.x2, 2 * 6.0f, 1e-4);
  EXPECT_FLOAT_EQ(out[2].score, sigmoid(0.1f));

  // num_faces clipping keeps the strongest.
  BlazeFaceConfig c = BlazeFaceConfig::short_range();
  c.max_detections = 1;
  BlazeFace one(c);
  one.set_input_region(kernels::RotatedRect{128, 128, 256, 256, 0});
  ASSERT_TRUE(one.postprocess(s.regressors.data(), s.scores.data(), out).is_ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FLOAT_EQ(out[0].score, w1);
}

TEST(BlazeFace, ScoreClippingAndInvalidBoxes) {
  BlazeFace detector;
  detector.set_input_region(kernels::RotatedRect{64, 64, 128, 128, 0});
  SyntheticOutputs s;
  s.set(100, 1e6f, 0, 0, 10, 10);    // clipped to 100 before the sigmoid
  s.set(300, 5.0f, 0, 0, -10, 10);   // negative width: dropped like MediaPipe
  s.set(400, 5.0f, 0, 0, NAN, 10);   // NaN: dropped
  std::vector<Detection> out;
  ASSERT_TRUE(detector.postprocess(s.regressors.data(), s.scores.data(), out).is_ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].score, 1.0f / (1.0f + std::exp(-100.0f)));
}

TEST(BlazeFace, RotatedRegionProjectsKeypointsAndBoundingBox) {
  BlazeFace detector;
  // Region rotated by 90 degrees: tensor x runs down the image.
  detector.set_input_region(kernels::RotatedRect{100, 50, 128, 128, static_cast<float>(M_PI / 2)});
  SyntheticOutputs s;
  s.set(512, 4.0f, 0, 0, 16, 8);  // centre (8, 8) tensor px, 16 wide, 8 tall
  std::vector<Detection> out;
  ASSERT_TRUE(detector.postprocess(s.regressors.data(), s.scores.data(), out).is_ok());
  ASSERT_EQ(out.size(), 1u);
  // Tensor (8, 8) → image centre + R90 * (8 - 64, 8 - 64) = (100 + 56, 50 - 56).
  EXPECT_NEAR((out[0].box.x1 + out[0].box.x2) / 2, 156.0f, 1e-3);
  EXPECT_NEAR((out[0].box.y1 + out[0].box.y2) / 2, -6.0f, 1e-3);
  EXPECT_NEAR(out[0].box.width(), 8.0f, 1e-3);   // tensor height becomes image width
  EXPECT_NEAR(out[0].box.height(), 16.0f, 1e-3);
}

TEST(BlazeFace, PostprocessNeedsARegion) {
  BlazeFace detector;
  SyntheticOutputs s;
  std::vector<Detection> out;
  EXPECT_FALSE(detector.postprocess(s.regressors.data(), s.scores.data(), out).is_ok());
}

// ---- MediaPipe parity on the real network outputs -------------------------------------------------

struct MpDetection {
  float x, y, w, h, score;
  std::vector<Point2> keypoints;  // pixels
};

std::vector<MpDetection> load_mediapipe_detections(const nlohmann::json& j) {
  const float W = j.at("width").get<float>(), H = j.at("height").get<float>();
  std::vector<MpDetection> v;
  for (const auto& d : j.at("detections")) {
    MpDetection m;
    const auto& b = d.at("boundingBox");
    m.x = b.at("originX").get<float>();
    m.y = b.at("originY").get<float>();
    m.w = b.at("width").get<float>();
    m.h = b.at("height").get<float>();
    m.score = d.at("score").get<float>();
    for (const auto& k : d.at("keypoints")) m.keypoints.push_back(Point2{k[0].get<float>() * W, k[1].get<float>() * H});
    v.push_back(m);
  }
  return v;
}

// The raw tensors were computed by LiteRT on mpref's own letterbox of the decoded image, not on the
// tensor MediaPipe's WebGL preprocessing made inside tasks-vision: MediaPipe's scores appear nowhere
// among the raw anchor scores (glasses: 0.918067 vs raw 0.921604), so its network saw a slightly
// different input and 1-pixel parity is out of reach from these files. What must hold: the same
// faces, in about the same place, with about the same score; any extra face of ours is one whose
// score sits at the threshold. The decode/NMS arithmetic itself is pinned by the synthetic tests.
// Measured (docs/face_detection.md): IoU >= 0.87, centres within 5.6% of the face size (MediaPipe's
// boxes sit consistently right/below ours and 1-3% smaller), scores within 0.021.
float iou(const BoundingBox& a, const BoundingBox& b) {
  const float ix = std::max(0.0f, std::min(a.x2, b.x2) - std::max(a.x1, b.x1));
  const float iy = std::max(0.0f, std::min(a.y2, b.y2) - std::max(a.y1, b.y1));
  const float inter = ix * iy;
  return inter / (a.width() * a.height() + b.width() * b.height() - inter);
}

TEST(BlazeFace, RawReferenceOutputsReproduceMediaPipeDetections) {
  const fs::path mp = test::reference_dir() / "mediapipe";
  int images = 0, matched = 0;
  double worst_iou = 1, worst_centre = 0, worst_score = 0, worst_eye = 0;
  for (const char* stem : {"crowd_20faces", "glasses_frontal", "group_8faces_selfie", "no_face_rocket_landscape"}) {
    const fs::path dir = mp / "raw" / stem / "detector_letterbox";
    FACEPIPE_REQUIRE_FILE(dir / "output_0.bin");
    const auto meta = test::read_json(dir / "meta.json");
    const auto ref = test::read_json(mp / (std::string(stem) + ".json"));
    const auto& r = meta.at("how").at("rect");
    const float x0 = r.at("x0").get<float>(), y0 = r.at("y0").get<float>(), w = r.at("w").get<float>(),
                h = r.at("h").get<float>();

    BlazeFace detector;
    detector.set_input_region(kernels::RotatedRect{x0 + w / 2, y0 + h / 2, w, h, 0});
    const auto regressors = test::read_f32_file(dir / "output_0.bin");
    const auto scores = test::read_f32_file(dir / "output_1.bin");
    ASSERT_EQ(regressors.size(), 896u * 16);
    ASSERT_EQ(scores.size(), 896u);
    std::vector<Detection> out;
    out.reserve(16);
    ASSERT_TRUE(detector.postprocess(regressors.data(), scores.data(), out).is_ok());

    const std::vector<MpDetection> want = load_mediapipe_detections(ref);
    std::vector<bool> used(out.size(), false);
    for (size_t i = 0; i < want.size(); ++i) {
      const MpDetection& m = want[i];
      // MediaPipe's pixel box truncates xmin*W and width*W to integers: compare with +0.5.
      const BoundingBox mb{m.x + 0.5f, m.y + 0.5f, m.x + m.w + 0.5f, m.y + m.h + 0.5f};
      size_t best = out.size();
      float best_iou = 0;
      for (size_t j = 0; j < out.size(); ++j) {
        const float v = iou(out[j].box, mb);
        if (!used[j] && v > best_iou) best_iou = v, best = j;
      }
      ASSERT_LT(best, out.size()) << stem << ": MediaPipe detection " << i << " not found";
      used[best] = true;
      const Detection& d = out[best];
      const double size = m.w;
      const double centre = std::hypot((d.box.x1 + d.box.x2) / 2 - (mb.x1 + mb.x2) / 2,
                                       (d.box.y1 + d.box.y2) / 2 - (mb.y1 + mb.y2) / 2);
      const double score_dev = std::fabs(d.score - m.score);
      double eye = 0;
      for (int k = 0; k < 4; ++k) {  // eyes, nose, mouth (the ear tragions are the least stable)
        const Point2 a = d.keypoints[static_cast<size_t>(k)], b = m.keypoints[static_cast<size_t>(k)];
        eye = std::max<double>(eye, std::hypot(a.x - b.x, a.y - b.y));
      }
      std::printf("[ %s mp#%zu ] ours (%.1f %.1f %.1f %.1f) s %.4f | mp (%g %g %g %g) s %.4f | IoU %.3f, centre %.1f px "
                  "(%.1f%% of %g), score dev %.4f, eyes/nose/mouth dev %.1f px\n",
                  stem, i, d.box.x1, d.box.y1, d.box.width(), d.box.height(), d.score, m.x, m.y, m.w, m.h, m.score,
                  best_iou, centre, 100 * centre / size, size, score_dev, eye);
      EXPECT_GT(best_iou, 0.85f) << stem;
      EXPECT_LT(centre, 0.065 * size) << stem;
      EXPECT_LT(score_dev, 0.025) << stem;
      EXPECT_LT(eye, 0.10 * size) << stem;
      worst_iou = std::min<double>(worst_iou, best_iou);
      worst_centre = std::max(worst_centre, centre / size);
      worst_score = std::max(worst_score, score_dev);
      worst_eye = std::max(worst_eye, eye / size);
      ++matched;
    }
    for (size_t j = 0; j < out.size(); ++j) {
      if (used[j]) continue;
      std::printf("[ %s extra ] ours (%.1f %.1f %.1f %.1f) s %.4f: not in MediaPipe's output\n", stem, out[j].box.x1,
                  out[j].box.y1, out[j].box.width(), out[j].box.height(), out[j].score);
      EXPECT_LT(out[j].score, 0.6f) << stem << ": a confident face MediaPipe did not report";
    }
    ++images;
  }
  std::printf("[ BlazeFace vs MediaPipe ] %d images, %d faces: worst IoU %.3f, worst centre %.1f%% of face size, "
              "worst score dev %.4f, worst eye/nose/mouth dev %.1f%% of face size\n",
              images, matched, worst_iou, 100 * worst_centre, worst_score, 100 * worst_eye);
}

// ---- The ModelRunner seam -------------------------------------------------------------------------

// A runner that "runs" by handing out stored output tensors.
class StoredRunner : public ModelRunner {
 public:
  StoredRunner(TensorShape input_shape, std::vector<std::vector<float>> outputs, std::vector<TensorShape> shapes)
      : input_shape_(input_shape), input_(static_cast<size_t>(input_shape.elements())), outputs_(std::move(outputs)),
        output_shapes_(std::move(shapes)) {}
  int num_inputs() const override { return 1; }
  int num_outputs() const override { return static_cast<int>(outputs_.size()); }
  TensorShape input_shape(int) const override { return input_shape_; }
  TensorShape output_shape(int i) const override { return output_shapes_[static_cast<size_t>(i)]; }
  Status set_input_shape(int, const TensorShape& s) override {
    return s == input_shape_ ? Status::ok() : Status::error(StatusCode::kUnsupported, "static input");
  }
  float* input(int) override { return input_.data(); }
  const float* output(int i) const override { return outputs_[static_cast<size_t>(i)].data(); }
  Status run() override {
    ++runs;
    return Status::ok();
  }
  const std::vector<float>& input_tensor() const { return input_; }
  int runs = 0;

 private:
  TensorShape input_shape_;
  std::vector<float> input_;
  std::vector<std::vector<float>> outputs_;
  std::vector<TensorShape> output_shapes_;
};

TEST(BlazeFace, DetectThroughModelRunnerFromDecodedImage) {
  const fs::path mp = test::reference_dir() / "mediapipe";
  const fs::path dir = mp / "raw" / "group_8faces_selfie" / "detector_letterbox";
  FACEPIPE_REQUIRE_FILE(dir / "output_0.bin");
  const auto image = test::read_png(mp / "decoded" / "group_8faces_selfie.png");
  StoredRunner runner(TensorShape{1, 128, 128, 3},
                      {test::read_f32_file(dir / "output_0.bin"), test::read_f32_file(dir / "output_1.bin")},
                      {TensorShape{1, 896, 16}, TensorShape{1, 896, 1}});
  BlazeFace detector;
  FaceDetector& base = detector;
  std::vector<Detection> out;
  out.reserve(16);
  ASSERT_TRUE(base.detect(image.view(), runner, out).is_ok());
  EXPECT_EQ(runner.runs, 1);
  EXPECT_EQ(out.size(), 4u);  // MediaPipe's 3 plus one face at the threshold, see above
  // The input it made is the reference input.
  const auto ref_input = test::read_f32_file(dir / "input_0.bin");
  EXPECT_LT(test::compare(runner.input_tensor().data(), ref_input.data(), ref_input.size()).max_abs_error, 1e-5);
}

}  // namespace
}  // namespace facepipe::face
