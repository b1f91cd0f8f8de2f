// Planning batch-1 models at batch N (PlanOptions::batch_override, engine/plan/rebatch.h): the
// real networks declared with a fixed batch of 1 give, for every item of a batch, what the batch-1
// plan gives for that item alone; graphs that would mix items are refused with the op's name.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <ostream>
#include <random>

#include "engine/cpu/cpu_plan.h"
#include "engine/import/model_loader.h"
#include "support/test_support.h"

namespace facepipe::engine {
namespace {

namespace fs = std::filesystem;
constexpr double kTolerance = 1e-5;
constexpr double kMagnitudeFloor = 1e-6;

struct ModelCase {
  const char* spec;  // relative to the models directory
  float lo, hi;      // range of the random inputs
};
void PrintTo(const ModelCase& c, std::ostream* os) { *os << c.spec; }

// Seeded uniform values, different for every item.
std::vector<float> random_values(size_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

Shape with_batch(const Shape& s, int64_t n) {
  Shape out = s;
  out[0] = n;
  return out;
}

class RebatchModel : public ::testing::TestWithParam<ModelCase> {};

TEST_P(RebatchModel, EveryItemMatchesTheBatch1Plan) {
  const ModelCase& mc = GetParam();
  const std::string spec = (test::models_dir() / mc.spec).string();
  FACEPIPE_REQUIRE_FILE(test::models_dir() / std::string(mc.spec).substr(0, std::string(mc.spec).find(':')));
  const auto graph = std::make_shared<const Graph>(load_graph(spec));
  ASSERT_EQ(graph->inputs.size(), 1u);
  const Shape declared = graph->tensor(graph->inputs[0]).shape;
  ASSERT_EQ(declared[0], 1) << declared.to_string();

  cpu::PlanOptions options;
  options.num_threads = 2;
  auto single = cpu::CpuPlan::create(graph, {}, options);
  const size_t item_in = static_cast<size_t>(single->input(0).num_elements());

  // Without the option the fixed batch is still refused, as before.
  const std::vector<Shape> batch3{with_batch(declared, 3)};
  try {
    cpu::CpuPlan::create(graph, batch3, options);
    ADD_FAILURE() << "planning " << spec << " at batch 3 without batch_override must fail";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot run it at " + batch3[0].to_string()), std::string::npos) << e.what();
  }

  options.batch_override = true;
  for (int64_t n : {3, 8}) {
    const std::vector<Shape> shapes{with_batch(declared, n)};
    auto batched = cpu::CpuPlan::create(graph, shapes, options);
    ASSERT_EQ(batched->num_outputs(), single->num_outputs());
    std::vector<std::vector<float>> items;
    for (int64_t k = 0; k < n; ++k) {
      items.push_back(random_values(item_in, mc.lo, mc.hi, static_cast<uint32_t>(1000 * n + k)));
      std::memcpy(batched->input(0).as<float>() + static_cast<size_t>(k) * item_in, items.back().data(), item_in * 4);
    }
    ASSERT_TRUE(batched->run().is_ok()) << batched->failed_op();

    for (int i = 0; i < single->num_outputs(); ++i) {
      // [1, ...] outputs become [N, ...]; an output without the batch axis ([52]) gains one.
      const Shape& one = single->output(i).shape;
      Shape expected;
      expected.push_back(n);
      for (int d = one.rank() >= 1 && one[0] == 1 ? 1 : 0; d < one.rank(); ++d) expected.push_back(one[d]);
      EXPECT_EQ(batched->output(i).shape, expected) << spec << " output " << i;
    }
    double worst = 0;
    int identical = 0;
    for (int64_t k = 0; k < n; ++k) {
      std::memcpy(single->input(0).data, items[static_cast<size_t>(k)].data(), item_in * 4);
      ASSERT_TRUE(single->run().is_ok()) << single->failed_op();
      for (int i = 0; i < single->num_outputs(); ++i) {
        const size_t count = static_cast<size_t>(single->output(i).num_elements());
        ASSERT_EQ(static_cast<size_t>(batched->output(i).num_elements()), count * static_cast<size_t>(n));
        const float* got = batched->output(i).as<float>() + static_cast<size_t>(k) * count;
        const float* want = single->output(i).as<float>();
        const test::Deviation d = test::compare(got, want, count);
        const double normalized = d.max_abs_error / std::max(d.max_reference_magnitude, kMagnitudeFloor);
        EXPECT_LE(normalized, kTolerance) << spec << " batch " << n << " item " << k << " output " << i;
        worst = std::max(worst, normalized);
        identical += std::memcmp(got, want, count * 4) == 0;
      }
    }
    std::printf("[rebatch] %-52s batch %d: worst normalized error %.3e, %d of %d item outputs bit-identical\n",
                mc.spec, static_cast<int>(n), worst, identical, static_cast<int>(n) * single->num_outputs());
  }
}

INSTANTIATE_TEST_SUITE_P(Networks, RebatchModel,
                         ::testing::Values(ModelCase{"face_landmarker.task:face_blendshapes.tflite", 0.f, 256.f},
                                           ModelCase{"face_landmarker.task:face_detector.tflite", -1.f, 1.f},
                                           ModelCase{"face_detection_full_range.tflite", -1.f, 1.f}),
                         [](const auto& info) {
                           switch (info.index) {
                             case 0: return std::string("Blendshapes");
                             case 1: return std::string("BlazeFaceShortRange");
                             default: return std::string("BlazeFaceFullRange");
                           }
                         });

// ---- Hand-built graphs ----------------------------------------------------------------------------

struct TinyGraph {
  Graph g;
  int32_t add_input(const Shape& shape) {
    Tensor t;
    t.name = "x" + std::to_string(g.inputs.size());
    t.shape = shape;
    t.shape_known = true;
    const int32_t id = g.add_tensor(t);
    g.inputs.push_back(id);
    return id;
  }
  int32_t add_const(const Shape& shape, float first) {
    AlignedBuffer data(static_cast<size_t>(shape.num_elements()) * 4);
    for (int64_t i = 0; i < shape.num_elements(); ++i) data.as<float>()[i] = first + static_cast<float>(i);
    return g.add_constant("c" + std::to_string(g.tensors.size()), DType::kF32, shape, std::move(data));
  }
  int32_t add_op(OpType type, std::vector<int32_t> inputs, OpAttrs attrs, const std::string& name) {
    Tensor t;
    t.name = name + ":0";
    const int32_t out = g.add_tensor(t);
    Op op;
    op.type = type;
    op.inputs = std::move(inputs);
    op.outputs = {out};
    op.attrs = std::move(attrs);
    op.name = name;
    g.ops.push_back(std::move(op));
    return out;
  }
  std::shared_ptr<const Graph> finish(std::vector<int32_t> outputs) {
    g.source = "tiny";
    g.format = "test";
    g.outputs = std::move(outputs);
    g.validate();
    return std::make_shared<const Graph>(std::move(g));
  }
};

std::string planning_error(const std::shared_ptr<const Graph>& graph, const Shape& input, bool batch_override) {
  cpu::PlanOptions options;
  options.num_threads = 1;
  options.batch_override = batch_override;
  const std::vector<Shape> shapes{input};
  try {
    cpu::CpuPlan::create(graph, shapes, options);
  } catch (const Error& e) {
    return e.what();
  }
  return {};
}

TEST(Rebatch, MeanOverTheBatchAxisIsRefused) {
  TinyGraph t;
  const int32_t x = t.add_input(Shape{1, 4, 3});
  const int32_t r = t.add_op(OpType::kRelu, {x}, {}, "relu");
  const int32_t m = t.add_op(OpType::kMean, {r}, ReduceAttrs{{0, 2}, true}, "mean_over_batch");
  const auto graph = t.finish({m});
  const std::string error = planning_error(graph, Shape{3, 4, 3}, true);
  EXPECT_NE(error.find("cannot run at batch 3: op 'mean_over_batch' (Mean) mixes batch items"), std::string::npos)
      << error;
  EXPECT_NE(error.find("reduces over axis 0"), std::string::npos) << error;
}

TEST(Rebatch, ConcatAlongTheBatchAxisIsRefused) {
  TinyGraph t;
  const int32_t x = t.add_input(Shape{1, 4, 3});
  const int32_t c = t.add_op(OpType::kConcat, {x, x}, ConcatAttrs{0, Activation::kNone}, "stack_items");
  const auto graph = t.finish({c});
  const std::string error = planning_error(graph, Shape{8, 4, 3}, true);
  EXPECT_NE(error.find("cannot run at batch 8: op 'stack_items' (Concat) mixes batch items"), std::string::npos)
      << error;
}

TEST(Rebatch, WithoutTheOptionTheDeclaredBatchStays) {
  TinyGraph t;
  const int32_t x = t.add_input(Shape{1, 4, 3});
  const auto graph = t.finish({t.add_op(OpType::kRelu, {x}, {}, "relu")});
  EXPECT_NE(planning_error(graph, Shape{3, 4, 3}, false).find("input 'x0' is declared 1x4x3, cannot run it at 3x4x3"),
            std::string::npos);
  // The option relaxes axis 0 only, and only from a declared 1.
  EXPECT_NE(planning_error(graph, Shape{3, 5, 3}, true).find("cannot run it at 3x5x3"), std::string::npos);
  EXPECT_EQ(planning_error(graph, Shape{3, 4, 3}, true), "");
}

TEST(Rebatch, SharedOperandStretchingTheBatchAxisIsRefused) {
  TinyGraph t;
  const int32_t x = t.add_input(Shape{1, 3});
  const int32_t sum = t.add_op(OpType::kAdd, {x, t.add_const(Shape{2, 3}, 0.f)}, BinaryAttrs{}, "add_rows");
  const auto graph = t.finish({sum});
  const std::string error = planning_error(graph, Shape{4, 3}, true);
  EXPECT_NE(error.find("op 'add_rows' (Add) mixes batch items"), std::string::npos) << error;
}

TEST(Rebatch, DroppedBatchAxisOnlyFeedsElementwiseOps) {
  TinyGraph t;
  const int32_t x = t.add_input(Shape{1, 4, 3});
  const int32_t flat = t.add_op(OpType::kReshape, {x}, ReshapeAttrs{{4, 3}, false}, "drop_batch");
  const int32_t tr = t.add_op(OpType::kTranspose, {flat}, TransposeAttrs{{1, 0}}, "swap");
  const std::string error = planning_error(t.finish({tr}), Shape{2, 4, 3}, true);
  EXPECT_NE(error.find("op 'swap' (Transpose) mixes batch items"), std::string::npos) << error;
}

// Item k of the batch-N run against the same graph planned at batch 1 on item k.
void expect_items_match(const std::shared_ptr<const Graph>& graph, int64_t n, const Shape& expected_output) {
  cpu::PlanOptions options;
  options.num_threads = 1;
  auto single = cpu::CpuPlan::create(graph, {}, options);
  options.batch_override = true;
  const std::vector<Shape> shapes{with_batch(single->input(0).shape, n)};
  auto batched = cpu::CpuPlan::create(graph, shapes, options);
  ASSERT_EQ(batched->output(0).shape, expected_output);
  const size_t in_count = static_cast<size_t>(single->input(0).num_elements());
  const size_t out_count = static_cast<size_t>(single->output(0).num_elements());
  const std::vector<float> all = random_values(in_count * static_cast<size_t>(n), -2.f, 2.f, 7);
  std::memcpy(batched->input(0).data, all.data(), all.size() * 4);
  ASSERT_TRUE(batched->run().is_ok());
  for (int64_t k = 0; k < n; ++k) {
    std::memcpy(single->input(0).data, all.data() + static_cast<size_t>(k) * in_count, in_count * 4);
    ASSERT_TRUE(single->run().is_ok());
    EXPECT_EQ(0, std::memcmp(single->output(0).data, batched->output(0).as<float>() + static_cast<size_t>(k) * out_count,
                             out_count * 4))
        << "item " << k;
  }
}

TEST(Rebatch, SharedConstantIsRepeatedPerItemInConcat) {
  TinyGraph t;
  const int32_t x = t.add_input(Shape{1, 2, 3});
  const int32_t token = t.add_const(Shape{1, 1, 3}, 10.f);
  const int32_t c = t.add_op(OpType::kConcat, {token, x}, ConcatAttrs{-2, Activation::kNone}, "prepend_token");
  const int32_t m = t.add_op(OpType::kMean, {c}, ReduceAttrs{{-1}, true}, "mean");
  expect_items_match(t.finish({m}), 5, Shape{5, 3, 1});
}

TEST(Rebatch, ReshapesAndShrinkingSliceKeepTheBatch) {
  TinyGraph t;
  const int32_t x = t.add_input(Shape{1, 4, 3});
  const int32_t r4 = t.add_op(OpType::kReshape, {x}, ReshapeAttrs{{1, 1, 4, 3}, false}, "to4d");
  const int32_t tr = t.add_op(OpType::kTranspose, {r4}, TransposeAttrs{{0, 1, 3, 2}}, "swap");
  const int32_t sq = t.add_op(OpType::kSqueeze, {tr}, AxesAttrs{{1}}, "squeeze");
  SliceAttrs shrink;  // TFLite's final [1, 3, 4] -> [3, 4]
  shrink.begin = {0, 0, 0};
  shrink.end = {1, 3, 4};
  shrink.strides = {1, 1, 1};
  shrink.shrink_axis_mask = 1;
  const int32_t sl = t.add_op(OpType::kSlice, {sq}, shrink, "drop_batch");
  const int32_t flat = t.add_op(OpType::kReshape, {sl}, ReshapeAttrs{{-1}, false}, "flatten");
  const int32_t out = t.add_op(OpType::kTanh, {flat}, {}, "tanh");
  expect_items_match(t.finish({out}), 6, Shape{6, 12});
}

}  // namespace
}  // namespace facepipe::engine
