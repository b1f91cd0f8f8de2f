// Per-frame paths allocate nothing after warm-up: operator new is counted across the whole test
// executable, and the counter must not move while frames flow (ring push/pop, preview resize, the
// capture thread decoding a file into recycled ring buffers). FFmpeg's own av_malloc of compressed
// packets is outside operator new and outside our control (see media/video_reader.h).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <thread>

#include "runtime/frame_ring.h"
#include "ipc/test_instance.h"
#include "runtime/preview.h"
#include "runtime/runtime.h"
#include "runtime/source.h"
#include "support/allocation_counter.h"
#include "support/test_support.h"


namespace facepipe::runtime {
namespace {

using namespace std::chrono_literals;

TEST(Allocation, RingAndPreviewAfterWarmUp) {
  FrameRing<CapturedFrame> ring(4);
  CapturedFrame out;
  media::Image preview(304, 540, media::PixelFormat::kBGR8);
  PreviewScaler scaler;
  auto cycle = [&] {
    ring.staging().image.reset(720, 1280, media::PixelFormat::kBGR8);
    ring.push();
    if (ring.try_pop(out)) scaler.resize(out.image.view(), preview.view());
  };
  for (int i = 0; i < 20; ++i) cycle();  // every buffer has seen the size
  const uint64_t before = test::heap_allocations();
  for (int i = 0; i < 200; ++i) cycle();
  EXPECT_EQ(test::heap_allocations() - before, 0u);
}

TEST(Allocation, CaptureThreadDecodingAFile) {
  const auto video = test::testdata_dir() / "video" / "talking_man_glasses_720x1280.mp4";
  FACEPIPE_REQUIRE_FILE(video);
  FrameRing<CapturedFrame> ring(4);
  SourceOptions o;
  o.source = video.string();
  o.realtime = false;
  o.loop = false;  // a rewind may allocate inside the demuxer's seek; not per frame
  CaptureThread capture("t", o, ring);
  capture.start();
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  CapturedFrame out;
  auto drain = [&] {  // the pipeline's side: take frames (unpaced files wait for ring space)
    while (ring.try_pop(out)) {
    }
    std::this_thread::sleep_for(1ms);
  };
  const test::CountedRun run = test::count_allocations_after_warm_up(
      [&] { return capture.stats().frames.load(); }, drain, 50, 150, deadline);
  capture.stop();
  ASSERT_GE(run.progressed, 150u) << capture.last_error();
  EXPECT_EQ(run.allocations, 0u) << "operator new calls while 150 frames were captured";
}

// The whole per-frame path of one camera: capture, FacePipeline::process_frame (tracking the
// sample's face), preview, ShmWriter::publish.
TEST(Allocation, CameraWorkerPerFramePath) {
  const auto video = test::testdata_dir() / "video" / "talking_man_glasses_720x1280.mp4";
  FACEPIPE_REQUIRE_FILE(video);
  test::SegmentCleanup cleanup(test::unique_instance("alloc"));
  CameraConfig camera;
  camera.id = "cam0";
  camera.source = video.string();
  camera.realtime = false;
  camera.loop = false;
  GpuConfig gpu;
  gpu.models_dir = test::models_dir().string();
  CameraWorker worker(cleanup.instance(), camera, gpu);
  worker.start();
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  const test::CountedRun run = test::count_allocations_after_warm_up(
      [&] { return worker.pipeline_stats().frames.load(); }, [] { std::this_thread::sleep_for(1ms); }, 40, 60, deadline);
  const uint64_t faces = worker.pipeline_stats().faces.load();
  worker.request_stop();
  worker.join();
  ASSERT_GE(run.progressed, 60u);
  EXPECT_GT(faces, 90u);
  EXPECT_EQ(worker.pipeline_stats().errors.load(), 0u);
  EXPECT_EQ(run.allocations, 0u) << "operator new calls while 60 frames went through the camera";
}

}  // namespace
}  // namespace facepipe::runtime
