// The four networks on the CUDA backend against the CPU engine, on the reference inputs of
// tests/engine/model_parity_test.cpp (../shared/reference): f32 storage within 1e-5 normalized
// error per output. Normalization is by max |CPU output|, except that outputs that are
// probabilities (every value in [0, 1]: sigmoid scores, softmax) are compared on their natural
// scale of 1: a face-presence score of 6e-4 whose logit differs by 5e-5 is not a 5e-5 error.
// f16 storage rounds every activation to 11 bits, and the rounding of 30-100 layers adds up: the
// ops meet 1e-3 one by one (ops_cuda_test), the whole networks are held to kF16ModelTolerance.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "engine/cpu/cpu_plan.h"
#include "engine/import/model_loader.h"
#include "gpu/cuda_test_util.h"
#include "support/test_support.h"

namespace facepipe::engine {
namespace {

namespace fs = std::filesystem;
constexpr double kMagnitudeFloor = 1e-6;
constexpr double kF32Tolerance = 1e-5;
constexpr double kF16ModelTolerance = 2e-2;

struct Worst {
  double fp32 = 0, fp16 = 0;
};
Worst g_worst;

// Plans `graph` at `shapes` on the CPU and on the GPU (f32 and f16 storage), feeds `inputs`,
// and compares every output. `batch_override` plans a batch-1 model at the batch of `shapes` on
// both backends (engine/plan/rebatch.h).
void check_model(const std::shared_ptr<const Graph>& graph, const std::vector<Shape>& shapes,
                 const std::vector<std::vector<float>>& inputs, const std::string& label,
                 bool batch_override = false) {
  cpu::PlanOptions cpu_options;
  cpu_options.batch_override = batch_override;
  auto cpu = cpu::CpuPlan::create(graph, shapes, cpu_options);
  for (int i = 0; i < cpu->num_inputs(); ++i) {
    ASSERT_EQ(inputs[static_cast<size_t>(i)].size() * 4, cpu->input(i).bytes()) << label;
    std::memcpy(cpu->input(i).data, inputs[static_cast<size_t>(i)].data(), cpu->input(i).bytes());
  }
  ASSERT_TRUE(cpu->run().is_ok()) << label << " " << cpu->failed_op();
  for (bool fp16 : {false, true}) {
    cuda::CudaPlanOptions options;
    options.fp16 = fp16;
    options.batch_override = batch_override;
    auto gpu = cuda::CudaPlan::create(graph, shapes, options);
    for (int i = 0; i < gpu->num_inputs(); ++i) {
      ASSERT_TRUE(gpu->copy_input_from_host(i, inputs[static_cast<size_t>(i)].data(), gpu->input(i).bytes()).is_ok());
    }
    const Status st = gpu->run();
    ASSERT_TRUE(st.is_ok()) << st.message() << " at " << gpu->failed_op();
    ASSERT_EQ(gpu->num_outputs(), cpu->num_outputs());
    for (int i = 0; i < gpu->num_outputs(); ++i) {
      const TensorView& ref = cpu->output(i);
      ASSERT_EQ(gpu->output(i).shape, ref.shape);
      std::vector<float> got(static_cast<size_t>(ref.num_elements()));
      ASSERT_TRUE(gpu->copy_output_to_host(i, got.data(), got.size() * 4).is_ok());
      const test::Deviation d = test::compare(got.data(), ref.as<float>(), got.size());
      bool probability = true;
      for (int64_t k = 0; k < ref.num_elements() && probability; ++k)
        probability = ref.as<float>()[k] >= 0.f && ref.as<float>()[k] <= 1.f;
      const double scale = probability ? 1.0 : std::max(d.max_reference_magnitude, kMagnitudeFloor);
      const double normalized = d.max_abs_error / scale;
      const bool f16 = gpu->fp16();
      std::printf("[cuda-parity] %s %-60s output %d %-14s max_abs_err %.3e max_ref %.3e normalized %.3e%s "
                  "(kernels %d, fused %d)\n",
                  f16 ? "fp16" : "fp32", label.c_str(), i, ref.shape.to_string().c_str(), d.max_abs_error,
                  d.max_reference_magnitude, normalized, probability ? " (probability scale)" : "",
                  gpu->stats().scheduled_ops, gpu->stats().fused_ops);
      EXPECT_LE(normalized, f16 ? kF16ModelTolerance : kF32Tolerance) << label << " output " << i << (f16 ? " fp16" : " fp32");
      double& worst = f16 ? g_worst.fp16 : g_worst.fp32;
      worst = std::max(worst, normalized);
    }
  }
}

Shape shape_from_name(const std::string& text) {
  std::vector<int64_t> dims;
  std::stringstream ss(text);
  std::string part;
  while (std::getline(ss, part, 'x')) dims.push_back(std::stoll(part));
  return Shape(dims);
}

TEST(CudaModelParity, RetinaFaceMatchesCpu) {
  FACEPIPE_REQUIRE_CUDA();
  const fs::path model = test::models_dir() / "retinaface_mnet025_dyn.onnx";
  const fs::path raw = test::reference_dir() / "retinaface_raw";
  FACEPIPE_REQUIRE_FILE(model);
  FACEPIPE_REQUIRE_FILE(raw);
  const auto graph = std::make_shared<const Graph>(load_graph(model.string()));
  const std::regex input_name(R"(^([a-z]+)_(\d+x\d+x\d+x\d+)\.f32$)");
  int cases = 0;
  for (const auto& entry : fs::directory_iterator(raw)) {
    std::smatch m;
    const std::string name = entry.path().filename().string();
    if (!std::regex_match(name, m, input_name)) continue;
    check_model(graph, {shape_from_name(m[2])}, {test::read_f32_file(entry.path())}, "retinaface " + name);
    ++cases;
  }
  EXPECT_EQ(cases, 2);
}

// The GPU pipeline runs RetinaFace on 1080p frames of many cameras at once (32 x 3 x 360 x 640):
// a large batch must compute what the CPU computes, item by item.
TEST(CudaModelParity, RetinaFaceLargeBatchMatchesCpu) {
  FACEPIPE_REQUIRE_CUDA();
  const fs::path model = test::models_dir() / "retinaface_mnet025_dyn.onnx";
  FACEPIPE_REQUIRE_FILE(model);
  const auto graph = std::make_shared<const Graph>(load_graph(model.string()));
  const Shape shape{32, 3, 360, 640};
  std::vector<float> input(static_cast<size_t>(shape.num_elements()));
  uint32_t state = 12345;
  for (float& v : input) {  // smooth-ish values in the BGR-minus-mean range, different per item
    state = state * 1664525u + 1013904223u;
    v = static_cast<float>(state >> 8) / static_cast<float>(1u << 24) * 255.0f - 120.0f;
  }
  check_model(graph, {shape}, {input}, "retinaface 32x3x360x640 random");
}

TEST(CudaModelParity, MediaPipeNetworksMatchCpu) {
  FACEPIPE_REQUIRE_CUDA();
  const fs::path task = test::models_dir() / "face_landmarker.task";
  const fs::path raw = test::reference_dir() / "mediapipe" / "raw";
  FACEPIPE_REQUIRE_FILE(task);
  FACEPIPE_REQUIRE_FILE(raw);
  std::map<std::string, std::shared_ptr<const Graph>> graphs;
  std::vector<fs::path> case_dirs;
  for (const auto& image : fs::directory_iterator(raw))
    if (image.is_directory())
      for (const auto& c : fs::directory_iterator(image.path()))
        if (fs::exists(c.path() / "meta.json")) case_dirs.push_back(c.path());
  std::sort(case_dirs.begin(), case_dirs.end());
  int cases = 0;
  for (const fs::path& dir : case_dirs) {
    std::ifstream f(dir / "meta.json");
    const auto meta = nlohmann::json::parse(f);
    const std::string member = meta.at("model");
    auto& graph = graphs[member];
    if (!graph) graph = std::make_shared<const Graph>(load_graph(task.string() + ":" + member));
    std::vector<Shape> shapes;
    std::vector<std::vector<float>> inputs;
    for (const auto& in : meta.at("inputs")) {
      shapes.emplace_back(in.at("shape").get<std::vector<int64_t>>());
      inputs.push_back(test::read_f32_file(dir / in.at("file").get<std::string>()));
    }
    check_model(graph, shapes, inputs, member + " " + dir.parent_path().filename().string() + "/" + dir.filename().string());
    ++cases;
  }
  std::printf("[cuda-parity] %d MediaPipe cases; worst normalized error so far: fp32 %.3e, fp16 %.3e\n", cases,
              g_worst.fp32, g_worst.fp16);
  EXPECT_GE(cases, 10);
}

// The batch-1 MediaPipe networks planned at batch 8 (batch_override), as the GPU face pipeline
// runs them over many faces and cameras: the rewritten graph (Reshape targets, the blendshapes'
// repeated class token, the un-shrunk final Slice) on the GPU against the same plan on the CPU.
// tests/engine/rebatch_test.cpp checks the CPU batch against per-item batch-1 runs.
TEST(CudaModelParity, BatchOneNetworksAtBatch8MatchCpu) {
  FACEPIPE_REQUIRE_CUDA();
  const fs::path task = test::models_dir() / "face_landmarker.task";
  FACEPIPE_REQUIRE_FILE(task);
  struct Network {
    const char* member;
    Shape shape;
    float lo, hi;
  };
  const Network networks[] = {{"face_blendshapes.tflite", Shape{8, 146, 2}, 0.f, 256.f},
                              {"face_detector.tflite", Shape{8, 128, 128, 3}, -1.f, 1.f}};
  for (const Network& n : networks) {
    const auto graph = std::make_shared<const Graph>(load_graph(task.string() + ":" + n.member));
    std::vector<float> input(static_cast<size_t>(n.shape.num_elements()));
    uint32_t state = 777;
    for (float& v : input) {  // different per item
      state = state * 1664525u + 1013904223u;
      v = n.lo + static_cast<float>(state >> 8) / static_cast<float>(1u << 24) * (n.hi - n.lo);
    }
    check_model(graph, {n.shape}, {input}, std::string(n.member) + " batch 8 (batch_override)", true);
  }
}

}  // namespace
}  // namespace facepipe::engine
