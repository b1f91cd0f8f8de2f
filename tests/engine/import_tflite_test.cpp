#include <gtest/gtest.h>

#include <map>
#include <random>
#include <span>
#include <string>

#include "common/status.h"
#include "engine/import/flatbuffer_reader.h"
#include "engine/import/import_util.h"
#include "engine/import/model_loader.h"
#include "import_samples.h"
#include "support/test_support.h"

namespace facepipe::engine {
namespace {

using test::Bytes;
namespace samples = test::samples;

std::span<const std::byte> as_bytes(const Bytes& b) { return {reinterpret_cast<const std::byte*>(b.data()), b.size()}; }

std::map<OpType, int> op_counts(const Graph& g) {
  std::map<OpType, int> counts;
  for (const Op& op : g.ops) ++counts[op.type];
  return counts;
}

const Op* find_op(const Graph& g, OpType type) {
  for (const Op& op : g.ops)
    if (op.type == type) return &op;
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

// ---- synthetic models ----------------------------------------------------------------------------

TEST(ImportTflite, ConvModelFoldsFp16WeightsAndMapsOptions) {
  const Bytes file = samples::tflite_conv().build();
  const Graph g = import_tflite(as_bytes(file), "conv.tflite");
  g.validate();
  EXPECT_EQ(g.format, "tflite");
  ASSERT_EQ(g.ops.size(), 3u);  // DEQUANTIZE folded away
  EXPECT_EQ(find_op(g, OpType::kDequantize), nullptr);

  const Op& conv = g.ops[0];
  ASSERT_EQ(conv.type, OpType::kConv2D);
  const auto& a = conv.as<ConvAttrs>();
  EXPECT_EQ(a.padding.mode, PaddingMode::kSame);
  EXPECT_EQ(a.stride_h, 1);
  EXPECT_EQ(a.activation, Activation::kRelu6);
  EXPECT_EQ(a.groups, 1);
  const Tensor& w = g.tensor(conv.inputs[1]);
  EXPECT_EQ(w.name, "conv/w");
  EXPECT_EQ(w.dtype, DType::kF32);
  EXPECT_EQ(w.shape, (Shape{4, 3, 3, 3}));
  const float* wd = g.constant_as<float>(conv.inputs[1]);
  for (int i = 0; i < 108; ++i) ASSERT_FLOAT_EQ(wd[i], 1.0f + static_cast<float>(i % 8) / 8) << i;
  EXPECT_EQ(g.parameter_count(), 108 + 4);  // the f16 source is not kept

  const auto& pool = g.ops[1].as<PoolAttrs>();
  EXPECT_EQ(g.ops[1].type, OpType::kMaxPool2D);
  EXPECT_EQ(pool.padding.mode, PaddingMode::kValid);
  EXPECT_EQ(pool.filter_h, 2);
  EXPECT_EQ(pool.stride_w, 2);
  EXPECT_EQ(g.ops[2].as<ReshapeAttrs>().shape, (std::vector<int64_t>{1, -1}));
  EXPECT_FALSE(g.ops[2].as<ReshapeAttrs>().zero_copies_dim);
}

TEST(ImportTflite, MiscModelTurnsConstantOperandsIntoAttributes) {
  const Bytes file = samples::tflite_misc().build();
  const Graph g = import_tflite(as_bytes(file), "misc.tflite");
  g.validate();
  const Tensor& input = g.tensor(g.inputs[0]);
  EXPECT_EQ(input.shape, (Shape{-1, 6, 6, 2}));  // shape_signature wins
  EXPECT_TRUE(input.shape_known);

  EXPECT_EQ(find_op(g, OpType::kPad)->as<PadAttrs>().pads, (std::vector<int64_t>{0, 0, 1, 1, 2, 2, 0, 0}));
  const auto& dw = find_op(g, OpType::kDepthwiseConv2D)->as<ConvAttrs>();
  EXPECT_EQ(dw.depth_multiplier, 2);
  EXPECT_EQ(dw.activation, Activation::kRelu);
  EXPECT_EQ(find_op(g, OpType::kDepthwiseConv2D)->inputs[2], -1);

  const auto& s = find_op(g, OpType::kSlice)->as<SliceAttrs>();
  EXPECT_EQ(s.axes, (std::vector<int32_t>{0, 1, 2, 3}));
  EXPECT_EQ(s.begin, (std::vector<int64_t>{SliceAttrs::kSliceStart, 1, SliceAttrs::kSliceStart, 1}));
  EXPECT_EQ(s.end, (std::vector<int64_t>{SliceAttrs::kSliceEnd, 7, SliceAttrs::kSliceEnd, 3}));
  EXPECT_EQ(s.strides, (std::vector<int64_t>{1, 1, 2, 1}));
  EXPECT_EQ(find_op(g, OpType::kSlice)->inputs.size(), 1u);

  EXPECT_EQ(find_op(g, OpType::kTranspose)->as<TransposeAttrs>().perm, (std::vector<int32_t>{0, 2, 1, 3}));
  const auto& mean = find_op(g, OpType::kMean)->as<ReduceAttrs>();
  EXPECT_EQ(mean.axes, (std::vector<int32_t>{1, 2}));
  EXPECT_TRUE(mean.keep_dims);

  const Op* resize = find_op(g, OpType::kResize);
  ASSERT_EQ(resize->inputs.size(), 2u);  // the size constant stays an input
  EXPECT_TRUE(g.is_constant(resize->inputs[1]));
  EXPECT_EQ(resize->as<ResizeAttrs>().mode, ResizeMode::kBilinear);
  EXPECT_EQ(resize->as<ResizeAttrs>().coordinates, ResizeCoordinates::kHalfPixel);
  EXPECT_EQ(find_op(g, OpType::kConcat)->as<ConcatAttrs>().axis, -1);
  EXPECT_EQ(find_op(g, OpType::kAdd)->as<BinaryAttrs>().activation, Activation::kRelu);
}

TEST(ImportTflite, UnsupportedOpNamesTheOpAndItsOutput) {
  test::TfliteBuilder b = samples::tflite_conv();
  const int32_t k = b.tensor("k", {}, samples::kI32, test::TfliteBuilder::bytes_of(std::vector<int32_t>{3}));
  const int32_t values = b.tensor("topk_values", {1, 3});
  const int32_t indices = b.tensor("topk_indices", {1, 3}, samples::kI32);
  b.op(samples::kTopKV2, {b.outputs[0], k}, {values, indices});
  b.outputs = {values};
  const Bytes file = b.build();
  const std::string message = error_of([&] { import_tflite(as_bytes(file), "topk.tflite"); });
  EXPECT_NE(message.find("topk.tflite"), std::string::npos) << message;
  EXPECT_NE(message.find("TOPK_V2 (builtin 48)"), std::string::npos) << message;
  EXPECT_NE(message.find("op #4"), std::string::npos) << message;
  EXPECT_NE(message.find("topk_values"), std::string::npos) << message;
}

TEST(ImportTflite, StridedSliceWithEllipsisMaskIsRejected) {
  test::TfliteBuilder b = samples::tflite_misc();
  for (auto& op : b.ops)
    if (op.builtin == samples::kStridedSlice) op.options->scalar<int32_t>(2, 1);
  const Bytes file = b.build();
  const std::string message = error_of([&] { import_tflite(as_bytes(file), "ellipsis.tflite"); });
  EXPECT_NE(message.find("ellipsis_mask"), std::string::npos) << message;
  EXPECT_NE(message.find("STRIDED_SLICE"), std::string::npos) << message;
}

TEST(ImportTflite, ConstantSizeMismatchIsAnError) {
  test::TfliteBuilder b = samples::tflite_conv();
  b.tensors[3].data.resize(10);  // conv/b: 4 floats declared, 10 bytes stored
  const Bytes file = b.build();
  const std::string message = error_of([&] { import_tflite(as_bytes(file), "bias.tflite"); });
  EXPECT_NE(message.find("conv/b"), std::string::npos) << message;
}

TEST(ImportTflite, EveryTruncationOfASyntheticModelThrows) {
  const Bytes file = samples::tflite_misc().build();
  for (size_t cut = 0; cut < file.size(); ++cut) {
    const Bytes part(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(cut));
    const std::string message = error_of([&] { import_tflite(as_bytes(part), "cut.tflite").validate(); });
    EXPECT_NE(message.find("cut.tflite"), std::string::npos) << "cut at " << cut << ": " << message;
  }
}

// ---- real models ---------------------------------------------------------------------------------

struct RealModel {
  const char* spec;  // relative to models_dir()
  std::vector<std::pair<std::string, Shape>> inputs, outputs;
  size_t ops;
  std::map<OpType, int> counts;
  int64_t parameters;
};

const std::vector<RealModel>& real_models() {
  static const std::vector<RealModel> models = {
      {"face_landmarker.task:face_detector.tflite",
       {{"input", {1, 128, 128, 3}}},
       {{"regressors", {1, 896, 16}}, {"classificators", {1, 896, 1}}},
       90,
       {{OpType::kAdd, 16}, {OpType::kConcat, 2}, {OpType::kConv2D, 21}, {OpType::kDepthwiseConv2D, 16},
        {OpType::kMaxPool2D, 3}, {OpType::kPad, 11}, {OpType::kRelu, 17}, {OpType::kReshape, 4}},
       101390},
      {"face_landmarker.task:face_landmarks_detector.tflite",
       {{"input_12", {-1, 256, 256, 3}}},
       {{"Identity", {-1, 1, 1, 1434}}, {"Identity_1", {-1, 1, 1, 1}}, {"Identity_2", {-1, 1}}},
       220,
       {{OpType::kAdd, 34}, {OpType::kConv2D, 72}, {OpType::kDepthwiseConv2D, 34}, {OpType::kLogistic, 1},
        {OpType::kMaxPool2D, 6}, {OpType::kPRelu, 69}, {OpType::kPad, 3}, {OpType::kReshape, 1}},
       1199316},
      {"face_landmarker.task:face_blendshapes.tflite",
       {{"serving_default_input_points:0", {1, 146, 2}}},
       {{"StatefulPartitionedCall:0", {52}}},
       133,
       {{OpType::kAdd, 24}, {OpType::kConcat, 1}, {OpType::kConv2D, 19}, {OpType::kDiv, 1}, {OpType::kLogistic, 1},
        {OpType::kMean, 18}, {OpType::kMul, 26}, {OpType::kNeg, 8}, {OpType::kReshape, 2}, {OpType::kRsqrt, 8},
        {OpType::kSlice, 4}, {OpType::kSqrt, 1}, {OpType::kSquaredDifference, 8}, {OpType::kSub, 1},
        {OpType::kSum, 1}, {OpType::kTranspose, 10}},
       450522},
      {"face_landmark_468.tflite",
       {{"input_1", {1, 192, 192, 3}}},
       {{"conv2d_21", {1, 1, 1, 1404}}, {"conv2d_31", {1, 1, 1, 1}}},
       97,
       {{OpType::kAdd, 20}, {OpType::kConv2D, 25}, {OpType::kDepthwiseConv2D, 20}, {OpType::kMaxPool2D, 6},
        {OpType::kPRelu, 23}, {OpType::kPad, 3}},
       604685},
      {"face_detection_full_range.tflite",
       {{"input", {1, 192, 192, 3}}},
       {{"reshaped_regressor_face_4", {1, 2304, 16}}, {"reshaped_classifier_face_4", {1, 2304, 1}}},
       176,
       {{OpType::kAdd, 23}, {OpType::kConv2D, 49}, {OpType::kDepthwiseConv2D, 40}, {OpType::kMaxPool2D, 4},
        {OpType::kPad, 8}, {OpType::kRelu, 47}, {OpType::kReshape, 2}, {OpType::kResize, 3}},
       514069},
  };
  return models;
}

// Counts operators and DEQUANTIZE ops straight from the flatbuffer, independently of the importer's
// mapping, to check that folding removed exactly the DEQUANTIZE ops.
std::pair<uint32_t, uint32_t> raw_op_counts(const std::vector<std::byte>& bytes) {
  const fb::Buffer buf(bytes, "raw");
  const fb::Table model = buf.root();
  const fb::Vector codes = model.table_vector(1);
  const fb::Table subgraph = model.table_vector(2).table(0);
  const fb::Vector ops = subgraph.table_vector(3);
  uint32_t dequantize = 0;
  for (uint32_t i = 0; i < ops.size(); ++i) {
    const fb::Table code = codes.table(ops.table(i).scalar<uint32_t>(0, 0));
    if (std::max<int32_t>(code.scalar<int8_t>(0, 0), code.scalar<int32_t>(3, 0)) == 6) ++dequantize;
  }
  return {ops.size(), dequantize};
}

class ImportTfliteReal : public ::testing::TestWithParam<size_t> {};

TEST_P(ImportTfliteReal, InputsOutputsOpsAndParameters) {
  const RealModel& m = real_models()[GetParam()];
  const ModelSpec spec = parse_model_spec((test::models_dir() / m.spec).string());
  FACEPIPE_REQUIRE_FILE(spec.path);
  const Graph g = load_graph(spec);
  EXPECT_EQ(g.format, "tflite");
  EXPECT_EQ(g.source, spec.display());
  ASSERT_EQ(g.inputs.size(), m.inputs.size());
  for (size_t i = 0; i < m.inputs.size(); ++i) {
    EXPECT_EQ(g.tensor(g.inputs[i]).name, m.inputs[i].first);
    EXPECT_EQ(g.tensor(g.inputs[i]).shape, m.inputs[i].second) << g.tensor(g.inputs[i]).shape.to_string();
    EXPECT_EQ(g.tensor(g.inputs[i]).dtype, DType::kF32);
  }
  ASSERT_EQ(g.outputs.size(), m.outputs.size());
  for (size_t i = 0; i < m.outputs.size(); ++i) {
    EXPECT_EQ(g.tensor(g.outputs[i]).name, m.outputs[i].first);
    EXPECT_EQ(g.tensor(g.outputs[i]).shape, m.outputs[i].second) << g.tensor(g.outputs[i]).shape.to_string();
  }
  EXPECT_EQ(g.ops.size(), m.ops);
  EXPECT_EQ(op_counts(g), m.counts);
  EXPECT_EQ(g.parameter_count(), m.parameters);

  // Folding: every DEQUANTIZE of the file is gone, and no f16 constant is left behind.
  const auto [raw_ops, raw_dequantize] = raw_op_counts(read_model_bytes(spec));
  EXPECT_GT(raw_dequantize, 0u);
  EXPECT_EQ(g.ops.size(), raw_ops - raw_dequantize);
  for (const Tensor& t : g.tensors) EXPECT_NE(t.dtype, DType::kF16) << t.name;
  // Weight layouts: OHWI conv weights and [1,KH,KW,C*M] depthwise weights, all f32 constants.
  for (const Op& op : g.ops) {
    if (op.type != OpType::kConv2D && op.type != OpType::kDepthwiseConv2D) continue;
    ASSERT_TRUE(g.is_constant(op.inputs[1])) << op.name;
    const Tensor& w = g.tensor(op.inputs[1]);
    EXPECT_EQ(w.dtype, DType::kF32);
    ASSERT_EQ(w.shape.rank(), 4);
    if (op.type == OpType::kDepthwiseConv2D) {
      EXPECT_EQ(w.shape[0], 1) << op.name;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Models, ImportTfliteReal, ::testing::Range<size_t>(0, 5));

TEST(ImportTfliteReal, TruncatedAndCorruptedModelsThrowNamingTheFile) {
  const auto path = test::models_dir() / "face_detection_full_range.tflite";
  FACEPIPE_REQUIRE_FILE(path);
  const auto bytes = import_detail::read_file_bytes(path.string());
  for (int k = 0; k < 64; ++k) {
    const size_t cut = bytes.size() * static_cast<size_t>(k) / 64;
    const std::span<const std::byte> part(bytes.data(), cut);
    const std::string message = error_of([&] { import_tflite(part, "cut.tflite").validate(); });
    EXPECT_NE(message.find("cut.tflite"), std::string::npos) << "cut at " << cut << ": " << message;
  }
  // Flipped bytes in the flatbuffer's structure (the first 16 KiB hold tables and vtables): any
  // outcome but a crash is fine; errors must name the file.
  std::mt19937 rng(1234);
  for (int trial = 0; trial < 200; ++trial) {
    auto copy = bytes;
    for (int f = 0; f < 4; ++f) copy[rng() % 16384] ^= static_cast<std::byte>(1u << (rng() % 8));
    try {
      import_tflite(copy, "flipped.tflite").validate();
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("flipped.tflite"), std::string::npos) << e.what();
    }
  }
}

TEST(ImportTfliteReal, TruncatedTaskMembersThrow) {
  const auto path = test::models_dir() / "face_landmarker.task";
  FACEPIPE_REQUIRE_FILE(path);
  for (const char* member : {"face_detector.tflite", "face_landmarks_detector.tflite", "face_blendshapes.tflite"}) {
    const auto bytes = read_model_bytes({path.string(), member});
    for (int k = 0; k < 64; ++k) {
      const std::span<const std::byte> part(bytes.data(), bytes.size() * static_cast<size_t>(k) / 64);
      const std::string message = error_of([&] { import_tflite(part, member).validate(); });
      EXPECT_NE(message.find(member), std::string::npos) << member << " cut " << k << "/64: " << message;
    }
  }
}

}  // namespace
}  // namespace facepipe::engine
