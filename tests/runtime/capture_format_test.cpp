// The capture format of GPU workers ([gpu] capture_format, docs/runtime.md): video sources asked
// for NV12 deliver NV12 through the ring without allocating, the format follows the pipeline the
// camera actually got, and the CPU preview reads NV12 frames.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <thread>

#include "ipc/test_instance.h"
#include "runtime/frame_ring.h"
#include "runtime/gpu_batcher.h"
#include "runtime/preview.h"
#include "runtime/runtime.h"
#include "runtime/source.h"
#include "support/allocation_counter.h"
#include "support/test_support.h"

namespace facepipe::runtime {
namespace {

using namespace std::chrono_literals;

std::string sample_video() { return (test::testdata_dir() / "video" / "talking_man_glasses_720x1280.mp4").string(); }

TEST(CaptureFormat, VideoAskedForNv12DeliversNv12ThroughTheRingWithoutAllocating) {
  FACEPIPE_REQUIRE_FILE(sample_video());
  FrameRing<CapturedFrame> ring(4);
  SourceOptions o;
  o.source = sample_video();
  o.realtime = false;
  o.loop = false;
  o.video_format = media::PixelFormat::kNV12;
  CaptureThread capture("t", o, ring);
  capture.start();
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  CapturedFrame out;
  int nv12 = 0, other = 0;
  uint64_t last_sequence = 0;
  bool ordered = true;
  auto drain = [&] {
    while (ring.try_pop(out)) {
      const bool ok = out.image.format() == media::PixelFormat::kNV12 && out.image.width() == 720 &&
                      out.image.height() == 1280 && out.image.uv_plane() != nullptr;
      (ok ? nv12 : other) += 1;
      ordered = ordered && out.sequence > last_sequence;
      last_sequence = out.sequence;
    }
    std::this_thread::sleep_for(1ms);
  };
  const test::CountedRun run = test::count_allocations_after_warm_up(
      [&] { return capture.stats().frames.load(); }, drain, 50, 150, deadline);
  capture.stop();
  drain();
  ASSERT_GE(run.progressed, 150u) << capture.last_error();
  EXPECT_EQ(run.allocations, 0u) << "operator new calls while 150 NV12 frames were captured";
  EXPECT_GT(nv12, 150);
  EXPECT_EQ(other, 0);
  EXPECT_TRUE(ordered);
  // The frame's luma is a picture, not the zero-filled buffer: the Y plane has structure.
  int lo = 255, hi = 0;
  for (int x = 0; x < 720; ++x) lo = std::min<int>(lo, out.image.row(640)[x]), hi = std::max<int>(hi, out.image.row(640)[x]);
  EXPECT_GT(hi - lo, 50);
}

TEST(CaptureFormat, ImageFoldersStayBgrAndOtherFormatsAreRefused) {
  const auto folder = test::testdata_dir() / "images";
  FACEPIPE_REQUIRE_FILE(folder);
  FrameRing<CapturedFrame> ring(4);
  SourceOptions o;
  o.source = folder.string();
  o.realtime = false;
  o.video_format = media::PixelFormat::kNV12;  // for video sources only
  CaptureThread capture("t", o, ring);
  capture.start();
  CapturedFrame out;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  int frames = 0;
  bool all_bgr = true;
  while (frames < 5 && std::chrono::steady_clock::now() < deadline) {
    if (!ring.pop(out, 100ms)) continue;
    all_bgr = all_bgr && out.image.format() == media::PixelFormat::kBGR8;
    ++frames;
  }
  capture.stop();
  EXPECT_EQ(frames, 5);
  EXPECT_TRUE(all_bgr);
  // RGB8 is not a capture format: refused at construction (start-up), never inside the thread.
  SourceOptions rgb = o;
  rgb.video_format = media::PixelFormat::kRGB8;
  EXPECT_THROW(CaptureThread("t", rgb, ring), Error);
}

// A batched "GPU" pipeline that records the formats it is given. It makes no previews, so the
// cameras scale their own (from NV12 when they capture NV12: PreviewScaler's NV12 path).
class FormatRecordingPipeline final : public BatchedPipeline {
 public:
  explicit FormatRecordingPipeline(bool reads_nv12) : reads_nv12_(reads_nv12) {}
  int capacity() const override { return 2; }
  Status ensure_frame_capacity(int, int) override { return Status::ok(); }
  Status process(std::span<const BatchFrame> frames) override {
    for (const BatchFrame& f : frames) {
      if (f.image.format == media::PixelFormat::kNV12 && f.image.uv != nullptr && f.image.uv_stride >= f.image.width)
        nv12.fetch_add(1);
      else if (f.image.format == media::PixelFormat::kBGR8 && f.image.uv == nullptr)
        bgr.fetch_add(1);
      else
        bad.fetch_add(1);
    }
    return Status::ok();
  }
  std::span<const face::FaceResult> faces(int) const override { return {}; }
  void reset_slot(int) override {}
  const char* device() const override { return "fake"; }
  bool reads_nv12() const override { return reads_nv12_; }

  std::atomic<int> nv12{0}, bgr{0}, bad{0};

