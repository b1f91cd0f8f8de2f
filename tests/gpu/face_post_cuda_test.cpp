// GPU face post-processing (face/cuda/face_post_cuda.h) against the CPU oracles: RetinaFace::postprocess
// and BlazeFace::postprocess on the real networks' raw outputs (shared/reference), batched with
// different scales / regions per item, no candidates, more candidates than max_candidates (radix
// select, score ties, the workspace sort path), then project_landmarks / face_presence_score on
// rotated crops and build_blendshape_input. Detections must agree in count and order, boxes and
// keypoints within 1e-3 px (or 1e-5 relative), scores within 1e-6; every case prints its largest
// difference. Guard bytes after the outputs and the workspace catch writes out of bounds.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/cuda/cuda_resources.h"
#include "face/blendshapes/blendshape_input.h"
#include "face/cuda/face_post_cuda.h"
#include "face/detection/blazeface.h"
#include "face/detection/retinaface.h"
#include "face/roi/roi.h"
#include "gpu/cuda_test_util.h"
#include "support/test_support.h"

namespace facepipe::face {
namespace {

namespace fs = std::filesystem;
using facepipe::cuda::DeviceBuffer;

constexpr unsigned char kGuard = 0xA5;
constexpr size_t kGuardBytes = 4096;

template <typename T> DeviceBuffer upload(const std::vector<T>& v) {
  DeviceBuffer b(std::max<size_t>(v.size() * sizeof(T), 1));
  if (!v.empty()) FACEPIPE_CUDA_THROW(cudaMemcpy(b.get(), v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice));
  return b;
}

// A device buffer of `bytes` followed by kGuardBytes guard bytes; the whole buffer starts as kGuard.
struct GuardedBuffer {
  DeviceBuffer buffer;
  size_t bytes;
  explicit GuardedBuffer(size_t n) : buffer(n + kGuardBytes), bytes(n) {
    FACEPIPE_CUDA_THROW(cudaMemset(buffer.get(), kGuard, n + kGuardBytes));
  }
  void* get() const { return buffer.get(); }
  bool guard_intact() const {
    std::vector<unsigned char> g(kGuardBytes);
    FACEPIPE_CUDA_THROW(cudaMemcpy(g.data(), static_cast<unsigned char*>(buffer.get()) + bytes, kGuardBytes,
                                   cudaMemcpyDeviceToHost));
    return std::all_of(g.begin(), g.end(), [](unsigned char c) { return c == kGuard; });
  }
};

// One decoder launch's guarded device outputs and its stream; fetch() waits, copies the detections
// and counts back and checks that nothing was written past any buffer.
struct PostRun {
  GuardedBuffer ws, dets, counts;
  facepipe::cuda::Stream stream;
  std::vector<Detection> got;
  std::vector<int> got_counts;
  PostRun(size_t ws_bytes, int batch, int max_detections)
      : ws(ws_bytes),
        dets(sizeof(Detection) * static_cast<size_t>(batch * max_detections)),
        counts(sizeof(int) * static_cast<size_t>(batch)),
        got(static_cast<size_t>(batch * max_detections)),
        got_counts(static_cast<size_t>(batch)) {}
  Detection* detections() { return static_cast<Detection*>(dets.get()); }
  int* count_slots() { return static_cast<int*>(counts.get()); }
  void fetch(const std::string& what) {
    FACEPIPE_CUDA_THROW(cudaStreamSynchronize(stream.get()));
    FACEPIPE_CUDA_THROW(cudaMemcpy(got.data(), dets.get(), got.size() * sizeof(Detection), cudaMemcpyDeviceToHost));
    FACEPIPE_CUDA_THROW(cudaMemcpy(got_counts.data(), counts.get(), got_counts.size() * sizeof(int), cudaMemcpyDeviceToHost));
    EXPECT_TRUE(ws.guard_intact()) << what << ": workspace overrun";
    EXPECT_TRUE(dets.guard_intact()) << what << ": detections overrun";
    EXPECT_TRUE(counts.guard_intact()) << what << ": counts overrun";
  }
};

struct DetectionDiff {
  double coord = 0, score = 0;  // max abs differences
  int not_identical = 0;        // values that differ at all
};

// Same count, same order, coordinates within 1e-3 px or 1e-5 relative, scores within 1e-6.
void expect_same_detections(const std::vector<Detection>& cpu, const Detection* gpu, int gpu_count,
                            const std::string& what) {
  ASSERT_EQ(gpu_count, static_cast<int>(cpu.size())) << what;
  DetectionDiff d;
  auto check = [&](float g, float c, const std::string& field, size_t i) {
    const double e = std::fabs(static_cast<double>(g) - static_cast<double>(c));
    if (!(e == 0)) ++d.not_identical;
    d.coord = std::max(d.coord, std::isnan(e) ? INFINITY : e);
    EXPECT_TRUE(e <= 1e-3 || e <= 1e-5 * std::fabs(c)) << what << ": detection " << i << " " << field << " gpu " << g
                                                        << " cpu " << c;
  };
  for (size_t i = 0; i < cpu.size(); ++i) {
    const Detection& c = cpu[i];
    const Detection& g = gpu[i];
    const double se = std::fabs(static_cast<double>(g.score) - c.score);
    d.score = std::max(d.score, se);
    if (!(se == 0)) ++d.not_identical;
    EXPECT_LE(se, 1e-6) << what << ": detection " << i << " score";
    check(g.box.x1, c.box.x1, "x1", i);
    check(g.box.y1, c.box.y1, "y1", i);
    check(g.box.x2, c.box.x2, "x2", i);
    check(g.box.y2, c.box.y2, "y2", i);
    ASSERT_EQ(g.num_keypoints, c.num_keypoints) << what << ": detection " << i;
    for (size_t k = 0; k < c.keypoints.size(); ++k) {
      check(g.keypoints[k].x, c.keypoints[k].x, "keypoint x", i);
      check(g.keypoints[k].y, c.keypoints[k].y, "keypoint y", i);
    }
  }
  std::printf("  %-44s %3zu detections, max |d| coord %.3g px, score %.3g, %d values not bit-identical\n",
              what.c_str(), cpu.size(), d.coord, d.score, d.not_identical);
}

// ---- RetinaFace ----------------------------------------------------------------------------------

constexpr int kRetinaW = 512, kRetinaH = 312, kRetinaPriors = 6592;

struct RetinaTensors {
  std::vector<float> loc, conf, landm;
};

struct RetinaItem {
  RetinaTensors t;
  float scale_x = 2, scale_y = 2;
};

RetinaTensors load_crowd() {
  const fs::path raw = test::reference_dir() / "retinaface_raw";
  return {test::read_f32_file(raw / "crowd_1x3x312x512.output0_1x6592x4.f32"),
          test::read_f32_file(raw / "crowd_1x3x312x512.output1_1x6592x2.f32"),
          test::read_f32_file(raw / "crowd_1x3x312x512.output2_1x6592x10.f32")};
}

fs::path crowd_path() { return test::reference_dir() / "retinaface_raw" / "crowd_1x3x312x512.output2_1x6592x10.f32"; }

std::vector<Detection> retina_cpu(const RetinaItem& item, const RetinaFaceConfig& config) {
  RetinaFace det(config);
  RetinaFaceGeometry g;
  g.tensor_width = g.content_width = kRetinaW;
  g.tensor_height = g.content_height = kRetinaH;
  g.image_width = static_cast<int>(std::lround(kRetinaW * item.scale_x));
  g.image_height = static_cast<int>(std::lround(kRetinaH * item.scale_y));
  g.scale_x = item.scale_x;
  g.scale_y = item.scale_y;
  det.set_geometry(g);
  std::vector<Detection> out;
  EXPECT_TRUE(det.postprocess(item.t.loc.data(), item.t.conf.data(), item.t.landm.data(), kRetinaPriors, out).is_ok());
  return out;
}

// Runs the batch on the GPU and compares every item with the CPU (top_k = max_candidates,
// keep_top_k = max_detections).
void check_retina_batch(const std::vector<RetinaItem>& items, const RetinaFaceConfig& config, int max_candidates,
                        int max_detections, const std::string& what, std::vector<int>* counts_out = nullptr) {
  const int batch = static_cast<int>(items.size());
  std::vector<float> loc, conf, landm, scales;
  for (const RetinaItem& it : items) {
    loc.insert(loc.end(), it.t.loc.begin(), it.t.loc.end());
    conf.insert(conf.end(), it.t.conf.begin(), it.t.conf.end());
    landm.insert(landm.end(), it.t.landm.begin(), it.t.landm.end());
    scales.push_back(it.scale_x);
    scales.push_back(it.scale_y);
  }
  cuda::RetinaFaceDecodeParams p = cuda::RetinaFaceDecodeParams::from(config, kRetinaW, kRetinaH, max_detections);
  p.max_candidates = max_candidates;
  ASSERT_EQ(p.num_priors(), kRetinaPriors);
  const DeviceBuffer d_loc = upload(loc), d_conf = upload(conf), d_landm = upload(landm), d_scales = upload(scales);
  const size_t ws_bytes = cuda::retinaface_post_workspace_bytes(batch, p);
  ASSERT_GT(ws_bytes, 0u);
  PostRun run(ws_bytes, batch, max_detections);
  ASSERT_TRUE(cuda::retinaface_postprocess_cuda(d_loc.as<float>(), d_conf.as<float>(), d_landm.as<float>(), batch, p,
                                                d_scales.as<float>(), run.ws.get(), run.detections(), run.count_slots(),
                                                run.stream.get())
                  .is_ok());
  run.fetch(what);
  const std::vector<Detection>& got = run.got;
  const std::vector<int>& got_counts = run.got_counts;
  RetinaFaceConfig cpu_config = config;
  cpu_config.top_k = max_candidates;
  cpu_config.keep_top_k = max_detections;
  for (int b = 0; b < batch; ++b) {
    const std::vector<Detection> want = retina_cpu(items[static_cast<size_t>(b)], cpu_config);
    expect_same_detections(want, got.data() + static_cast<size_t>(b) * max_detections, got_counts[static_cast<size_t>(b)],
                           what + " [" + std::to_string(b) + "]");
  }
  if (counts_out) *counts_out = got_counts;
}

TEST(FacePostCuda, RetinaFaceCrowdMatchesCpu) {
  FACEPIPE_REQUIRE_CUDA();
  FACEPIPE_REQUIRE_FILE(crowd_path());
  RetinaItem crowd{load_crowd(), 2.0f, 2.0f};
  std::vector<int> counts;
  check_retina_batch({crowd}, RetinaFaceConfig{}, 4096, 64, "retinaface crowd 0.5", &counts);
  EXPECT_GE(counts.at(0), 20);  // docs/face_detection.md: 24 faces above 0.5
}

TEST(FacePostCuda, RetinaFaceBatchOfThreeWithDifferentScales) {
  FACEPIPE_REQUIRE_CUDA();
  FACEPIPE_REQUIRE_FILE(crowd_path());
  const RetinaTensors crowd = load_crowd();
  // Item 2: the stride-8 priors moved up by one row of cells (as if the image were shifted by 8
  // tensor pixels), the last row becoming background: different boxes from the same faces.
  RetinaTensors shifted = crowd;
  const int cols8 = kRetinaW / 8, rows8 = (kRetinaH + 7) / 8, row_priors = cols8 * 2;
  for (int a = 0; a < rows8 * row_priors; ++a) {
    const int src = a + row_priors;
    const bool inside = src < rows8 * row_priors;
    for (int k = 0; k < 4; ++k) shifted.loc[4 * a + k] = inside ? crowd.loc[4 * src + k] : 0.0f;
    shifted.conf[2 * a] = inside ? crowd.conf[2 * src] : 1.0f;
    shifted.conf[2 * a + 1] = inside ? crowd.conf[2 * src + 1] : 0.0f;
    for (int k = 0; k < 10; ++k) shifted.landm[10 * a + k] = inside ? crowd.landm[10 * src + k] : 0.0f;
  }
  std::vector<int> counts;
  check_retina_batch({{crowd, 2.0f, 2.0f}, {crowd, 1.5f, 3.25f}, {shifted, 2.0f, 2.0f}}, RetinaFaceConfig{}, 4096, 64,
                     "retinaface batch of 3", &counts);
}

TEST(FacePostCuda, RetinaFaceNoCandidatesNextToAFullImage) {
  FACEPIPE_REQUIRE_CUDA();
  FACEPIPE_REQUIRE_FILE(crowd_path());
  const RetinaTensors crowd = load_crowd();
  RetinaTensors empty = crowd;
  for (int a = 0; a < kRetinaPriors; ++a) {
    empty.conf[2 * a] = 1.0f;
    empty.conf[2 * a + 1] = 0.0f;
  }
  std::vector<int> counts;
  check_retina_batch({{empty, 2.0f, 2.0f}, {crowd, 2.0f, 2.0f}}, RetinaFaceConfig{}, 4096, 64, "retinaface empty + crowd",
                     &counts);
  EXPECT_EQ(counts.at(0), 0);
  // A threshold no score exceeds: nothing anywhere.
  RetinaFaceConfig none;
  none.confidence_threshold = 1.0f;
  check_retina_batch({{crowd, 2.0f, 2.0f}}, none, 4096, 64, "retinaface threshold 1.0", &counts);
  EXPECT_EQ(counts.at(0), 0);
}

TEST(FacePostCuda, RetinaFaceMoreCandidatesThanMaxCandidates) {
  FACEPIPE_REQUIRE_CUDA();
  FACEPIPE_REQUIRE_FILE(crowd_path());
  const RetinaTensors crowd = load_crowd();
  RetinaFaceConfig low;
  low.confidence_threshold = 0.01f;  // 1567 candidates on this input
  // Radix select down to 500 (shared-memory sort), 750 detections allowed: NMS runs to the end.
  check_retina_batch({{crowd, 2.0f, 2.0f}, {crowd, 1.0f, 1.0f}}, low, 500, 750, "retinaface 0.01, top 500");
  // Fewer allowed detections than survive NMS.
  check_retina_batch({{crowd, 2.0f, 2.0f}}, low, 500, 10, "retinaface 0.01, top 500, keep 10");
  // max_candidates above 4096: keys and flags in the workspace instead of shared memory, with and
  // without selection (5906 candidates above 0.001).
  RetinaFaceConfig lower;
  lower.confidence_threshold = 0.001f;
  check_retina_batch({{crowd, 2.0f, 2.0f}}, lower, 6000, 750, "retinaface 0.001, top 6000 (workspace)");
  check_retina_batch({{crowd, 2.0f, 2.0f}}, lower, 5000, 750, "retinaface 0.001, top 5000 (workspace)");
  // One candidate kept.
  check_retina_batch({{crowd, 2.0f, 2.0f}}, low, 1, 5, "retinaface 0.01, top 1");
}

TEST(FacePostCuda, RetinaFaceScoreTiesAtTheSelectionBoundary) {
  FACEPIPE_REQUIRE_CUDA();
  FACEPIPE_REQUIRE_FILE(crowd_path());
  // Scores rounded to 1/32: hundreds of equal scores, so the selected set and the order depend on
  // the index tie-break (lower prior index first, as the CPU's sort).
  RetinaTensors tied = load_crowd();
  for (int a = 0; a < kRetinaPriors; ++a) tied.conf[2 * a + 1] = std::round(tied.conf[2 * a + 1] * 32.0f) / 32.0f;
  RetinaFaceConfig low;
  low.confidence_threshold = 0.01f;
  check_retina_batch({{tied, 2.0f, 2.0f}}, low, 300, 750, "retinaface tied scores, top 300");
  check_retina_batch({{tied, 2.0f, 2.0f}}, low, 97, 750, "retinaface tied scores, top 97");
}

// ---- BlazeFace -----------------------------------------------------------------------------------

struct BlazeItem {
  std::vector<float> regressors, classificators;
  kernels::RotatedRect region;
  std::string name;
};

std::vector<BlazeItem> load_blaze_items() {
  std::vector<BlazeItem> items;
  const fs::path mp = test::reference_dir() / "mediapipe" / "raw";
  for (const char* stem : {"crowd_20faces", "glasses_frontal", "group_8faces_selfie", "no_face_rocket_landscape"}) {
    const fs::path dir = mp / stem / "detector_letterbox";
    if (!fs::exists(dir / "output_0.bin")) continue;
    std::ifstream meta_file(dir / "meta.json");
    const nlohmann::json meta = nlohmann::json::parse(meta_file);
    const auto& r = meta.at("how").at("rect");
    const float x0 = r.at("x0").get<float>(), y0 = r.at("y0").get<float>(), w = r.at("w").get<float>(),
                h = r.at("h").get<float>();
    items.push_back({test::read_f32_file(dir / "output_0.bin"), test::read_f32_file(dir / "output_1.bin"),
                     kernels::RotatedRect{x0 + w / 2, y0 + h / 2, w, h, 0}, stem});
  }
  return items;
}

void check_blaze_batch(const std::vector<BlazeItem>& items, BlazeFaceConfig config, int max_detections,
                       const std::string& what, std::vector<int>* counts_out = nullptr) {
  config.max_detections = max_detections;
  BlazeFace cpu(config);
  const int batch = static_cast<int>(items.size());
  const int N = config.num_boxes;
  std::vector<float> reg, cls, regions;
  for (const BlazeItem& it : items) {
    ASSERT_EQ(it.regressors.size(), static_cast<size_t>(N) * config.num_coords());
    ASSERT_EQ(it.classificators.size(), static_cast<size_t>(N));
    reg.insert(reg.end(), it.regressors.begin(), it.regressors.end());
    cls.insert(cls.end(), it.classificators.begin(), it.classificators.end());
    regions.insert(regions.end(), {it.region.cx, it.region.cy, it.region.width, it.region.height});
  }
  const cuda::BlazeFaceDecodeParams p = cuda::BlazeFaceDecodeParams::from(config, max_detections);
  const DeviceBuffer d_reg = upload(reg), d_cls = upload(cls), d_regions = upload(regions),
                     d_anchors = upload(cpu.anchors());
  const size_t ws_bytes = cuda::blazeface_post_workspace_bytes(batch, p);
  ASSERT_GT(ws_bytes, 0u);
  PostRun run(ws_bytes, batch, max_detections);
  ASSERT_TRUE(cuda::blazeface_postprocess_cuda(d_reg.as<float>(), d_cls.as<float>(), batch, p, d_anchors.as<Anchor>(),
                                               d_regions.as<float>(), run.ws.get(), run.detections(), run.count_slots(),
                                               run.stream.get())
                  .is_ok());
  run.fetch(what);
  const std::vector<Detection>& got = run.got;
  const std::vector<int>& got_counts = run.got_counts;
  for (int b = 0; b < batch; ++b) {
    const BlazeItem& it = items[static_cast<size_t>(b)];
    cpu.set_input_region(it.region);
    std::vector<Detection> want;
    ASSERT_TRUE(cpu.postprocess(it.regressors.data(), it.classificators.data(), want).is_ok());
    expect_same_detections(want, got.data() + static_cast<size_t>(b) * max_detections, got_counts[static_cast<size_t>(b)],
                           what + " " + it.name);
  }
  if (counts_out) *counts_out = got_counts;
}

TEST(FacePostCuda, BlazeFaceRealOutputsMatchCpu) {
  FACEPIPE_REQUIRE_CUDA();
  std::vector<BlazeItem> items = load_blaze_items();
  if (items.size() < 2) GTEST_SKIP() << "missing shared/reference/mediapipe/raw/*/detector_letterbox";
  std::vector<int> counts;
  check_blaze_batch(items, BlazeFaceConfig::short_range(), 16, "blazeface", &counts);
  int total = 0;
  for (int c : counts) total += c;
  EXPECT_GE(total, 4);  // glasses 1, group >= 3 (docs/face_detection.md)
  // The same tensors under other regions (a shifted, scaled letterbox per item), in reverse order.
  std::vector<BlazeItem> moved(items.rbegin(), items.rend());
  for (size_t i = 0; i < moved.size(); ++i) {
    moved[i].region.cx += 37.5f * static_cast<float>(i + 1);
    moved[i].region.cy -= 11.25f * static_cast<float>(i);
    moved[i].region.width *= 0.75f;
    moved[i].region.height *= 0.75f;
  }
  check_blaze_batch(moved, BlazeFaceConfig::short_range(), 16, "blazeface moved regions");
}

TEST(FacePostCuda, BlazeFaceLowThresholdAndTruncation) {
  FACEPIPE_REQUIRE_CUDA();
  std::vector<BlazeItem> items = load_blaze_items();
  if (items.size() < 2) GTEST_SKIP() << "missing shared/reference/mediapipe/raw/*/detector_letterbox";
  // Many weak boxes: big clusters, many detections, the weighted sums over long lists.
  BlazeFaceConfig low = BlazeFaceConfig::short_range();
  low.min_score_thresh = 0.02f;
  check_blaze_batch(items, low, 64, "blazeface 0.02");
  check_blaze_batch(items, low, 2, "blazeface 0.02, keep 2");
  BlazeFaceConfig none = BlazeFaceConfig::short_range();
  none.min_score_thresh = 1.5f;  // nothing passes
  std::vector<int> counts;
  check_blaze_batch(items, none, 8, "blazeface nothing", &counts);
  for (int c : counts) EXPECT_EQ(c, 0);
}

TEST(FacePostCuda, BlazeFaceFullRangeRandomOutputs) {
  FACEPIPE_REQUIRE_CUDA();
  // 2304 anchors, random but face-like outputs: logits around the threshold, small offsets.
  BlazeFaceConfig full = BlazeFaceConfig::full_range();
  std::mt19937 rng(11);
  std::normal_distribution<float> logit(-2.0f, 3.0f), offset(0.0f, 6.0f), size(30.0f, 8.0f);
  std::vector<BlazeItem> items;
  for (int b = 0; b < 3; ++b) {
    BlazeItem it;
    it.name = "random " + std::to_string(b);
    it.classificators.resize(2304);
    it.regressors.resize(2304 * 16);
    for (int i = 0; i < 2304; ++i) {
      it.classificators[static_cast<size_t>(i)] = logit(rng);
      float* r = &it.regressors[static_cast<size_t>(i) * 16];
      r[0] = offset(rng);
      r[1] = offset(rng);
      r[2] = size(rng);
      r[3] = size(rng);
      for (int k = 4; k < 16; ++k) r[k] = offset(rng);
    }
    it.region = kernels::RotatedRect{640.0f + 10 * b, 360.0f - 5 * b, 1280.0f + 64 * b, 1280.0f + 64 * b, 0};
    items.push_back(std::move(it));
  }
  check_blaze_batch(items, full, 32, "blazeface full range");
}

// ---- Landmarks and blendshape input --------------------------------------------------------------

TEST(FacePostCuda, ProjectLandmarksAndPresenceMatchCpu) {
  FACEPIPE_REQUIRE_CUDA();
  const int count = kNumLandmarks, n = 6, input_size = kLandmarkInputSize, presence_stride = 3;
  // Everything within 1024 px, where a float's last bit is 6e-5 px (the 1e-4 bar is one rounding).
  const cuda::LandmarkCrop crops[n] = {{320.5f, 240.25f, 200.0f, 200.0f, 0.0f, 4.0f / 3.0f},
                                       {414.5f, 446.5f, 600.5f, 600.5f, 0.4f, 1.0f},
                                       {100.0f, 700.0f, 150.0f, 180.0f, -1.3f, 16.0f / 9.0f},
                                       {700.0f, 300.0f, 333.3f, 333.3f, 2.5f, 9.0f / 16.0f},
                                       {640.0f, 360.0f, 96.0f, 96.0f, 3.1f, 16.0f / 9.0f},
                                       {10.0f, 5.0f, 40.0f, 20.0f, -0.01f, 1.0f}};
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> pos(0.0f, 256.0f), depth(-40.0f, 40.0f), logit(-12.0f, 12.0f);
  std::vector<float> raw(static_cast<size_t>(n * count * 3)), logits(static_cast<size_t>(n * presence_stride));
  for (size_t i = 0; i < raw.size(); ++i) raw[i] = i % 3 == 2 ? depth(rng) : pos(rng);
  for (float& l : logits) l = logit(rng);
  const DeviceBuffer d_raw = upload(raw), d_logits = upload(logits),
                     d_crops = upload(std::vector<cuda::LandmarkCrop>(crops, crops + n));
  GuardedBuffer d_out(sizeof(Landmark) * static_cast<size_t>(n * count));
  GuardedBuffer d_presence(sizeof(float) * n);
  facepipe::cuda::Stream stream;
  ASSERT_TRUE(cuda::project_landmarks_cuda(d_raw.as<float>(), d_logits.as<float>(), presence_stride,
                                           d_crops.as<cuda::LandmarkCrop>(), n, count, input_size,
                                           static_cast<Landmark*>(d_out.get()), static_cast<float*>(d_presence.get()),
                                           stream.get())
                  .is_ok());
  FACEPIPE_CUDA_THROW(cudaStreamSynchronize(stream.get()));
  std::vector<Landmark> got(static_cast<size_t>(n * count));
  std::vector<float> presence(n);
  FACEPIPE_CUDA_THROW(cudaMemcpy(got.data(), d_out.get(), got.size() * sizeof(Landmark), cudaMemcpyDeviceToHost));
  FACEPIPE_CUDA_THROW(cudaMemcpy(presence.data(), d_presence.get(), n * sizeof(float), cudaMemcpyDeviceToHost));
  EXPECT_TRUE(d_out.guard_intact());
  EXPECT_TRUE(d_presence.guard_intact());
  double worst = 0;
  int not_identical = 0;
  std::vector<Landmark> want(static_cast<size_t>(count));
  for (int k = 0; k < n; ++k) {
    const cuda::LandmarkCrop& c = crops[k];
    project_landmarks(raw.data() + static_cast<size_t>(k) * count * 3, count,
                      RotatedRect{c.cx, c.cy, c.width, c.height, c.rotation}, want.data(), input_size, c.image_aspect);
    for (int i = 0; i < count; ++i) {
      const Landmark& g = got[static_cast<size_t>(k * count + i)];
      const Landmark& w = want[static_cast<size_t>(i)];
      for (auto [a, b] : {std::pair{g.x, w.x}, std::pair{g.y, w.y}, std::pair{g.z, w.z}}) {
        const double e = std::fabs(static_cast<double>(a) - b);
        if (!(e == 0)) ++not_identical;
        worst = std::max(worst, std::isnan(e) ? INFINITY : e);
        EXPECT_LE(e, 1e-4) << "crop " << k << " landmark " << i;
      }
    }
    EXPECT_NEAR(presence[static_cast<size_t>(k)], face_presence_score(logits[static_cast<size_t>(k * presence_stride)]),
                1e-7f)
        << "crop " << k;
  }
  std::printf("  project_landmarks: %d crops x %d, max |d| %.3g px, %d of %d values not bit-identical\n", n, count, worst,
              not_identical, n * count * 3);

  // Without presence outputs.
  ASSERT_TRUE(cuda::project_landmarks_cuda(d_raw.as<float>(), nullptr, 0, d_crops.as<cuda::LandmarkCrop>(), n, count,
                                           input_size, static_cast<Landmark*>(d_out.get()), nullptr, stream.get())
                  .is_ok());
  FACEPIPE_CUDA_THROW(cudaStreamSynchronize(stream.get()));
}

TEST(FacePostCuda, BlendshapeInputMatchesCpu) {
  FACEPIPE_REQUIRE_CUDA();
  const int n = 3;
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> v(-100.0f, 2000.0f);
  std::vector<Landmark> lms(static_cast<size_t>(n * kNumLandmarks));
  for (Landmark& l : lms) l = Landmark{v(rng), v(rng), v(rng)};
  const DeviceBuffer d_lms = upload(lms);
  GuardedBuffer d_in(sizeof(float) * static_cast<size_t>(n * kBlendshapeInputSize));
  facepipe::cuda::Stream stream;
  ASSERT_TRUE(cuda::build_blendshape_input_cuda(d_lms.as<Landmark>(), n, static_cast<float*>(d_in.get()), stream.get())
                  .is_ok());
  FACEPIPE_CUDA_THROW(cudaStreamSynchronize(stream.get()));
  std::vector<float> got(static_cast<size_t>(n * kBlendshapeInputSize));
  FACEPIPE_CUDA_THROW(cudaMemcpy(got.data(), d_in.get(), got.size() * sizeof(float), cudaMemcpyDeviceToHost));
  EXPECT_TRUE(d_in.guard_intact());
  std::vector<float> want(kBlendshapeInputSize);
  for (int k = 0; k < n; ++k) {
    ASSERT_TRUE(build_blendshape_input(std::span<const Landmark>(lms.data() + static_cast<size_t>(k) * kNumLandmarks,
                                                                 kNumLandmarks),
                                       want)
                    .is_ok());
    EXPECT_EQ(0, std::memcmp(want.data(), got.data() + static_cast<size_t>(k) * kBlendshapeInputSize,
                             want.size() * sizeof(float)))
        << "face " << k;
  }
}

// ---- Argument errors (checked before any launch: runs without a GPU too) -------------------------

TEST(FacePostCuda, ArgumentErrorsAreReportedBeforeLaunch) {
  alignas(16) float dummy[8] = {};
  auto* f = dummy;
  auto* det = reinterpret_cast<Detection*>(dummy);
  int count = 0;
  cuda::RetinaFaceDecodeParams rp = cuda::RetinaFaceDecodeParams::from(RetinaFaceConfig{}, 512, 312, 64);
  EXPECT_EQ(rp.num_priors(), kRetinaPriors);
  EXPECT_EQ(rp.max_candidates, 4096);
  EXPECT_GT(cuda::retinaface_post_workspace_bytes(2, rp), cuda::retinaface_post_workspace_bytes(1, rp));
  EXPECT_EQ(cuda::retinaface_postprocess_cuda(nullptr, f, f, 1, rp, f, f, det, &count, nullptr).code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(cuda::retinaface_postprocess_cuda(f, f, f, 0, rp, f, f, det, &count, nullptr).is_ok());  // empty batch
  cuda::RetinaFaceDecodeParams bad = rp;
  bad.tensor_width = 0;
  EXPECT_EQ(cuda::retinaface_postprocess_cuda(f, f, f, 1, bad, f, f, det, &count, nullptr).code(),
            StatusCode::kInvalidArgument);
  bad = rp;
  bad.max_candidates = 0;
  EXPECT_EQ(cuda::retinaface_post_workspace_bytes(1, bad), 0u);
  EXPECT_EQ(cuda::retinaface_postprocess_cuda(f, f, f, 1, bad, f, f, det, &count, nullptr).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(cuda::retinaface_postprocess_cuda(f, f, f, 1, rp, f, f + 1, det, &count, nullptr).code(),
            StatusCode::kInvalidArgument);  // misaligned workspace
  bad = rp;
  bad.max_detections = 0;
  EXPECT_EQ(cuda::retinaface_postprocess_cuda(f, f, f, 1, bad, f, f, det, &count, nullptr).code(),
            StatusCode::kInvalidArgument);

  cuda::BlazeFaceDecodeParams bp = cuda::BlazeFaceDecodeParams::from(BlazeFaceConfig::short_range(), 16);
  EXPECT_EQ(bp.num_boxes, 896);
  EXPECT_EQ(bp.num_coords, 16);
  EXPECT_GT(cuda::blazeface_post_workspace_bytes(1, bp), 0u);
  const auto* anchors = reinterpret_cast<const Anchor*>(dummy);
  EXPECT_EQ(cuda::blazeface_postprocess_cuda(f, nullptr, 1, bp, anchors, f, f, det, &count, nullptr).code(),
            StatusCode::kInvalidArgument);
  cuda::BlazeFaceDecodeParams bbad = bp;
  bbad.num_keypoints = 7;
  EXPECT_EQ(cuda::blazeface_postprocess_cuda(f, f, 1, bbad, anchors, f, f, det, &count, nullptr).code(),
            StatusCode::kInvalidArgument);
  bbad = bp;
  bbad.max_detections = 0;
  EXPECT_EQ(cuda::blazeface_postprocess_cuda(f, f, 1, bbad, anchors, f, f, det, &count, nullptr).code(),
            StatusCode::kInvalidArgument);

  const auto* crops = reinterpret_cast<const cuda::LandmarkCrop*>(dummy);
  auto* lms = reinterpret_cast<Landmark*>(dummy);
  EXPECT_EQ(cuda::project_landmarks_cuda(f, f, 1, crops, 1, 478, 0, lms, f, nullptr).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(cuda::project_landmarks_cuda(nullptr, f, 1, crops, 1, 478, 256, lms, f, nullptr).code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(cuda::project_landmarks_cuda(f, f, 1, crops, 0, 478, 256, lms, f, nullptr).is_ok());
  EXPECT_EQ(cuda::build_blendshape_input_cuda(nullptr, 1, f, nullptr).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(cuda::build_blendshape_input_cuda(lms, 0, f, nullptr).is_ok());
}

}  // namespace
}  // namespace facepipe::face
