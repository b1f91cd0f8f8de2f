// Steady-state runs of a CUDA plan allocate nothing: this binary interposes the CUDA runtime's
// allocation entry points (cudaMalloc*, cudaHostAlloc, cudaFree*: every call from facepipe's code
// lands here first, then in libcudart through dlsym(RTLD_NEXT)), counts heap allocations
// (support/allocation_counter.cpp), and checks cudaMemGetInfo, over 1,000 runs after warm-up of each network in f32 and f16 storage.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>

#include "engine/import/model_loader.h"
#include "face/cuda/cuda_face_pipeline.h"
#include "media/kernel_view.h"
#include "media/video_reader.h"
#include "gpu/cuda_test_util.h"
#include "support/allocation_counter.h"
#include "support/test_support.h"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_cuda_alloc{0};
std::atomic<long> g_cuda_free{0};
std::atomic<long> g_cuda_calls_ever{0};

void count_cuda(std::atomic<long>& counter) {
  g_cuda_calls_ever.fetch_add(1, std::memory_order_relaxed);
  if (g_counting.load(std::memory_order_relaxed)) counter.fetch_add(1, std::memory_order_relaxed);
}

template <typename F> F real(const char* name) {
  void* f = dlsym(RTLD_NEXT, name);
  if (!f) std::abort();
  return reinterpret_cast<F>(f);
}

}  // namespace

extern "C" {
cudaError_t CUDARTAPI cudaMalloc(void** p, size_t n) {
  count_cuda(g_cuda_alloc);
  static const auto f = real<cudaError_t (*)(void**, size_t)>("cudaMalloc");
  return f(p, n);
}
cudaError_t CUDARTAPI cudaMallocHost(void** p, size_t n) {
  count_cuda(g_cuda_alloc);
  static const auto f = real<cudaError_t (*)(void**, size_t)>("cudaMallocHost");
  return f(p, n);
}
cudaError_t CUDARTAPI cudaHostAlloc(void** p, size_t n, unsigned int flags) {
  count_cuda(g_cuda_alloc);
  static const auto f = real<cudaError_t (*)(void**, size_t, unsigned int)>("cudaHostAlloc");
  return f(p, n, flags);
}
cudaError_t CUDARTAPI cudaMallocManaged(void** p, size_t n, unsigned int flags) {
  count_cuda(g_cuda_alloc);
  static const auto f = real<cudaError_t (*)(void**, size_t, unsigned int)>("cudaMallocManaged");
  return f(p, n, flags);
}
cudaError_t CUDARTAPI cudaMallocAsync(void** p, size_t n, cudaStream_t s) {
  count_cuda(g_cuda_alloc);
  static const auto f = real<cudaError_t (*)(void**, size_t, cudaStream_t)>("cudaMallocAsync");
  return f(p, n, s);
}
cudaError_t CUDARTAPI cudaMallocPitch(void** p, size_t* pitch, size_t w, size_t h) {
  count_cuda(g_cuda_alloc);
  static const auto f = real<cudaError_t (*)(void**, size_t*, size_t, size_t)>("cudaMallocPitch");
  return f(p, pitch, w, h);
}
cudaError_t CUDARTAPI cudaFree(void* p) {
  count_cuda(g_cuda_free);
  static const auto f = real<cudaError_t (*)(void*)>("cudaFree");
  return f(p);
}
cudaError_t CUDARTAPI cudaFreeHost(void* p) {
  count_cuda(g_cuda_free);
  static const auto f = real<cudaError_t (*)(void*)>("cudaFreeHost");
  return f(p);
}
cudaError_t CUDARTAPI cudaFreeAsync(void* p, cudaStream_t s) {
  count_cuda(g_cuda_free);
  static const auto f = real<cudaError_t (*)(void*, cudaStream_t)>("cudaFreeAsync");
  return f(p, s);
}
}  // extern "C"