 private:
  bool reads_nv12_;
};

struct BatchedRun {
  int nv12 = 0, bgr = 0, bad = 0;
  uint64_t errors = 0, published = 0, allocations = 0;
  media::PixelFormat capture_format = media::PixelFormat::kRGB8;
};

BatchedRun run_batched(bool pipeline_reads_nv12, CaptureFormat configured) {
  test::SegmentCleanup cleanup(test::unique_instance("capfmt"));
  auto p = std::make_unique<FormatRecordingPipeline>(pipeline_reads_nv12);
  FormatRecordingPipeline* pipeline = p.get();
  GpuBatcher batcher(std::move(p), batch_key(CameraConfig{}));
  CameraConfig camera;
  camera.id = "cam0";
  camera.source = sample_video();
  camera.realtime = false;
  camera.loop = false;
  GpuConfig gpu;
  gpu.capture_format = configured;
  BatchedRun r;
  {
    CameraWorker worker(cleanup.instance(), camera, gpu, 0, &batcher);
    r.capture_format = worker.capture_format();
    worker.start();
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    auto published = [&] { return worker.pipeline_stats().frames.load(); };
    // The per-frame path of the camera (capture, batch, CPU preview from the frame, publish).
    r.allocations = test::count_allocations_after_warm_up(
                        published, [] { std::this_thread::sleep_for(1ms); }, 30, 40, deadline)
                        .allocations;
    r.published = published();
    r.errors = worker.pipeline_stats().errors.load();
    worker.request_stop();
    worker.join();
  }
  r.nv12 = pipeline->nv12.load(), r.bgr = pipeline->bgr.load(), r.bad = pipeline->bad.load();
  return r;
}

TEST(CaptureFormat, BatchedCamerasCaptureWhatTheirPipelineReads) {
  FACEPIPE_REQUIRE_FILE(sample_video());
  {  // A pipeline that samples NV12, capture_format = "nv12" (the default): NV12 all the way.
    const BatchedRun r = run_batched(true, CaptureFormat::kNV12);
    EXPECT_EQ(r.capture_format, media::PixelFormat::kNV12);
    EXPECT_GE(r.published, 70u);
    EXPECT_GE(r.nv12, 70);
    EXPECT_EQ(r.bgr + r.bad, 0);
    EXPECT_EQ(r.errors, 0u) << "publishing (with the CPU preview of the NV12 frame) failed";
    EXPECT_EQ(r.allocations, 0u) << "operator new calls while 40 NV12 frames went through the camera";
  }
  {  // capture_format = "bgr": the old path.
    const BatchedRun r = run_batched(true, CaptureFormat::kBGR);
    EXPECT_EQ(r.capture_format, media::PixelFormat::kBGR8);
    EXPECT_GE(r.bgr, 70);
    EXPECT_EQ(r.nv12 + r.bad, 0);
  }
  {  // A pipeline that reads packed pixels only: BGR whatever the setting.
    const BatchedRun r = run_batched(false, CaptureFormat::kNV12);
    EXPECT_EQ(r.capture_format, media::PixelFormat::kBGR8);
    EXPECT_GE(r.bgr, 70);
    EXPECT_EQ(r.nv12 + r.bad, 0);
  }
}

TEST(CaptureFormat, CpuPipelineCapturesBgrUnderTheNv12Default) {
  // A CPU worker, and what a simulated GPU (FACEPIPE_SIMULATE_GPUS) or a build without CUDA makes
  // of a GPU index: the CPU face pipeline, which reads BGR.
  FACEPIPE_REQUIRE_FILE(sample_video());
  test::SegmentCleanup cleanup(test::unique_instance("capcpu"));
  CameraConfig camera;
  camera.id = "cam0";
  camera.source = sample_video();
  GpuConfig gpu;
  gpu.models_dir = test::models_dir().string();
  ASSERT_EQ(gpu.capture_format, CaptureFormat::kNV12);
  for (const int device : {kCpu, 63}) {  // 63: no such CUDA device here
    CameraWorker worker(cleanup.instance(), camera, gpu, device);
    EXPECT_STREQ(worker.pipeline_device(), "cpu");
    EXPECT_EQ(worker.capture_format(), media::PixelFormat::kBGR8) << "device " << device;
  }
}

TEST(CaptureFormat, PreviewOfAnNv12FrameMatchesConvertingFirst) {
  // A smooth synthetic NV12 frame: the NV12 preview path (blend Y and UV, convert once) and the
  // BGR path on the converted frame agree to a level or two (rounding, and chroma blended before
  // conversion instead of after: identical up to clamping).
  const int w = 1280, h = 720;
  media::Image nv12(w, h, media::PixelFormat::kNV12);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) nv12.row(y)[x] = static_cast<uint8_t>(16 + (x + y) * 219 / (w + h));
  for (int cy = 0; cy < h / 2; ++cy)
    for (int cx = 0; cx < w / 2; ++cx) {
      nv12.uv_row(cy)[2 * cx] = static_cast<uint8_t>(90 + cx * 60 / (w / 2));
      nv12.uv_row(cy)[2 * cx + 1] = static_cast<uint8_t>(170 - cy * 60 / (h / 2));
    }
  const media::Image bgr = media::to_format(nv12.view(), media::PixelFormat::kBGR8);
  media::Image a(480, 270, media::PixelFormat::kBGR8), b(480, 270, media::PixelFormat::kBGR8);
  PreviewScaler s1, s2;
  s1.resize(nv12.view(), a.view());
  s2.resize(bgr.view(), b.view());
  int max_diff = 0;
  for (int y = 0; y < 270; ++y)
    for (int x = 0; x < 480 * 3; ++x) max_diff = std::max(max_diff, std::abs(a.row(y)[x] - b.row(y)[x]));
  EXPECT_LE(max_diff, 2);
  // No allocation once the sizes are known.
  const uint64_t before = test::heap_allocations();
  for (int i = 0; i < 5; ++i) s1.resize(nv12.view(), a.view());
  EXPECT_EQ(test::heap_allocations() - before, 0u);
}

}  // namespace
}  // namespace facepipe::runtime
