// Whole models through CpuPlan (importer, folding, fusion, optimized kernels, reference fallback):
// RetinaFace mnet0.25 at 640x640 and the MediaPipe face networks, per thread count. Models come
// from ../shared/models (FACEPIPE_MODELS overrides); a missing file skips its benchmark.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "engine/cpu/cpu_plan.h"
#include "engine/import/model_loader.h"

namespace facepipe::engine::cpu {
namespace {

std::filesystem::path models_dir() {
  if (const char* env = std::getenv("FACEPIPE_MODELS"); env && *env) return env;
  // This file is bench/model_bench.cpp in the source tree; shared/ sits beside the checkout.
  return std::filesystem::path(__FILE__).parent_path().parent_path() / ".." / "shared" / "models";
}

void BM_Model(benchmark::State& state, std::string file, std::string member) {
  const auto path = models_dir() / file;
  if (!std::filesystem::exists(path)) {
    state.SkipWithError("model file missing");
    return;
  }
  std::unique_ptr<CpuPlan> plan;
  try {
    auto graph = std::make_shared<const Graph>(load_graph(member.empty() ? path.string() : path.string() + ":" + member));
    PlanOptions options;
    options.num_threads = static_cast<int>(state.range(0));
    plan = CpuPlan::create(graph, {}, options);
  } catch (const std::exception& e) {
    static std::string message;
    message = e.what();
    state.SkipWithError(message.c_str());
    return;
  }
  for (int i = 0; i < plan->num_inputs(); ++i) {
    const TensorView& in = plan->input(i);
    if (in.dtype != DType::kF32) continue;
    for (int64_t j = 0; j < in.num_elements(); ++j) in.as<float>()[j] = static_cast<float>((j * 7919) % 255) / 255.f;
  }
  for (auto _ : state) {
    const Status st = plan->run();
    if (!st.is_ok()) {
      state.SkipWithError(st.message());
      return;
    }
  }
  state.counters["ops"] = plan->stats().scheduled_ops;
  state.counters["optimized"] = plan->stats().optimized_ops;
}

const bool kRegistered = [] {
  struct Model {
    const char* name;
    const char* file;
    const char* member;
  };
  const Model models[] = {
      {"retinaface_mnet025_640", "retinaface_mnet025.onnx", ""},
      {"face_detector_128", "face_landmarker.task", "face_detector.tflite"},
      {"face_landmarks_256", "face_landmarker.task", "face_landmarks_detector.tflite"},
      {"face_blendshapes", "face_landmarker.task", "face_blendshapes.tflite"},
  };
  for (const Model& m : models) {
    benchmark::RegisterBenchmark((std::string("Model/") + m.name).c_str(), BM_Model, std::string(m.file),
                                 std::string(m.member))
        ->Arg(1)
        ->Arg(2)
        ->ArgName("threads")
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
  return true;
}();

}  // namespace
}  // namespace facepipe::engine::cpu
