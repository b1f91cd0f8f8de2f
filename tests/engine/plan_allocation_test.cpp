// Running a planned model must not touch the heap: this test replaces the global allocation
// functions of the test binary with counting ones and runs each real network several times.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "engine/cpu/cpu_plan.h"
#include "engine/import/model_loader.h"
#include "support/test_support.h"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};

void* counted_alloc(std::size_t n, std::size_t align) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  void* p = align > alignof(std::max_align_t) ? std::aligned_alloc(align, (n + align - 1) / align * align)
                                              : std::malloc(n ? n : 1);
  if (!p) throw std::bad_alloc();
  return p;
}
}  // namespace

void* operator new(std::size_t n) { return counted_alloc(n, 0); }
void* operator new[](std::size_t n) { return counted_alloc(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) { return counted_alloc(n, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted_alloc(n, static_cast<std::size_t>(a)); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try { return counted_alloc(n, 0); } catch (...) { return nullptr; }
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace facepipe::engine {
namespace {

void expect_no_allocation_in_run(const std::string& spec, std::vector<Shape> shapes, int threads) {
  auto graph = std::make_shared<const Graph>(load_graph(spec));
  cpu::PlanOptions options;
  options.num_threads = threads;
  auto plan = cpu::CpuPlan::create(graph, shapes, options);
  ASSERT_TRUE(plan->run().is_ok()) << plan->failed_op();  // warm-up outside the window
  g_allocations = 0;
  g_counting = true;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(plan->run().is_ok());
  g_counting = false;
  EXPECT_EQ(g_allocations.load(), 0) << spec << " allocated during run()";
  std::printf("[alloc] %-60s threads=%d arena=%zu KiB (without reuse %zu KiB), allocations during 3 runs: %ld\n",
              spec.c_str(), threads, plan->stats().arena_bytes / 1024, plan->stats().naive_arena_bytes / 1024,
              g_allocations.load());
}

TEST(PlanAllocation, RunningRealModelsAllocatesNothing) {
  const auto models = test::models_dir();
  FACEPIPE_REQUIRE_FILE(models / "face_landmarker.task");
  FACEPIPE_REQUIRE_FILE(models / "retinaface_mnet025_dyn.onnx");
  const std::string task = (models / "face_landmarker.task").string();
  for (int threads : {1, 2}) {
    expect_no_allocation_in_run(task + ":face_detector.tflite", {}, threads);
    expect_no_allocation_in_run(task + ":face_landmarks_detector.tflite", {}, threads);
    expect_no_allocation_in_run(task + ":face_blendshapes.tflite", {}, threads);
    expect_no_allocation_in_run((models / "retinaface_mnet025_dyn.onnx").string(), {Shape{1, 3, 240, 320}}, threads);
  }
}

}  // namespace
}  // namespace facepipe::engine
