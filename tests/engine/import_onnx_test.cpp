#include <gtest/gtest.h>

#include <map>
#include <random>
#include <span>
#include <string>

#include "common/status.h"
#include "engine/import/import_util.h"
#include "engine/import/model_loader.h"
#include "import_samples.h"
#include "support/test_support.h"

namespace facepipe::engine {
namespace {

using test::Bytes;
using test::onnx_attr_int;
using test::onnx_attr_ints;
using test::onnx_node;
namespace samples = test::samples;

std::span<const std::byte> as_bytes(const Bytes& b) { return {reinterpret_cast<const std::byte*>(b.data()), b.size()}; }

std::map<OpType, int> op_counts(const Graph& g) {
  std::map<OpType, int> counts;
  for (const Op& op : g.ops) ++counts[op.type];
  return counts;
}

const Op* producer(const Graph& g, int32_t tensor) {
  for (const Op& op : g.ops)
    for (int32_t out : op.outputs)
      if (out == tensor) return &op;
  return nullptr;
}

const Op* find_op(const Graph& g, OpType type, int skip = 0) {
  for (const Op& op : g.ops)
    if (op.type == type && skip-- == 0) return &op;
  return nullptr;
}

template <typename F> std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

Graph import(const test::OnnxBuilder& b, const std::string& name = "test.onnx") {
  const Bytes file = b.build();
  Graph g = import_onnx(as_bytes(file), name);
  g.validate();
  return g;
}

// ---- synthetic models: the lowering rules ----------------------------------------------------------

TEST(ImportOnnx, ConvModelIsLoweredToNhwc) {
  const Graph g = import(samples::onnx_conv());
  EXPECT_EQ(g.format, "onnx");
  // The graph input keeps its NCHW shape; one Transpose right after it feeds the first conv.
  const Tensor& x = g.tensor(g.inputs[0]);
  EXPECT_EQ(x.name, "x");
  EXPECT_EQ(x.shape, (Shape{1, 3, 8, 8}));
  ASSERT_EQ(g.ops[0].type, OpType::kTranspose);
  EXPECT_EQ(g.ops[0].inputs[0], g.inputs[0]);
  EXPECT_EQ(g.ops[0].as<TransposeAttrs>().perm, (std::vector<int32_t>{0, 2, 3, 1}));
  EXPECT_EQ(op_counts(g)[OpType::kTranspose], 1);  // the model's Transpose(0,2,3,1) became an alias

  // Conv weights OIHW -> OHWI: IR w[o][kh][kw][i] = ONNX w[o][i][kh][kw] (= its OIHW flat index).
  const Op& conv = g.ops[1];
  ASSERT_EQ(conv.type, OpType::kConv2D);
  EXPECT_EQ(conv.inputs[0], g.ops[0].outputs[0]);
  const auto& a = conv.as<ConvAttrs>();
  EXPECT_EQ(a.padding.mode, PaddingMode::kExplicit);
  EXPECT_EQ(a.padding.top, 1);
  EXPECT_EQ(a.padding.right, 1);
  const Tensor& w = g.tensor(conv.inputs[1]);
  EXPECT_EQ(w.shape, (Shape{4, 3, 3, 3}));
  const float* wd = g.constant_as<float>(conv.inputs[1]);
  for (int o = 0; o < 4; ++o)
    for (int kh = 0; kh < 3; ++kh)
      for (int kw = 0; kw < 3; ++kw)
        for (int i = 0; i < 3; ++i)
          ASSERT_EQ(wd[((o * 3 + kh) * 3 + kw) * 3 + i], static_cast<float>(((o * 3 + i) * 3 + kh) * 3 + kw));
  EXPECT_EQ(g.tensor(conv.inputs[2]).name, "b");

  // Depthwise (group == C_in == C_out): [C,1,KH,KW] -> [1,KH,KW,C].
  const Op* dw = find_op(g, OpType::kDepthwiseConv2D);
  ASSERT_NE(dw, nullptr);
  EXPECT_EQ(dw->as<ConvAttrs>().depth_multiplier, 1);
  EXPECT_EQ(g.tensor(dw->inputs[1]).shape, (Shape{1, 3, 3, 4}));
  const float* dwd = g.constant_as<float>(dw->inputs[1]);
  for (int c = 0; c < 4; ++c)
    for (int k = 0; k < 9; ++k) ASSERT_EQ(dwd[k * 4 + c], static_cast<float>(c * 9 + k));

  // Add of a lowered tensor and a [4,1,1] constant: the constant is rewritten to [1,1,1,4].
  const Op* add = find_op(g, OpType::kAdd);
  const Tensor& bias = g.tensor(add->inputs[1]);
  EXPECT_EQ(bias.shape, (Shape{1, 1, 1, 4}));
  EXPECT_EQ(g.constant_as<float>(add->inputs[1])[3], 40.f);

  // Transpose(0,2,3,1) of the pooled NHWC tensor is an alias: Reshape reads the pool output.
  const Op* reshape = find_op(g, OpType::kReshape);
  EXPECT_EQ(reshape->inputs[0], find_op(g, OpType::kMaxPool2D)->outputs[0]);
  EXPECT_EQ(reshape->as<ReshapeAttrs>().shape, (std::vector<int64_t>{1, -1, 4}));
  EXPECT_TRUE(reshape->as<ReshapeAttrs>().zero_copies_dim);
  const Op* softmax = find_op(g, OpType::kSoftmax);
  EXPECT_EQ(softmax->as<SoftmaxAttrs>().axis, -1);

  const Tensor& out = g.tensor(g.outputs[0]);
  EXPECT_EQ(out.name, "scores");
  EXPECT_EQ(out.shape, (Shape{1, 16, 4}));
  EXPECT_EQ(producer(g, g.outputs[0]), softmax);
  // Original OIHW weights are not kept: parameters = conv 108 + bias 4 + dw 36 + channel bias 4.
  EXPECT_EQ(g.parameter_count(), 108 + 4 + 36 + 4);
}

TEST(ImportOnnx, DynamicShapeSubgraphsStayAsOps) {
  const Graph g = import(samples::onnx_dynamic());
  const Tensor& x = g.tensor(g.inputs[0]);
  EXPECT_EQ(x.shape, (Shape{-1, 3, -1, -1}));
  EXPECT_TRUE(x.shape_known);

  // Shape of a lowered tensor: Shape then Gather [0,3,1,2] so the values are NCHW dims.
  const Op* shape = find_op(g, OpType::kShape);
  ASSERT_NE(shape, nullptr);
  EXPECT_EQ(shape->inputs[0], find_op(g, OpType::kConv2D)->outputs[0]);
  const Op* gather = find_op(g, OpType::kGather);
  EXPECT_EQ(gather->inputs[0], shape->outputs[0]);
  ASSERT_TRUE(g.is_constant(gather->inputs[1]));
  const int64_t* order = g.constant_as<int64_t>(gather->inputs[1]);
  EXPECT_EQ(std::vector<int64_t>(order, order + 4), (std::vector<int64_t>{0, 3, 1, 2}));

  // Resize's NCHW sizes come from the graph: an IR Slice [2:4] feeds the IR Resize.
  const Op* resize = find_op(g, OpType::kResize);
  ASSERT_EQ(resize->inputs.size(), 2u);
  const Op* size_slice = producer(g, resize->inputs[1]);
  ASSERT_NE(size_slice, nullptr);
  ASSERT_EQ(size_slice->type, OpType::kSlice);
  EXPECT_EQ(size_slice->as<SliceAttrs>().begin, (std::vector<int64_t>{2}));
  EXPECT_EQ(size_slice->as<SliceAttrs>().end, (std::vector<int64_t>{4}));
  EXPECT_EQ(producer(g, size_slice->inputs[0])->type, OpType::kConcat);
  const auto& ra = resize->as<ResizeAttrs>();
  EXPECT_EQ(ra.mode, ResizeMode::kNearest);
  EXPECT_EQ(ra.coordinates, ResizeCoordinates::kAsymmetric);
  EXPECT_EQ(ra.nearest_rounding, ResizeNearestRounding::kFloor);

  // The head: Transpose(0,2,3,1) aliased; Shape reads the NHWC tensor directly (its dims are the
  // transposed ONNX dims), the Reshape keeps its computed shape input.
  const Op* head_shape = find_op(g, OpType::kShape, 1);
  const Op* add = find_op(g, OpType::kAdd);
  EXPECT_EQ(head_shape->inputs[0], add->outputs[0]);
  const Op* reshape = find_op(g, OpType::kReshape);
  EXPECT_EQ(reshape->inputs[0], add->outputs[0]);
  ASSERT_EQ(reshape->inputs.size(), 2u);
  EXPECT_EQ(producer(g, reshape->inputs[1])->type, OpType::kConcat);
  const Op* unsqueeze = find_op(g, OpType::kUnsqueeze);
  EXPECT_EQ(unsqueeze->as<AxesAttrs>().axes, (std::vector<int32_t>{0}));
  EXPECT_EQ(op_counts(g)[OpType::kTranspose], 1);
  EXPECT_EQ(g.tensor(g.outputs[0]).name, "out");
  EXPECT_EQ(g.tensor(g.outputs[0]).shape, (Shape{-1, -1, 2}));
}

TEST(ImportOnnx, ConcatOnLoweredTensorsRemapsTheAxis) {
  test::OnnxBuilder b = samples::onnx_conv();
  b.nodes.resize(2);  // Conv, LeakyRelu
  b.nodes.push_back(onnx_node("Concat", {"c1", "r1"}, {"cat"}, {onnx_attr_int("axis", 1)}));
  b.outputs = {test::onnx_value_info("cat", 1, {1, 8, 8, 8})};
  const Graph g = import(b);
  const Op* concat = find_op(g, OpType::kConcat);
  EXPECT_EQ(concat->as<ConcatAttrs>().axis, 3);  // NCHW channel axis -> NHWC position 3
  // The graph output has NCHW semantics: a Transpose back, named like the ONNX output.
  const Op* back = producer(g, g.outputs[0]);
  ASSERT_EQ(back->type, OpType::kTranspose);
  EXPECT_EQ(back->as<TransposeAttrs>().perm, (std::vector<int32_t>{0, 3, 1, 2}));
  EXPECT_EQ(back->inputs[0], concat->outputs[0]);
  EXPECT_EQ(g.tensor(g.outputs[0]).name, "cat");
  EXPECT_EQ(g.tensor(g.outputs[0]).shape, (Shape{1, 8, 8, 8}));
}

TEST(ImportOnnx, TransposeOfLoweredTensorComposesPerms) {
  test::OnnxBuilder b = samples::onnx_conv();
  b.nodes.resize(1);
  b.nodes.push_back(onnx_node("Transpose", {"c1"}, {"t"}, {onnx_attr_ints("perm", {0, 1, 3, 2})}));
  b.outputs = {test::onnx_value_info("t", 1, {1, 4, 8, 8})};
  const Graph g = import(b);
  const Op* t = producer(g, g.outputs[0]);
  ASSERT_EQ(t->type, OpType::kTranspose);
  EXPECT_EQ(t->inputs[0], find_op(g, OpType::kConv2D)->outputs[0]);
  // logical out = (N, C, W, H) of NHWC physical (N, H, W, C): physical perm (0, 3, 2, 1).
  EXPECT_EQ(t->as<TransposeAttrs>().perm, (std::vector<int32_t>{0, 3, 2, 1}));
  EXPECT_EQ(op_counts(g)[OpType::kTranspose], 2);
}

TEST(ImportOnnx, ResizeWithScalesAndSliceOnLoweredTensor) {
  test::OnnxBuilder b = samples::onnx_conv();
  b.nodes.resize(1);
  b.initializers.push_back(test::onnx_f32("scales", {4}, {1, 1, 2, 2}));
  b.initializers.push_back(test::onnx_i64("starts", {1}, {1}));
  b.initializers.push_back(test::onnx_i64("ends", {1}, {3}));
  b.initializers.push_back(test::onnx_i64("axes", {1}, {1}));
  b.nodes.push_back(onnx_node("Resize", {"c1", "", "scales"}, {"up"}, {test::onnx_attr_string("mode", "linear")}));
  b.nodes.push_back(onnx_node("Slice", {"up", "starts", "ends", "axes"}, {"s"}));
  b.outputs = {test::onnx_value_info("s", 1, {1, 2, 16, 16})};
  const Graph g = import(b);
  const Op* resize = find_op(g, OpType::kResize);
  ASSERT_EQ(resize->inputs.size(), 1u);
  const auto& ra = resize->as<ResizeAttrs>();
  EXPECT_EQ(ra.mode, ResizeMode::kBilinear);
  EXPECT_EQ(ra.coordinates, ResizeCoordinates::kHalfPixel);  // the opset >= 11 default
  EXPECT_EQ(ra.scale_h, 2.f);
  EXPECT_EQ(ra.scale_w, 2.f);
  const Op* slice = find_op(g, OpType::kSlice);
  EXPECT_EQ(slice->inputs[0], resize->outputs[0]);
  EXPECT_EQ(slice->as<SliceAttrs>().axes, (std::vector<int32_t>{3}));  // channel axis, remapped
}

TEST(ImportOnnx, DepthMultiplierAndSharedWeights) {
  test::OnnxBuilder b;
  std::vector<float> w(4 * 9);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i);
  b.initializers = {test::onnx_f32("w", {4, 1, 3, 3}, w)};
  b.inputs = {test::onnx_value_info("x", 1, {1, 2, 5, 5})};
  // group == C_in == 2 with 4 outputs: depthwise, multiplier 2; two nodes share the weights.
  b.nodes = {onnx_node("Conv", {"x", "w"}, {"a"}, {onnx_attr_int("group", 2)}),
             onnx_node("Conv", {"x", "w"}, {"b"}, {onnx_attr_int("group", 2)}),
             onnx_node("Add", {"a", "b"}, {"y"})};
  b.outputs = {test::onnx_value_info("y", 1, {1, 4, 3, 3})};
  const Graph g = import(b);
  const Op* first = find_op(g, OpType::kDepthwiseConv2D);
  const Op* second = find_op(g, OpType::kDepthwiseConv2D, 1);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(first->as<ConvAttrs>().depth_multiplier, 2);
  EXPECT_EQ(first->inputs[1], second->inputs[1]);  // one rewritten copy
  EXPECT_EQ(first->inputs[0], second->inputs[0]);  // one input transpose
  EXPECT_EQ(g.tensor(first->inputs[1]).shape, (Shape{1, 3, 3, 4}));
  const float* d = g.constant_as<float>(first->inputs[1]);
  for (int o = 0; o < 4; ++o)
    for (int k = 0; k < 9; ++k) ASSERT_EQ(d[k * 4 + o], static_cast<float>(o * 9 + k));
  EXPECT_EQ(g.parameter_count(), 36);
}

TEST(ImportOnnx, NonConstantSliceBoundsNameTheNode) {
  test::OnnxBuilder b = samples::onnx_dynamic();
  b.nodes.push_back(onnx_node("Slice", {"out", "c1_hw", "s_end"}, {"bad"}, {}, "my_slice"));
  b.outputs = {test::onnx_value_info("bad", 1, {-1, -1, 2})};
  const Bytes file = b.build();
  const std::string message = error_of([&] { import_onnx(as_bytes(file), "slice.onnx"); });
  EXPECT_NE(message.find("slice.onnx"), std::string::npos) << message;
  EXPECT_NE(message.find("my_slice"), std::string::npos) << message;
  EXPECT_NE(message.find("must be a constant"), std::string::npos) << message;
}

TEST(ImportOnnx, UnsupportedOpNamesTheNodeAndType) {
  test::OnnxBuilder b = samples::onnx_conv();
  b.nodes.push_back(onnx_node("NonMaxSuppression", {"scores"}, {"keep"}, {}, "nms_node"));
  const Bytes file = b.build();
  const std::string message = error_of([&] { import_onnx(as_bytes(file), "nms.onnx"); });
  EXPECT_NE(message.find("nms.onnx"), std::string::npos) << message;
  EXPECT_NE(message.find("'nms_node' (NonMaxSuppression)"), std::string::npos) << message;
  EXPECT_NE(message.find("unsupported op"), std::string::npos) << message;
}

TEST(ImportOnnx, NotAModelIsAnError) {
  const Bytes junk = {0x0a, 0x03, 'a', 'b', 'c'};  // a valid protobuf without a graph
  const std::string message = error_of([&] { import_onnx(as_bytes(junk), "junk.bin"); });
  EXPECT_NE(message.find("junk.bin"), std::string::npos) << message;
}

TEST(ImportOnnx, EveryTruncationOfASyntheticModelThrows) {
  const Bytes file = samples::onnx_dynamic().build();
  for (size_t cut = 0; cut < file.size(); ++cut) {
    const Bytes part(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(cut));
    const std::string message = error_of([&] { import_onnx(as_bytes(part), "cut.onnx").validate(); });
    EXPECT_NE(message.find("cut.onnx"), std::string::npos) << "cut at " << cut << ": " << message;
  }
}

// ---- real models ---------------------------------------------------------------------------------

void check_retinaface(const Graph& g, const Shape& input, const std::vector<Shape>& outputs) {
  EXPECT_EQ(g.format, "onnx");
  ASSERT_EQ(g.inputs.size(), 1u);
  EXPECT_EQ(g.tensor(g.inputs[0]).name, "input0");
  EXPECT_EQ(g.tensor(g.inputs[0]).shape, input);
  ASSERT_EQ(g.outputs.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(g.tensor(g.outputs[i]).name, "output" + std::to_string(i));
    EXPECT_EQ(g.tensor(g.outputs[i]).shape, outputs[i]) << g.tensor(g.outputs[i]).shape.to_string();
  }
  const auto counts = op_counts(g);
  EXPECT_EQ(counts.at(OpType::kConv2D), 43);
  EXPECT_EQ(counts.at(OpType::kDepthwiseConv2D), 13);
  EXPECT_EQ(counts.at(OpType::kLeakyRelu), 38);
  EXPECT_EQ(counts.at(OpType::kRelu), 3);
  EXPECT_EQ(counts.at(OpType::kAdd), 2);
  EXPECT_EQ(counts.at(OpType::kResize), 2);
  EXPECT_EQ(counts.at(OpType::kSoftmax), 1);
  EXPECT_EQ(counts.at(OpType::kReshape), 9);
  EXPECT_EQ(counts.at(OpType::kConcat), 14);
  // Lowering cost: one Transpose (after the input); the 9 head Transposes became aliases.
  EXPECT_EQ(counts.at(OpType::kTranspose), 1);
  EXPECT_EQ(g.ops[0].type, OpType::kTranspose);
  EXPECT_EQ(g.ops[0].inputs[0], g.inputs[0]);
  EXPECT_EQ(g.parameter_count(), 423264);
  for (const Op& op : g.ops) {
    if (op.type == OpType::kConv2D || op.type == OpType::kDepthwiseConv2D) {
      EXPECT_NE(op.inputs[0], g.inputs[0]) << op.name;  // convs never read NCHW data
      EXPECT_TRUE(g.is_constant(op.inputs[1])) << op.name;
    }
    if (op.type == OpType::kResize) {
      EXPECT_EQ(op.as<ResizeAttrs>().mode, ResizeMode::kNearest);
      EXPECT_EQ(op.as<ResizeAttrs>().coordinates, ResizeCoordinates::kAsymmetric);
      EXPECT_EQ(op.as<ResizeAttrs>().nearest_rounding, ResizeNearestRounding::kFloor);
      ASSERT_EQ(op.inputs.size(), 2u);
    }
    if (op.type == OpType::kLeakyRelu) {
      EXPECT_FLOAT_EQ(op.as<LeakyReluAttrs>().alpha, 0.1f);
    }
  }
  EXPECT_EQ(producer(g, g.outputs[1])->type, OpType::kSoftmax);
}

TEST(ImportOnnxReal, RetinaFaceFixed) {
  const auto path = test::models_dir() / "retinaface_mnet025.onnx";
  FACEPIPE_REQUIRE_FILE(path);
  const Graph g = load_graph(path.string());
  check_retinaface(g, {1, 3, 640, 640}, {{1, 16800, 4}, {1, 16800, 2}, {1, 16800, 10}});
  EXPECT_EQ(g.ops.size(), 152u);
}

TEST(ImportOnnxReal, RetinaFaceDynamicHasSymbolicDimsAndShapeOps) {
  const auto path = test::models_dir() / "retinaface_mnet025_dyn.onnx";
  FACEPIPE_REQUIRE_FILE(path);
  const Graph g = load_graph(path.string());
  check_retinaface(g, {-1, 3, -1, -1}, {{-1, -1, 4}, {-1, -1, 2}, {-1, -1, 10}});
  EXPECT_EQ(g.ops.size(), 158u);
  const auto counts = op_counts(g);
  EXPECT_EQ(counts.at(OpType::kShape), 10);
  EXPECT_EQ(counts.at(OpType::kGather), 10);
  EXPECT_EQ(counts.at(OpType::kUnsqueeze), 6);
  EXPECT_EQ(counts.at(OpType::kSlice), 6);
  // Both upsamples take their size from the graph through an IR Slice [2:4].
  for (const Op& op : g.ops) {
    if (op.type != OpType::kResize) continue;
    const Op* size = producer(g, op.inputs[1]);
    ASSERT_NE(size, nullptr) << op.name;
    EXPECT_EQ(size->type, OpType::kSlice) << op.name;
  }
}

TEST(ImportOnnxReal, TruncatedAndCorruptedModelsThrowNamingTheFile) {
  for (const char* name : {"retinaface_mnet025.onnx", "retinaface_mnet025_dyn.onnx"}) {
    const auto path = test::models_dir() / name;
    FACEPIPE_REQUIRE_FILE(path);
    const auto bytes = import_detail::read_file_bytes(path.string());
    for (int k = 0; k < 64; ++k) {
      const std::span<const std::byte> part(bytes.data(), bytes.size() * static_cast<size_t>(k) / 64);
      const std::string message = error_of([&] { import_onnx(part, name).validate(); });
      EXPECT_NE(message.find(name), std::string::npos) << name << " cut " << k << "/64: " << message;
    }
    std::mt19937 rng(99);
    for (int trial = 0; trial < 100; ++trial) {
      auto copy = bytes;
      for (int f = 0; f < 4; ++f) copy[rng() % copy.size()] ^= static_cast<std::byte>(1u << (rng() % 8));
      try {
        import_onnx(copy, name).validate();
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
      }
    }
  }
}

}  // namespace
}  // namespace facepipe::engine
