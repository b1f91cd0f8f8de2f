// Parity of the engine with the real implementations, on the tensors saved in ../shared/reference:
// RetinaFace against ONNX Runtime 1.30, the MediaPipe networks against LiteRT. The bar is
// max |ours - theirs| <= 1e-4 * max |theirs| per output; each test prints its numbers.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>

#include "common/half.h"
#include "engine/cpu/cpu_plan.h"
#include "engine/import/model_loader.h"
#include "support/test_support.h"

namespace facepipe::engine {
namespace {

namespace fs = std::filesystem;
constexpr double kTolerance = 1e-4;
// Outputs that are all but zero (a saturated sigmoid of ~1e-18) are compared on this scale instead
// of their own magnitude: below it float32 rounding of the logit dominates and means nothing.
constexpr double kMagnitudeFloor = 1e-6;

std::shared_ptr<const Graph> load(const std::string& spec) { return std::make_shared<const Graph>(load_graph(spec)); }

// Runs `plan` with the given inputs and compares output i with expected[i].
void check_outputs(cpu::CpuPlan& plan, const std::vector<std::vector<float>>& expected, const std::string& label) {
  ASSERT_EQ(static_cast<size_t>(plan.num_outputs()), expected.size());
  const Status st = plan.run();
  ASSERT_TRUE(st.is_ok()) << st.message() << " at " << plan.failed_op();
  for (int i = 0; i < plan.num_outputs(); ++i) {
    const TensorView& out = plan.output(i);
    ASSERT_EQ(static_cast<size_t>(out.num_elements()), expected[static_cast<size_t>(i)].size())
        << label << " output " << i << " shape " << out.shape.to_string();
    const test::Deviation d = test::compare(out.as<float>(), expected[static_cast<size_t>(i)].data(),
                                            expected[static_cast<size_t>(i)].size());
    const double normalized = d.max_abs_error / std::max(d.max_reference_magnitude, kMagnitudeFloor);
    std::printf("[parity] %-58s output %d %-14s max_abs_err %.3e  max_ref %.3e  normalized %.3e\n", label.c_str(), i,
                out.shape.to_string().c_str(), d.max_abs_error, d.max_reference_magnitude, normalized);
    EXPECT_LE(normalized, kTolerance) << label << " output " << i;
  }
}

Shape shape_from_name(const std::string& text) {
  std::vector<int64_t> dims;
  std::stringstream ss(text);
  std::string part;
  while (std::getline(ss, part, 'x')) dims.push_back(std::stoll(part));
  return Shape(dims);
}

TEST(ModelParity, RetinaFaceDynamicMatchesOnnxRuntime) {
  const fs::path model = test::models_dir() / "retinaface_mnet025_dyn.onnx";
  const fs::path raw = test::reference_dir() / "retinaface_raw";
  FACEPIPE_REQUIRE_FILE(model);
  FACEPIPE_REQUIRE_FILE(raw);
  const auto graph = load(model.string());
  const std::regex input_name(R"(^([a-z]+)_(\d+x\d+x\d+x\d+)\.f32$)");
  int cases = 0;
  for (const auto& entry : fs::directory_iterator(raw)) {
    std::smatch m;
    const std::string name = entry.path().filename().string();
    if (!std::regex_match(name, m, input_name)) continue;
    const Shape shape = shape_from_name(m[2]);
    auto plan = cpu::CpuPlan::create(graph, std::span<const Shape>(&shape, 1));
    const std::vector<float> input = test::read_f32_file(entry.path());
    ASSERT_EQ(static_cast<int64_t>(input.size()), plan->input(0).num_elements());
    std::memcpy(plan->input(0).data, input.data(), input.size() * sizeof(float));
    std::vector<std::vector<float>> expected(3);
    for (const auto& out : fs::directory_iterator(raw)) {
      const std::string out_name = out.path().filename().string();
      const std::string prefix = name.substr(0, name.size() - 4) + ".output";
      if (out_name.rfind(prefix, 0) == 0) expected[static_cast<size_t>(out_name[prefix.size()] - '0')] = test::read_f32_file(out.path());
    }
    check_outputs(*plan, expected, "retinaface_mnet025_dyn.onnx " + name);
    ++cases;
  }
  EXPECT_EQ(cases, 2);
}

TEST(ModelParity, RetinaFaceStaticMatchesDynamicAt640) {
  const fs::path fixed = test::models_dir() / "retinaface_mnet025.onnx";
  const fs::path dyn = test::models_dir() / "retinaface_mnet025_dyn.onnx";
  FACEPIPE_REQUIRE_FILE(fixed);
  FACEPIPE_REQUIRE_FILE(dyn);
  const Shape shape{1, 3, 640, 640};
  auto plan_fixed = cpu::CpuPlan::create(load(fixed.string()), std::span<const Shape>(&shape, 1));
  auto plan_dyn = cpu::CpuPlan::create(load(dyn.string()), std::span<const Shape>(&shape, 1));
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-128.f, 128.f);
  float* a = plan_fixed->input(0).as<float>();
  for (int64_t i = 0; i < plan_fixed->input(0).num_elements(); ++i) a[i] = u(rng);
  std::memcpy(plan_dyn->input(0).data, a, plan_fixed->input(0).bytes());
  ASSERT_TRUE(plan_dyn->run().is_ok());
  std::vector<std::vector<float>> expected;
  for (int i = 0; i < plan_dyn->num_outputs(); ++i) {
    const float* p = plan_dyn->output(i).as<float>();
    expected.emplace_back(p, p + plan_dyn->output(i).num_elements());
  }
  check_outputs(*plan_fixed, expected, "retinaface_mnet025.onnx vs _dyn at 640x640");
}

TEST(ModelParity, MediaPipeNetworksMatchLiteRT) {
  const fs::path task = test::models_dir() / "face_landmarker.task";
  const fs::path raw = test::reference_dir() / "mediapipe" / "raw";
  FACEPIPE_REQUIRE_FILE(task);
  FACEPIPE_REQUIRE_FILE(raw);
  std::map<std::string, std::shared_ptr<const Graph>> graphs;
  int cases = 0;
  std::vector<fs::path> case_dirs;
  for (const auto& image : fs::directory_iterator(raw))
    if (image.is_directory())
      for (const auto& c : fs::directory_iterator(image.path()))
        if (fs::exists(c.path() / "meta.json")) case_dirs.push_back(c.path());
  std::sort(case_dirs.begin(), case_dirs.end());
  for (const fs::path& dir : case_dirs) {
    std::ifstream f(dir / "meta.json");
    const auto meta = nlohmann::json::parse(f);
    const std::string member = meta.at("model");
    auto& graph = graphs[member];
    if (!graph) graph = load(task.string() + ":" + member);
    std::vector<Shape> shapes;
    for (const auto& in : meta.at("inputs")) shapes.emplace_back(in.at("shape").get<std::vector<int64_t>>());
    auto plan = cpu::CpuPlan::create(graph, shapes);
    for (size_t i = 0; i < shapes.size(); ++i) {
      const std::vector<float> data = test::read_f32_file(dir / meta.at("inputs")[i].at("file").get<std::string>());
      ASSERT_EQ(data.size() * sizeof(float), plan->input(static_cast<int>(i)).bytes());
      std::memcpy(plan->input(static_cast<int>(i)).data, data.data(), data.size() * sizeof(float));
    }
    std::vector<std::vector<float>> expected;
    for (const auto& out : meta.at("outputs")) expected.push_back(test::read_f32_file(dir / out.at("file").get<std::string>()));
    check_outputs(*plan, expected, member + " " + dir.parent_path().filename().string() + "/" + dir.filename().string());
    ++cases;
  }
  std::printf("[parity] %d MediaPipe cases\n", cases);
  EXPECT_GE(cases, 10);
}

// What f16 weight storage alone costs, with everything else f32 on the CPU: the floor under any
// fp16 plan's whole-network error (docs/engine_cuda.md). The MediaPipe networks ship f16 weights,
// so rounding them again must change nothing (the importer widens them exactly); RetinaFace ships
// f32 weights, and rounding them alone moves its outputs by more than 1e-3 of their range.
double weight_rounding_error(const std::string& spec, const Shape& shape, const std::vector<float>& input) {
  auto exact = std::make_shared<Graph>(load_graph(spec));
  auto rounded = std::make_shared<Graph>(load_graph(spec));
  for (const Tensor& t : rounded->tensors) {
    if (t.constant < 0 || t.dtype != DType::kF32) continue;
    AlignedBuffer& data = rounded->constants[static_cast<size_t>(t.constant)].data;
    for (size_t i = 0; i < data.size() / 4; ++i) data.as<float>()[i] = half_to_float(float_to_half(data.as<float>()[i]));
  }
  auto run = [&](std::shared_ptr<const Graph> g) {
    auto plan = cpu::CpuPlan::create(std::move(g), std::span<const Shape>(&shape, 1));
    std::memcpy(plan->input(0).data, input.data(), input.size() * sizeof(float));
    EXPECT_TRUE(plan->run().is_ok());
    std::vector<std::vector<float>> out;
    for (int i = 0; i < plan->num_outputs(); ++i)
      out.emplace_back(plan->output(i).as<float>(), plan->output(i).as<float>() + plan->output(i).num_elements());
    return out;
  };
  const auto a = run(exact);
  const auto b = run(rounded);
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const test::Deviation d = test::compare(b[i].data(), a[i].data(), a[i].size());
    worst = std::max(worst, d.max_abs_error / std::max(d.max_reference_magnitude, kMagnitudeFloor));
  }
  return worst;
}