namespace facepipe::engine {
namespace {

constexpr int kRuns = 1000;

void expect_no_allocation(const std::string& spec, std::vector<Shape> shapes, bool fp16) {
  auto graph = std::make_shared<const Graph>(load_graph(spec));
  const long calls_before_plan = g_cuda_calls_ever.load();
  cuda::CudaPlanOptions options;
  options.fp16 = fp16;
  auto plan = cuda::CudaPlan::create(graph, shapes, options);
  // The interposition works: planning itself went through the counted cudaMalloc.
  EXPECT_GT(g_cuda_calls_ever.load(), calls_before_plan) << "the cudaMalloc interposer saw no call";
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(plan->run().is_ok()) << plan->failed_op();
  ASSERT_TRUE(plan->synchronize().is_ok());
  size_t free_before = 0, free_after = 0, total = 0;
  ASSERT_EQ(cudaMemGetInfo(&free_before, &total), cudaSuccess);
  const uint64_t heap_before = test::heap_allocations();
  g_cuda_alloc = 0;
  g_cuda_free = 0;
  g_counting = true;
  bool ok = true;
  for (int i = 0; i < kRuns && ok; ++i) {
    ok = plan->run().is_ok();
    if (i % 100 == 99) ok = ok && plan->synchronize().is_ok();
  }
  ok = ok && plan->synchronize().is_ok();
  g_counting = false;
  const long heap = static_cast<long>(test::heap_allocations() - heap_before);
  ASSERT_TRUE(ok) << spec;
  ASSERT_EQ(cudaMemGetInfo(&free_after, &total), cudaSuccess);
  EXPECT_EQ(g_cuda_alloc.load(), 0) << spec;
  EXPECT_EQ(g_cuda_free.load(), 0) << spec;
  EXPECT_EQ(heap, 0) << spec;
  EXPECT_EQ(free_before, free_after) << spec << ": device memory in use changed during the runs";
  std::printf("[cuda-alloc] %-62s %s graph=%d arena=%zu KiB (without reuse %zu KiB) constants=%zu KiB: %d runs, "
              "cudaMalloc* %ld, cudaFree* %ld, heap %ld, free device memory %zu -> %zu\n",
              spec.c_str(), fp16 ? "fp16" : "fp32", plan->uses_graph(), plan->stats().arena_bytes / 1024,
              plan->stats().naive_arena_bytes / 1024, plan->stats().constant_bytes / 1024, kRuns, g_cuda_alloc.load(),
              g_cuda_free.load(), heap, free_before, free_after);
}

TEST(CudaPlanAllocation, ThousandRunsAllocateNothing) {
  FACEPIPE_REQUIRE_CUDA();
  const auto models = test::models_dir();
  FACEPIPE_REQUIRE_FILE(models / "face_landmarker.task");
  FACEPIPE_REQUIRE_FILE(models / "retinaface_mnet025_dyn.onnx");
  const std::string task = (models / "face_landmarker.task").string();
  for (bool fp16 : {false, true}) {
    expect_no_allocation(task + ":face_detector.tflite", {}, fp16);
    expect_no_allocation(task + ":face_landmarks_detector.tflite", {}, fp16);
    expect_no_allocation(task + ":face_blendshapes.tflite", {}, fp16);
    expect_no_allocation((models / "retinaface_mnet025_dyn.onnx").string(), {Shape{1, 3, 640, 640}}, fp16);
  }
}

// The whole GPU face pipeline: tracking one camera through the sample clip, and the detector on
// every frame of four cameras in one batch (the frames come from host memory each call).
TEST(CudaFacePipelineAllocation, ThousandFramesAllocateNothing) {
  FACEPIPE_REQUIRE_CUDA();
  const auto video = test::testdata_dir() / "video" / "talking_man_glasses_720x1280.mp4";
  FACEPIPE_REQUIRE_FILE(video);
  FACEPIPE_REQUIRE_FILE(test::models_dir() / "face_landmarker.task");
  std::vector<media::Image> frames;
  {
    media::VideoReader reader(video.string());
    media::VideoFrame frame;
    while (frames.size() < 60 && reader.read(frame).is_ok()) frames.push_back(frame.image.clone());
  }
  ASSERT_EQ(frames.size(), 60u);
  for (const int cameras : {1, 4}) {
    const bool video_mode = cameras == 1;
    face::cuda::CudaFacePipelineConfig config;
    config.face.models_dir = test::models_dir().string();
    config.face.max_faces = 4;
    config.cameras = cameras;
    config.max_width = frames[0].width();
    config.max_height = frames[0].height();
    config.max_batch = 8;
    config.fp16 = true;
    face::cuda::CudaFacePipeline pipeline(config);
    std::vector<kernels::ImageView> views(static_cast<size_t>(cameras));
    std::vector<double> ts(static_cast<size_t>(cameras));
    int64_t faces = 0;
    auto step = [&](int i) {
      for (int c = 0; c < cameras; ++c) {
        views[static_cast<size_t>(c)] = media::kernel_view(frames[static_cast<size_t>(i + c) % frames.size()]);
        ts[static_cast<size_t>(c)] = i / 30.0;
      }
      const Status st = video_mode ? pipeline.process_frames(views, ts) : pipeline.process_images(views);
      for (int c = 0; c < cameras; ++c) faces += static_cast<int64_t>(pipeline.faces(c).size());
      return st.is_ok();
    };
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(step(i));
    size_t free_before = 0, free_after = 0, total = 0;
    ASSERT_EQ(cudaMemGetInfo(&free_before, &total), cudaSuccess);
    faces = 0;
    const uint64_t heap_before = test::heap_allocations();
    g_cuda_alloc = 0;
    g_cuda_free = 0;
    g_counting = true;
    bool ok = true;
    for (int i = 20; i < 20 + kRuns && ok; ++i) ok = step(i);
    g_counting = false;
    const long heap = static_cast<long>(test::heap_allocations() - heap_before);
    ASSERT_TRUE(ok);
    ASSERT_EQ(cudaMemGetInfo(&free_after, &total), cudaSuccess);
    EXPECT_EQ(g_cuda_alloc.load(), 0);
    EXPECT_EQ(g_cuda_free.load(), 0);
    EXPECT_EQ(heap, 0);
    EXPECT_EQ(free_before, free_after);
    EXPECT_GE(faces, kRuns * cameras * 9 / 10) << "the face is found in (nearly) every frame";
    std::printf("[cuda-alloc] GPU face pipeline, %d camera(s), %s mode: %d calls, %lld face-frames, cudaMalloc* %ld, "
                "cudaFree* %ld, heap %ld, free device memory %zu -> %zu\n",
                cameras, video_mode ? "tracking" : "image", kRuns, static_cast<long long>(faces), g_cuda_alloc.load(),
                g_cuda_free.load(), heap, free_before, free_after);
  }
}

}  // namespace
}  // namespace facepipe::engine
