// The GPU face pipeline end to end: against the official MediaPipe Face Landmarker (the CPU
// pipeline's bars: same faces, landmarks <= 0.5% IOD, blendshape MAE <= 0.01, transform <= 1e-2),
// against the CPU pipeline (the oracle), several cameras in one batch against one at a time,
// tracking against MediaPipe's VIDEO mode, and the RetinaFace path against the CPU.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "face/cuda/cuda_face_pipeline.h"
#include "face/pipeline/face_pipeline.h"
#include "gpu/cuda_test_util.h"
#include "kernels/frame_encode.h"
#include "media/image_io.h"
#include "media/kernel_view.h"
#include "media/video_reader.h"
#include "support/mediapipe_reference.h"
#include "support/test_support.h"

namespace facepipe::face::cuda {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> decoded_images() {
  std::vector<fs::path> pngs;
  for (const auto& e : fs::directory_iterator(test::reference_dir() / "mediapipe" / "decoded")) pngs.push_back(e.path());
  std::sort(pngs.begin(), pngs.end());
  return pngs;
}

CudaFacePipelineConfig gpu_config(int cameras, bool fp16, DetectorKind detector = DetectorKind::kBlazeFace) {
  CudaFacePipelineConfig c;
  c.face.models_dir = test::models_dir().string();
  c.face.max_faces = 10;
  c.face.detector = detector;
  c.cameras = cameras;
  c.max_width = 1280;
  c.max_height = 1280;
  c.max_batch = 16;
  c.fp16 = fp16;
  return c;
}

// Mean (x, y) landmark distance between two results of the same face, in % of its IOD.
double landmark_diff_iod(const FaceResult& a, const FaceResult& b) {
  const double iod = std::hypot(b.landmarks[33].x - b.landmarks[263].x, b.landmarks[33].y - b.landmarks[263].y);
  double sum = 0;
  for (int i = 0; i < b.num_landmarks; ++i)
    sum += std::hypot(a.landmarks[static_cast<size_t>(i)].x - b.landmarks[static_cast<size_t>(i)].x,
                      a.landmarks[static_cast<size_t>(i)].y - b.landmarks[static_cast<size_t>(i)].y);
  return 100.0 * sum / b.num_landmarks / iod;
}

TEST(CudaFacePipeline, ImageModeMatchesMediaPipeAndTheCpu) {
  FACEPIPE_REQUIRE_CUDA();
  FACEPIPE_REQUIRE_FILE(test::reference_dir() / "mediapipe" / "decoded");
  FACEPIPE_REQUIRE_FILE(test::models_dir() / "face_landmarker.task");
  FacePipelineConfig cpu_config;
  cpu_config.models_dir = test::models_dir().string();
  cpu_config.max_faces = 10;
  FacePipeline cpu(cpu_config);
  for (bool fp16 : {false, true}) {
    CudaFacePipeline gpu(gpu_config(1, fp16));
    double worst_ref = 0, worst_cpu = 0, worst_blend = 0, worst_transform = 0;
    int compared = 0;
    for (const fs::path& png : decoded_images()) {
      const std::string stem = png.stem().string();
      std::ifstream f(test::reference_dir() / "mediapipe" / (stem + ".json"));
      const auto refs = test::load_reference(nlohmann::json::parse(f));
      const media::Image image = media::decode_image_file(png);
      const kernels::ImageView view = media::kernel_view(image);
      gpu.ensure_frame_capacity(view.width, view.height);
      ASSERT_TRUE(cpu.process_image(view).is_ok()) << stem;
      const Status st = gpu.process_images({&view, 1});
      ASSERT_TRUE(st.is_ok()) << stem << ": " << st.message();
      const auto faces = gpu.faces(0);
      EXPECT_EQ(faces.size(), refs.size()) << stem << (fp16 ? " fp16" : " fp32");
      EXPECT_EQ(faces.size(), cpu.faces().size()) << stem;
      for (size_t k = 0; k < faces.size(); ++k) {
        const FaceResult& face = faces[k];
        if (!refs.empty()) {
          const test::FaceDeviation d = test::compare(face, refs[test::nearest(face, refs)]);
          EXPECT_LE(d.landmark_iod, 0.005) << stem;
          EXPECT_LE(d.blendshape_mae, 0.01) << stem;
          // The head-pose fit amplifies f16 rounding of the points: the transform bar is f32's
          // (analyze's default); f16 is reported.
          if (!fp16) {
            EXPECT_LE(d.transform_max, 1e-2) << stem;
          }
          worst_ref = std::max(worst_ref, 100 * d.landmark_iod);
          worst_blend = std::max(worst_blend, d.blendshape_mae);
          worst_transform = std::max(worst_transform, d.transform_max);
          ++compared;
        }
        if (k < cpu.faces().size()) worst_cpu = std::max(worst_cpu, landmark_diff_iod(face, cpu.faces()[k]));
      }
    }
    std::printf("[gpu-pipeline] %s: %d faces vs MediaPipe: worst landmarks %.4f%% IOD, blendshape MAE %.4f, transform "
                "%.4f; vs the CPU pipeline: worst %.5f%% IOD\n",
                fp16 ? "fp16" : "fp32", compared, worst_ref, worst_blend, worst_transform, worst_cpu);
    EXPECT_LE(worst_cpu, fp16 ? 0.5 : 0.01);
  }
}

TEST(CudaFacePipeline, CamerasInOneBatchEqualOneAtATime) {
  FACEPIPE_REQUIRE_CUDA();
  FACEPIPE_REQUIRE_FILE(test::reference_dir() / "mediapipe" / "decoded");
  std::vector<media::Image> images;
  for (const fs::path& png : decoded_images()) images.push_back(media::decode_image_file(png));
  std::vector<kernels::ImageView> views;
  for (const auto& i : images) views.push_back(media::kernel_view(i));
  const int n = static_cast<int>(views.size());
  CudaFacePipelineConfig config = gpu_config(n, false);
  for (const auto& v : views) {
    config.max_width = std::max(config.max_width, v.width);
    config.max_height = std::max(config.max_height, v.height);
  }
  CudaFacePipeline batched(config);
  config.cameras = 1;
  CudaFacePipeline single(config);
  ASSERT_TRUE(batched.process_images(views).is_ok());
  int faces = 0;
  double worst = 0;
  for (int c = 0; c < n; ++c) {
    ASSERT_TRUE(single.process_images({&views[static_cast<size_t>(c)], 1}).is_ok());
    ASSERT_EQ(batched.faces(c).size(), single.faces(0).size()) << "camera " << c;
    for (size_t k = 0; k < single.faces(0).size(); ++k) {
      worst = std::max(worst, landmark_diff_iod(batched.faces(c)[k], single.faces(0)[k]));
      for (int b = 0; b < kNumBlendshapes; ++b)
        EXPECT_NEAR(batched.faces(c)[k].blendshapes[static_cast<size_t>(b)], single.faces(0)[k].blendshapes[static_cast<size_t>(b)], 1e-3);
      ++faces;
    }
  }
  std::printf("[gpu-pipeline] %d cameras in one call: %d faces (%d crops), worst difference to one camera at a time %.6f%% IOD\n",
              n, faces, batched.stage_times().faces, worst);
  EXPECT_GE(faces, 8);
  EXPECT_LE(worst, 0.01);
  // Fewer frames than cameras: the rest report no faces.
  ASSERT_TRUE(batched.process_images({views.data(), 2}).is_ok());
  EXPECT_TRUE(batched.faces(n - 1).empty());
}

// RetinaFace's decoder reads per-camera scales: four cameras of one picture in one batch must each
// give what one camera alone gives.
TEST(CudaFacePipeline, RetinaFaceCamerasInOneBatchEqualOneAtATime) {
  FACEPIPE_REQUIRE_CUDA();
  FACEPIPE_REQUIRE_FILE(test::models_dir() / "retinaface_mnet025_dyn.onnx");
  const fs::path group = test::reference_dir() / "mediapipe" / "decoded" / "group_8faces_selfie.png";
  FACEPIPE_REQUIRE_FILE(group);
  const media::Image image = media::decode_image_file(group);
  const kernels::ImageView view = media::kernel_view(image);
  CudaFacePipelineConfig config = gpu_config(4, false, DetectorKind::kRetinaFace);
  config.max_width = view.width;
  config.max_height = view.height;
  CudaFacePipeline batched(config);
  config.cameras = 1;
  CudaFacePipeline single(config);
  const kernels::ImageView views[4] = {view, view, view, view};
  ASSERT_TRUE(batched.process_images(views).is_ok());
  ASSERT_TRUE(single.process_images({&view, 1}).is_ok());
  ASSERT_GE(single.faces(0).size(), 6u);
  for (int c = 0; c < 4; ++c) {
    ASSERT_EQ(batched.faces(c).size(), single.faces(0).size()) << "camera " << c;
    for (size_t k = 0; k < single.faces(0).size(); ++k) {
      EXPECT_NEAR(batched.faces(c)[k].box.x1, single.faces(0)[k].box.x1, 0.05) << "camera " << c;
      EXPECT_LE(landmark_diff_iod(batched.faces(c)[k], single.faces(0)[k]), 0.01) << "camera " << c;
    }
  }
}

TEST(CudaFacePipeline, TrackingMatchesMediaPipeVideoMode) {
  FACEPIPE_REQUIRE_CUDA();
  const fs::path ref_dir = test::reference_dir() / "mediapipe" / "video";
  const fs::path video = test::testdata_dir() / "video" / "talking_man_glasses_720x1280.mp4";
  FACEPIPE_REQUIRE_FILE(ref_dir / "f0001.json");
  FACEPIPE_REQUIRE_FILE(video);
  for (bool fp16 : {false, true}) {
    CudaFacePipelineConfig config = gpu_config(1, fp16);
    config.face.smoothing = false;
    config.face.detection_interval = 1;
    CudaFacePipeline gpu(config);
    media::VideoReaderOptions options;
    options.accurate_color = true;
    media::VideoReader reader(video.string(), options);
    media::VideoFrame frame;
    double sum_error = 0, worst = 0;
    int frames = 0, first_id = -1;
    for (int i = 1; i <= 90; ++i) {
      ASSERT_TRUE(reader.read(frame).is_ok());
      char name[32];
      std::snprintf(name, sizeof name, "f%04d.json", i);
      std::ifstream f(ref_dir / name);
      const auto j = nlohmann::json::parse(f);
      const kernels::ImageView view = media::kernel_view(frame.image);
      const double ts = static_cast<double>(frame.timestamp_ms) / 1000.0;
      ASSERT_TRUE(gpu.process_frames({&view, 1}, {&ts, 1}).is_ok());
      const auto faces = gpu.faces(0);
      ASSERT_EQ(faces.size(), j.at("faceLandmarks").size()) << "frame " << i;
      if (faces.empty()) continue;
      if (first_id < 0) first_id = faces[0].id;
      EXPECT_EQ(faces[0].id, first_id);
      const double e = test::video_frame_error(faces[0], j);
      sum_error += e;
      worst = std::max(worst, e);
      ++frames;
    }
    std::printf("[gpu-pipeline] video %s: %d frames, mean %.3f%% IOD, worst frame %.3f%%\n", fp16 ? "fp16" : "fp32", frames,
                100 * sum_error / frames, 100 * worst);
    EXPECT_EQ(frames, 90);
    EXPECT_LE(sum_error / frames, 0.01);
  }
}

TEST(CudaFacePipeline, RetinaFacePathMatchesTheCpu) {
  FACEPIPE_REQUIRE_CUDA();
  FACEPIPE_REQUIRE_FILE(test::models_dir() / "retinaface_mnet025_dyn.onnx");
  const fs::path crowd = test::reference_dir() / "mediapipe" / "decoded" / "group_8faces_selfie.png";
  FACEPIPE_REQUIRE_FILE(crowd);
  FacePipelineConfig cpu_config;
  cpu_config.models_dir = test::models_dir().string();
  cpu_config.detector = DetectorKind::kRetinaFace;
  cpu_config.max_faces = 32;
  FacePipeline cpu(cpu_config);
  CudaFacePipelineConfig gc = gpu_config(1, false, DetectorKind::kRetinaFace);
  gc.face.max_faces = 32;
  CudaFacePipeline gpu(gc);
  const media::Image image = media::decode_image_file(crowd);
  const kernels::ImageView view = media::kernel_view(image);
  gpu.ensure_frame_capacity(view.width, view.height);
  ASSERT_TRUE(cpu.process_image(view).is_ok());
  ASSERT_TRUE(gpu.process_images({&view, 1}).is_ok());
  ASSERT_EQ(gpu.faces(0).size(), cpu.faces().size());
  double worst = 0;
  for (size_t k = 0; k < cpu.faces().size(); ++k) {
    EXPECT_NEAR(gpu.faces(0)[k].score, cpu.faces()[k].score, 1e-4);
    worst = std::max(worst, landmark_diff_iod(gpu.faces(0)[k], cpu.faces()[k]));
  }
  std::printf("[gpu-pipeline] retinaface on group_8faces_selfie: %zu faces, worst landmark difference to the CPU %.5f%% IOD\n",
              cpu.faces().size(), worst);
  EXPECT_GE(cpu.faces().size(), 6u);
  EXPECT_LE(worst, 0.05);
}

// Frames as cameras deliver them (NV12, YUYV, packed BGR), read as they are on the GPU: the same
// faces as the RGB upload, landmarks within the change that chroma subsampling makes to the pixels.
TEST(CudaFacePipeline, YuvAndBgrFramesGiveTheSameFaces) {
  FACEPIPE_REQUIRE_CUDA();
  FACEPIPE_REQUIRE_FILE(test::reference_dir() / "mediapipe" / "decoded");
  using kernels::cuda::FrameFormat;
  double worst[3] = {0, 0, 0};
  int faces = 0;
  for (const fs::path& png : decoded_images()) {
    const media::Image image = media::decode_image_file(png);
    const kernels::ImageView view = media::kernel_view(image);
    CudaFacePipelineConfig config = gpu_config(1, false);
    config.max_width = std::max(config.max_width, view.width);
    config.max_height = std::max(config.max_height, view.height);
    CudaFacePipeline gpu(config);
    ASSERT_TRUE(gpu.process_images({&view, 1}).is_ok());
    const std::vector<FaceResult> expected(gpu.faces(0).begin(), gpu.faces(0).end());
    const size_t cw = static_cast<size_t>(view.width + 1) / 2, ch = static_cast<size_t>(view.height + 1) / 2;
    std::vector<uint8_t> y(static_cast<size_t>(view.width) * static_cast<size_t>(view.height)), uv(cw * ch * 2),
        yuyv(cw * 4 * static_cast<size_t>(view.height)), bgr(y.size() * 3);
    kernels::encode_nv12(view, y.data(), view.width, uv.data(), static_cast<int64_t>(cw * 2));
    kernels::encode_yuyv(view, yuyv.data(), static_cast<int64_t>(cw * 4));
    for (size_t i = 0; i < y.size(); ++i)
      for (int c = 0; c < 3; ++c) bgr[3 * i + static_cast<size_t>(c)] = view.data[(i / static_cast<size_t>(view.width)) * static_cast<size_t>(view.row_stride) + (i % static_cast<size_t>(view.width)) * 3 + static_cast<size_t>(2 - c)];
    const HostFrame raws[3] = {
        {FrameFormat::kNV12, view.width, view.height, y.data(), view.width, uv.data(), static_cast<int64_t>(cw * 2)},
        {FrameFormat::kYUYV, view.width, view.height, yuyv.data(), static_cast<int64_t>(cw * 4), nullptr, 0},
        {FrameFormat::kBGR24, view.width, view.height, bgr.data(), static_cast<int64_t>(view.width) * 3, nullptr, 0}};
    for (int k = 0; k < 3; ++k) {
      const CameraFrame frame{0, {}, 0.0, &raws[k]};
      ASSERT_TRUE(gpu.process({&frame, 1}, false).is_ok());
      ASSERT_EQ(gpu.faces(0).size(), expected.size()) << png.stem() << " format " << k;
      for (size_t f = 0; f < expected.size(); ++f)
        worst[k] = std::max(worst[k], landmark_diff_iod(gpu.faces(0)[f], expected[f]));
    }
    faces += static_cast<int>(expected.size());
  }
  std::printf("[gpu-pipeline] %d faces from NV12 / YUYV / BGR frames vs RGB: worst landmark difference %.4f%% / %.4f%% / "
              "%.6f%% IOD\n", faces, worst[0], worst[1], worst[2]);
  EXPECT_LE(worst[0], 0.5);
  EXPECT_LE(worst[1], 0.5);
  EXPECT_LE(worst[2], 1e-4);  // packed BGR is the same pixels
}

// NV12/YUYV frames are sampled where they were uploaded, never converted as a whole: the faces and
// the preview must be exactly those of the BGR frame convert_frame_cuda makes of the same YUV bytes,
// uploaded as BGR24 (the pipeline's behaviour before it sampled YUV directly). Both detectors (the
// letterbox warp and RetinaFace's planar resize), landmark crops and the preview.
TEST(CudaFacePipeline, YuvFramesEqualTheirConversionToBgr) {
  FACEPIPE_REQUIRE_CUDA();
  FACEPIPE_REQUIRE_FILE(test::reference_dir() / "mediapipe" / "decoded");
  using facepipe::cuda::DeviceBuffer;
  using kernels::cuda::FrameFormat;
  double worst = 0;
  int faces = 0, runs = 0;
  size_t preview_mismatches = 0;
  for (DetectorKind detector : {DetectorKind::kBlazeFace, DetectorKind::kRetinaFace}) {
    if (detector == DetectorKind::kRetinaFace && !fs::exists(test::models_dir() / "retinaface_mnet025_dyn.onnx")) continue;
    CudaFacePipelineConfig config = gpu_config(1, false, detector);
    config.preview_width = 960;
    config.preview_height = 540;
    CudaFacePipeline gpu(config);
    for (const fs::path& png : decoded_images()) {
      const media::Image image = media::decode_image_file(png);
      const kernels::ImageView view = media::kernel_view(image);
      gpu.ensure_frame_capacity(view.width, view.height);
      const int w = view.width, h = view.height;
      const size_t cw = static_cast<size_t>(w + 1) / 2, ch = static_cast<size_t>(h + 1) / 2;
      std::vector<uint8_t> y(static_cast<size_t>(w) * static_cast<size_t>(h)), uv(cw * ch * 2),
          yuyv(cw * 4 * static_cast<size_t>(h)), bgr(y.size() * 3);
      kernels::encode_nv12(view, y.data(), w, uv.data(), static_cast<int64_t>(cw * 2));
      kernels::encode_yuyv(view, yuyv.data(), static_cast<int64_t>(cw * 4));
      const HostFrame raws[2] = {
          {FrameFormat::kNV12, w, h, y.data(), w, uv.data(), static_cast<int64_t>(cw * 2)},
          {FrameFormat::kYUYV, w, h, yuyv.data(), static_cast<int64_t>(cw * 4), nullptr, 0}};
      const int pw = std::min(960, (w + 1) / 2), ph = std::min(540, (h + 1) / 2);
      for (const HostFrame& raw : raws) {
        // The reference frame: the whole-frame conversion on the GPU, back to the host as BGR24.
        DeviceBuffer p0(raw.format == FrameFormat::kNV12 ? y.size() : yuyv.size()), p1(uv.size()), out(bgr.size());
        FACEPIPE_CUDA_THROW(cudaMemcpy(p0.get(), raw.plane0, p0.bytes(), cudaMemcpyHostToDevice));
        FACEPIPE_CUDA_THROW(cudaMemcpy(p1.get(), uv.data(), uv.size(), cudaMemcpyHostToDevice));
        const kernels::cuda::DeviceFrameView dev{raw.format, w, h, p0.as<uint8_t>(), raw.stride0,
                                                 raw.plane1 ? p1.as<uint8_t>() : nullptr, raw.stride1};
        ASSERT_TRUE(kernels::cuda::convert_frame_cuda(dev, out.as<uint8_t>(), int64_t{w} * 3, kernels::ChannelOrder::kBGR,
                                                      nullptr).is_ok());
        FACEPIPE_CUDA_THROW(cudaMemcpy(bgr.data(), out.get(), bgr.size(), cudaMemcpyDeviceToHost));
        const HostFrame packed{FrameFormat::kBGR24, w, h, bgr.data(), int64_t{w} * 3, nullptr, 0};

        const CameraFrame direct{0, {}, 0.0, &raw, pw, ph};
        Status st = gpu.process({&direct, 1}, false);
        ASSERT_TRUE(st.is_ok()) << st.message();
        const std::vector<FaceResult> got(gpu.faces(0).begin(), gpu.faces(0).end());
        const kernels::ImageView p = gpu.preview(0);
        ASSERT_NE(p.data, nullptr);
        const std::vector<uint8_t> got_preview(p.data, p.data + static_cast<size_t>(pw) * static_cast<size_t>(ph) * 3);
        const CameraFrame converted{0, {}, 0.0, &packed, pw, ph};
        st = gpu.process({&converted, 1}, false);
        ASSERT_TRUE(st.is_ok()) << st.message();
        ASSERT_EQ(got.size(), gpu.faces(0).size()) << png.stem() << (raw.format == FrameFormat::kNV12 ? " nv12" : " yuyv");
        for (size_t f = 0; f < got.size(); ++f) {
          worst = std::max(worst, landmark_diff_iod(got[f], gpu.faces(0)[f]));
          EXPECT_NEAR(got[f].box.x1, gpu.faces(0)[f].box.x1, 1e-3) << png.stem();
        }
        const kernels::ImageView q = gpu.preview(0);
        for (size_t i = 0; i < got_preview.size(); ++i) preview_mismatches += got_preview[i] != q.data[i];
        faces += static_cast<int>(got.size());
        ++runs;
      }
    }
  }
  std::printf("[gpu-pipeline] YUV sampled directly vs converted to BGR first: %d runs, %d faces, worst landmark "
              "difference %.6f%% IOD, preview bytes differing %zu\n", runs, faces, worst, preview_mismatches);
  EXPECT_GE(faces, 8);
  EXPECT_LE(worst, 1e-4);  // the same pixels: expected 0
  EXPECT_EQ(preview_mismatches, 0u);
}

// Previews made with the batch: the asked size, the picture's colours (mean per channel within a
// level of the source's), none when not asked, an error when larger than configured.
TEST(CudaFacePipeline, PreviewsComeBackWithTheResults) {
  FACEPIPE_REQUIRE_CUDA();
  const fs::path png = test::reference_dir() / "mediapipe" / "decoded" / "glasses_frontal.png";
  FACEPIPE_REQUIRE_FILE(png);
  const media::Image image = media::decode_image_file(png);
  const kernels::ImageView view = media::kernel_view(image);
  CudaFacePipelineConfig config = gpu_config(2, false);
  config.max_width = std::max(config.max_width, view.width);
  config.max_height = std::max(config.max_height, view.height);
  config.preview_width = 960;
  config.preview_height = 540;
  CudaFacePipeline gpu(config);
  const int pw = view.width / 2, ph = view.height / 2;
  const CameraFrame frames[2] = {{0, view, 0.0, nullptr, pw, ph}, {1, view, 0.0, nullptr, 0, 0}};
  const Status st = gpu.process(frames, false);
  ASSERT_TRUE(st.is_ok()) << st.message();
  const kernels::ImageView p = gpu.preview(0);
  ASSERT_NE(p.data, nullptr);
  EXPECT_EQ(p.width, pw);
  EXPECT_EQ(p.height, ph);
  EXPECT_EQ(p.order, kernels::ChannelOrder::kBGR);
  EXPECT_EQ(gpu.preview(1).data, nullptr) << "camera 1 asked for none";
  double src[3] = {0, 0, 0}, dst[3] = {0, 0, 0};
  for (int y = 0; y < view.height; ++y)
    for (int x = 0; x < view.width; ++x)
      for (int c = 0; c < 3; ++c) src[c] += view.data[y * view.row_stride + x * 3 + c];  // RGB
  for (int y = 0; y < ph; ++y)
    for (int x = 0; x < pw; ++x)
      for (int c = 0; c < 3; ++c) dst[2 - c] += p.data[y * p.row_stride + x * 3 + c];  // BGR
  for (int c = 0; c < 3; ++c) {
    const double a = src[c] / (view.width * view.height), b = dst[c] / (pw * ph);
    std::printf("[gpu-pipeline] preview channel %d mean %.2f vs source %.2f\n", c, b, a);
    EXPECT_NEAR(a, b, 1.0);
  }
  const CameraFrame too_big{0, view, 0.0, nullptr, 961, 540};
  EXPECT_FALSE(gpu.process({&too_big, 1}, false).is_ok());
}

TEST(CudaFacePipeline, BadFramesAreErrorsNotCrashes) {
  FACEPIPE_REQUIRE_CUDA();
  FACEPIPE_REQUIRE_FILE(test::models_dir() / "face_landmarker.task");
  CudaFacePipelineConfig c = gpu_config(1, false);
  c.max_width = 64;
  c.max_height = 64;
  CudaFacePipeline gpu(c);
  media::Image big(128, 64);
  const kernels::ImageView v = media::kernel_view(big);
  const Status st = gpu.process_images({&v, 1});
  EXPECT_FALSE(st.is_ok());
  std::printf("[gpu-pipeline] frame over the configured size: %s\n", st.message());
  kernels::ImageView two[2] = {v, v};
  EXPECT_FALSE(gpu.process_images(two).is_ok());  // more frames than cameras
}

}  // namespace
}  // namespace facepipe::face::cuda
