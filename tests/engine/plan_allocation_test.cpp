// Running a planned model must not touch the heap: the test binary's allocation functions count
// (support/allocation_counter.cpp) and each real network runs several times.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "engine/cpu/cpu_plan.h"
#include "engine/import/model_loader.h"
#include "support/allocation_counter.h"
#include "support/test_support.h"

namespace facepipe::engine {
namespace {

void expect_no_allocation_in_run(const std::string& spec, std::vector<Shape> shapes, int threads) {
  auto graph = std::make_shared<const Graph>(load_graph(spec));
  cpu::PlanOptions options;
  options.num_threads = threads;
  auto plan = cpu::CpuPlan::create(graph, shapes, options);
  ASSERT_TRUE(plan->run().is_ok()) << plan->failed_op();  // warm-up outside the window
  const uint64_t before = test::heap_allocations();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(plan->run().is_ok());
  const uint64_t allocations = test::heap_allocations() - before;
  EXPECT_EQ(allocations, 0u) << spec << " allocated during run()";
  std::printf("[alloc] %-60s threads=%d arena=%zu KiB (without reuse %zu KiB), allocations during 3 runs: %ld\n",
              spec.c_str(), threads, plan->stats().arena_bytes / 1024, plan->stats().naive_arena_bytes / 1024,
              static_cast<long>(allocations));
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