TEST(ModelParity, F16WeightStorageFloor) {
  const fs::path retina = test::models_dir() / "retinaface_mnet025_dyn.onnx";
  const fs::path crowd = test::reference_dir() / "retinaface_raw" / "crowd_1x3x312x512.f32";
  const fs::path task = test::models_dir() / "face_landmarker.task";
  const fs::path crop = test::reference_dir() / "mediapipe" / "raw" / "glasses_frontal" / "landmarks_face0_crop" / "input_0.bin";
  FACEPIPE_REQUIRE_FILE(retina);
  FACEPIPE_REQUIRE_FILE(crowd);
  FACEPIPE_REQUIRE_FILE(task);
  FACEPIPE_REQUIRE_FILE(crop);
  const double retina_floor = weight_rounding_error(retina.string(), Shape{1, 3, 312, 512}, test::read_f32_file(crowd));
  const double landmark_floor = weight_rounding_error(task.string() + ":face_landmarks_detector.tflite",
                                                      Shape{1, 256, 256, 3}, test::read_f32_file(crop));
  std::printf("[parity] f16 weights alone (CPU, all else f32): retinaface crowd %.3e, landmarks %.3e\n", retina_floor,
              landmark_floor);
  EXPECT_EQ(landmark_floor, 0.0);
  EXPECT_GT(retina_floor, 1e-3);
}

}  // namespace
}  // namespace facepipe::engine
